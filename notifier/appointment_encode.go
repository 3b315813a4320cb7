package notifier

import (
	"time"
	"unicode/utf8"
)

// appendAppointment appends a's record exactly as encoding/json writes it
// without HTML escaping: the publishers encode every appointment of an
// import. It reports false when a time has no RFC 3339 form, for
// encoding/json to give its error.
func appendAppointment(b []byte, a *Appointment) ([]byte, bool) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, a.ID)
	b = append(b, `,"facility":`...)
	b = appendJSONString(b, a.Facility)
	b = appendOptional(b, `,"department":`, a.Department)
	b = appendOptional(b, `,"location":`, a.Location)
	b = append(b, `,"start":`...)
	b, ok := appendJSONTime(b, a.Start)
	if !ok {
		return nil, false
	}
	if !a.End.IsZero() {
		b = append(b, `,"end":`...)
		if b, ok = appendJSONTime(b, a.End); !ok {
			return nil, false
		}
	}
	b = append(b, `,"status":`...)
	b = appendJSONString(b, a.Status)
	b = appendOptional(b, `,"kind":`, a.Kind)

	p := &a.Patient
	b = append(b, `,"patient":{"id":`...)
	b = appendJSONString(b, p.ID)
	b = appendOptional(b, `,"name":`, p.Name)
	b = appendOptional(b, `,"language":`, p.Language)
	b = appendOptional(b, `,"email":`, p.Email)
	b = appendOptional(b, `,"phone":`, p.Phone)
	if len(p.Channels) > 0 {
		b = append(b, `,"channels":[`...)
		for i, c := range p.Channels {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, c)
		}
		b = append(b, ']')
	}
	return append(b, "}}"...), true
}

// recordSize is a capacity for a's record that escapes rarely exceed.
func (a *Appointment) recordSize() int {
	p := &a.Patient
	n := 256 + len(a.ID) + len(a.Facility) + len(a.Department) + len(a.Location) + len(a.Status) + len(a.Kind) +
		len(p.ID) + len(p.Name) + len(p.Language) + len(p.Email) + len(p.Phone)
	for _, c := range p.Channels {
		n += len(c) + 3
	}
	return n
}

// appendOptional appends a member of an omitempty string field.
func appendOptional(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, name...), s)
}

// appendJSONTime appends t as time.Time.MarshalJSON writes it, or reports
// false where MarshalJSON fails.
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return nil, false
	}
	return append(b, '"'), true
}

// appendJSONString appends s quoted as encoding/json quotes it without HTML
// escaping: invalid UTF-8 becomes U+FFFD, and U+2028 and U+2029 are
// escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
