package email

import (
	"strings"
)

// Line lengths of a header field, as go-message folds them: at white space
// before the preferred length, else before the longest a line may be.
const (
	preferredHeaderLen = 76
	maxHeaderLen       = 998
)

// appendField appends the header field "key: value", folded as go-message's
// textproto.WriteHeader folds it. value must not contain CR or LF.
func appendField(b []byte, key, value string) []byte {
	b = append(b, key...)
	b = append(b, ": "...)
	if value == "" {
		return append(b, "\r\n"...)
	}
	keyLen := len(key) + 2
	for len(value) > 0 {
		at, fold, ok := foldLine(value, preferredHeaderLen-keyLen)
		if !ok {
			at, fold, _ = foldLine(value, maxHeaderLen-keyLen)
		}
		b = append(b, value[:at]...)
		b = append(b, fold...)
		value = value[at:]
		keyLen = 0
	}
	return b
}

// foldLine is where go-message ends the next line of a header field's value
// v, at most maxLen long, and what it inserts there; ok is false when it has
// to insert a space that changes the value. v has no line breaks:
// go-message refuses them.
func foldLine(v string, maxLen int) (at int, fold string, ok bool) {
	foldBefore := maxLen + 1
	if foldBefore > len(v) {
		return len(v), "\r\n", true
	}
	at = strings.LastIndexAny(v[:foldBefore], " \t")
	switch {
	case at == 0:
		// The space found is the previous fold's.
		at = foldBefore - 1
	case at < 0:
		at = foldBefore - 2
	}
	if v[at] == ' ' || v[at] == '\t' {
		return at, "\r\n", true
	}
	return at, "\r\n ", false
}

// appendQuotedPrintable appends s encoded as mime/quotedprintable's Writer
// encodes text, with every line break, CRLF, LF or a lone CR, written as
// CRLF: that Writer would write a lone CR as CRLF too, but then drop the
// next LF if a byte it has to encode comes in between.
func appendQuotedPrintable(b []byte, s string) []byte {
	const upperhex = "0123456789ABCDEF"
	col := 0 // bytes in the current line
	for i := 0; i < len(s); {
		c := s[i]
		if literal[c] {
			if col == lineMaxLen-1 {
				b = append(b, "=\r\n"...)
				col = 0
			}
			// The run of bytes written as they are, up to the line's end.
			j, end := i+1, min(len(s), i+lineMaxLen-1-col)
			for j < end && literal[s[j]] {
				j++
			}
			b = append(b, s[i:j]...)
			col += j - i
			i = j
			continue
		}
		i++
		if c == '\r' || c == '\n' {
			if c == '\r' && i < len(s) && s[i] == '\n' {
				i++
			}
			b, col = encodeLastSpace(b, col)
			b = append(b, "\r\n"...)
			col = 0
			continue
		}
		if col > lineMaxLen-4 {
			b = append(b, "=\r\n"...)
			col = 0
		}
		b = append(b, '=', upperhex[c>>4], upperhex[c&0x0f])
		col += 3
	}
	b, _ = encodeLastSpace(b, col)
	return b
}

// lineMaxLen is the longest line of quoted-printable text, without its
// CRLF.
const lineMaxLen = 76

// literal holds the bytes quoted-printable text carries as they are.
var literal = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '='
	}
	t[' '], t['\t'] = true, true
	return t
}()

// encodeLastSpace encodes a space or tab that ends a line of
// quoted-printable text, col bytes long, which readers would drop.
func encodeLastSpace(b []byte, col int) ([]byte, int) {
	if col == 0 {
		return b, col
	}
	c := b[len(b)-1]
	if c != ' ' && c != '\t' {
		return b, col
	}
	b, col = b[:len(b)-1], col-1
	if col > lineMaxLen-4 {
		b = append(b, "=\r\n"...)
		col = 0
	}
	if c == ' ' {
		return append(b, "=20"...), col + 3
	}
	return append(b, "=09"...), col + 3
}
