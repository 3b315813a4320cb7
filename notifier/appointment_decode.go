package notifier

import (
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// recordStrings name the string members of an appointment record, then,
// from patientStrings on, those of its patient.
var recordStrings = [...]string{"id", "facility", "department", "location", "status", "kind", "id", "name", "language", "email", "phone"}

const patientStrings = 6

// Bits of the members parseAppointment has read, after those of
// recordStrings.
const (
	startGiven = 1 << (len(recordStrings) + iota)
	endGiven
	patientGiven
	channelsGiven
)

// parseAppointment decodes the common shape of an appointment record: one
// object of the members of Appointment and Patient, each named exactly as
// its tag and given at most once, with strings where strings belong. It
// reports false for anything else, for decodeRecord to decode or refuse;
// what it accepts, decodeRecord accepts as well, to the same Appointment.
// The replica decodes every record of an import.
func parseAppointment(data []byte) (Appointment, bool) {
	var (
		a       Appointment
		given   uint
		spans   [len(recordStrings)]span
		chanBuf [4]span
		chans   = chanBuf[:0]
	)
	p := recordParser{data: data}
	p.text.Grow(len(data))
	once := func(bit uint) bool {
		ok := given&bit == 0
		given |= bit
		return ok
	}
	patient := func(name []byte) bool {
		if string(name) == "channels" {
			var ok bool
			chans, ok = p.array(chans)
			return ok && once(channelsGiven)
		}
		i := slices.Index(recordStrings[patientStrings:], string(name)) + patientStrings
		return i >= patientStrings && once(1<<i) && p.str(&spans[i])
	}
	ok := p.object(func(name []byte) bool {
		switch string(name) {
		case "start":
			return once(startGiven) && p.time(&a.Start)
		case "end":
			return once(endGiven) && p.time(&a.End)
		case "patient":
			return once(patientGiven) && p.object(patient)
		}
		i := slices.Index(recordStrings[:patientStrings], string(name))
		return i >= 0 && once(1<<i) && p.str(&spans[i])
	})
	if p.space(); !ok || p.i != len(data) {
		return Appointment{}, false
	}

	text := p.text.String()
	for i, dst := range [...]*string{&a.ID, &a.Facility, &a.Department, &a.Location, &a.Status, &a.Kind,
		&a.Patient.ID, &a.Patient.Name, &a.Patient.Language, &a.Patient.Email, &a.Patient.Phone} {
		*dst = text[spans[i].from:spans[i].to]
	}
	if given&channelsGiven != 0 {
		a.Patient.Channels = make([]string, len(chans))
		for i, s := range chans {
			a.Patient.Channels[i] = text[s.from:s.to]
		}
	}
	return a, true
}

// recordParser reads a record's JSON, keeping the string values, unescaped,
// one after another in text.
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

// next skips whitespace and reads c, if c is next.
func (p *recordParser) next(c byte) bool {
	p.space()
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
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
	if p.i >= len(p.data) || p.data[p.i] != '"' {
		return nil, false
	}
	for i := p.i + 1; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			name := p.data[p.i+1 : i]
			p.i = i + 1
			return name, true
		case c < ' ' || c == '\\' || c >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

// array reads an array of strings, appending their spans to list.
func (p *recordParser) array(list []span) ([]span, bool) {
	if !p.next('[') {
		return list, false
	}
	if p.next(']') {
		return list, true
	}
	for {
		p.space()
		var s span
		if !p.str(&s) {
			return list, false
		}
		list = append(list, s)
		if p.next(']') {
			return list, true
		}
		if !p.next(',') {
			return list, false
		}
	}
}

// time reads a time as encoding/json does, which hands the string literal
// as it is to time.Time.UnmarshalJSON. A literal with an escape, a control
// or a non-ASCII byte is never a valid time, and is left to encoding/json.
func (p *recordParser) time(t *time.Time) bool {
	if p.i >= len(p.data) || p.data[p.i] != '"' {
		return false
	}
	for i := p.i + 1; i < len(p.data); i++ {
		switch c := p.data[i]; {
		case c == '"':
			if t.UnmarshalJSON(p.data[p.i:i+1]) != nil {
				return false
			}
			p.i = i + 1
			return true
		case c < ' ' || c == '\\' || c >= utf8.RuneSelf:
			return false
		}
	}
	return false
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
