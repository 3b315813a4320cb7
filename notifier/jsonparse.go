package notifier

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// recordParser reads the common shape of a record's JSON exactly, for the
// records decoded by the thousand (appointments, notices, outcomes, plan
// records): members named exactly as their tags, each given at most once,
// values of their fields' types, no nulls. Its readers report false on
// anything else, for encoding/json to decode or refuse; what they accept,
// encoding/json accepts as well, to the same value. The string values are
// kept, unescaped, one after another in text, which the strings read
// share.
type recordParser struct {
	data []byte
	i    int
	text strings.Builder
}

// span is a string value's place in recordParser.text.
type span struct{ from, to int }

// space skips JSON whitespace.
func (p *recordParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// end skips whitespace and reports whether the data ends there.
func (p *recordParser) end() bool {
	p.space()
	return p.i == len(p.data)
}

// next skips whitespace and reads c, if c is next.
func (p *recordParser) next(c byte) bool {
	p.space()
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

// members reads an object whose member names are each one of names, given
// at most once (names has at most 64), calling read with the name to read
// its value.
func (p *recordParser) members(names []string, read func(name string) bool) bool {
	var given uint64
	return p.object(func(name []byte) bool {
		for i, s := range names {
			if s == string(name) {
				if given&(1<<i) != 0 {
					return false
				}
				given |= 1 << i
				return read(s)
			}
		}
		return false
	})
}

// object reads an object whose member names are printable ASCII without
// escapes, calling member to read each member's value.
func (p *recordParser) object(member func(name []byte) bool) bool {
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	for {
		p.space()
		name, ok := p.name()
		if !ok || !p.next(':') {
			return false
		}
		p.space()
		if !member(name) {
			return false
		}
		if p.next('}') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

// name reads a member name.
func (p *recordParser) name() ([]byte, bool) {
	lit, ok := p.plain()
	if !ok {
		return nil, false
	}
	return lit[1 : len(lit)-1], true
}

// plain reads a string literal of printable ASCII without escapes, and
// returns it with its quotes.
func (p *recordParser) plain() ([]byte, bool) {
	if p.i >= len(p.data) || p.data[p.i] != '"' {
		return nil, false
	}
	for i := p.i + 1; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			lit := p.data[p.i : i+1]
			p.i = i + 1
			return lit, true
		case c < ' ' || c == '\\' || c >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

// elements reads an array, calling read to read each element.
func (p *recordParser) elements(read func() bool) bool {
	if !p.next('[') {
		return false
	}
	if p.next(']') {
		return true
	}
	for {
		p.space()
		if !read() {
			return false
		}
		if p.next(']') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

// stringList reads an array of strings into *dst: an empty one, as
// encoding/json reads it, is not nil.
func (p *recordParser) stringList(dst *[]string) bool {
	var buf [8]span
	list := buf[:0]
	ok := p.elements(func() bool {
		var s span
		ok := p.str(&s)
		list = append(list, s)
		return ok
	})
	if !ok {
		return false
	}
	text := p.text.String()
	*dst = make([]string, len(list))
	for i, s := range list {
		(*dst)[i] = text[s.from:s.to]
	}
	return true
}

// time reads a time as encoding/json does, which hands the string literal
// as it is to time.Time.UnmarshalJSON. A literal with an escape, a control
// or a non-ASCII byte is never a valid time, and is left to encoding/json.
func (p *recordParser) time(t *time.Time) bool {
	lit, ok := p.plain()
	return ok && t.UnmarshalJSON(lit) == nil
}

// integer reads a number that is an integer in int's range, as
// encoding/json reads it into an int. A fraction or an exponent is not
// read, and so fails the object or the array around it: encoding/json
// refuses it or reads it otherwise.
func (p *recordParser) integer(n *int) bool {
	d, i := p.data, p.i
	if i < len(d) && d[i] == '-' {
		i++
	}
	digits := i
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	if i == digits || d[digits] == '0' && i > digits+1 {
		return false
	}
	v, err := strconv.ParseInt(string(d[p.i:i]), 10, strconv.IntSize)
	if err != nil {
		return false
	}
	*n, p.i = int(v), i
	return true
}

// boolean reads true or false.
func (p *recordParser) boolean(b *bool) bool {
	rest := p.data[p.i:]
	switch {
	case bytes.HasPrefix(rest, []byte("true")):
		*b, p.i = true, p.i+len("true")
	case bytes.HasPrefix(rest, []byte("false")):
		*b, p.i = false, p.i+len("false")
	default:
		return false
	}
	return true
}

// string reads a string into *s.
func (p *recordParser) string(s *string) bool {
	var sp span
	if !p.str(&sp) {
		return false
	}
	*s = p.text.String()[sp.from:sp.to]
	return true
}

// str reads a string, unescaped as encoding/json unescapes it: an invalid
// UTF-8 byte and an unpaired surrogate become U+FFFD.
func (p *recordParser) str(s *span) bool {
	d, i := p.data, p.i
	if i >= len(d) || d[i] != '"' {
		return false
	}
	s.from = p.text.Len()
	i++
	plain := i // the start of the bytes to copy as they are
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.text.Write(d[plain:i])
			s.to = p.text.Len()
			p.i = i + 1
			return true
		case c < ' ':
			return false
		case c == '\\':
			p.text.Write(d[plain:i])
			if i = p.escape(i); i < 0 {
				return false
			}
			plain = i
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				p.text.Write(d[plain:i])
				p.text.WriteRune(utf8.RuneError)
				plain = i + 1
			}
			i += size
		}
	}
	return false
}

// escape writes the character of the escape at data[i] and returns the
// index after it, or -1 when it is not a JSON escape.
func (p *recordParser) escape(i int) int {
	d := p.data
	if i+1 >= len(d) {
		return -1
	}
	switch d[i+1] {
	case '"', '\\', '/':
		p.text.WriteByte(d[i+1])
	case 'b':
		p.text.WriteByte('\b')
	case 'f':
		p.text.WriteByte('\f')
	case 'n':
		p.text.WriteByte('\n')
	case 'r':
		p.text.WriteByte('\r')
	case 't':
		p.text.WriteByte('\t')
	case 'u':
		r := hex4(d, i+2)
		if r < 0 {
			return -1
		}
		i += 6
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if i+1 < len(d) && d[i] == '\\' && d[i+1] == 'u' {
				r2 = hex4(d, i+2)
			}
			if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
				i += 6
			}
		}
		p.text.WriteRune(r)
		return i
	default:
		return -1
	}
	return i + 2
}

// hex4 is the value of the four hexadecimal digits at d[i:], or -1.
func hex4(d []byte, i int) rune {
	if i+4 > len(d) {
		return -1
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
