package notifier

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendRecord writes the records of the hot paths by hand, to the bytes
// encoding/json writes without HTML escaping. It reports false for any
// other value, and for a record encoding/json would fail on, for
// EncodeJSON to hand them to encoding/json.
func appendRecord(v any) ([]byte, bool) {
	switch r := v.(type) {
	case *Appointment:
		if r != nil {
			return appendAppointment(make([]byte, 0, r.recordSize()), r)
		}
	case Appointment:
		return appendAppointment(make([]byte, 0, r.recordSize()), &r)
	case *Notice:
		if r != nil {
			return appendNotice(make([]byte, 0, r.recordSize()), r)
		}
	case Notice:
		return appendNotice(make([]byte, 0, r.recordSize()), &r)
	case *Delivery:
		if r != nil {
			return appendDelivery(make([]byte, 0, r.recordSize()), r)
		}
	case Delivery:
		return appendDelivery(make([]byte, 0, r.recordSize()), &r)
	case *PlannedNotice:
		if r != nil {
			return appendPlannedNotice(make([]byte, 0, r.recordSize()), r)
		}
	case PlannedNotice:
		return appendPlannedNotice(make([]byte, 0, r.recordSize()), &r)
	}
	return nil, false
}

// appendPatient appends p's object.
func appendPatient(b []byte, p *Patient) []byte {
	b = appendMember(b, `{"id":`, p.ID)
	b = appendOptional(b, `,"name":`, p.Name)
	b = appendOptional(b, `,"language":`, p.Language)
	b = appendOptional(b, `,"email":`, p.Email)
	b = appendOptional(b, `,"phone":`, p.Phone)
	if len(p.Channels) > 0 {
		b = appendStringList(append(b, `,"channels":`...), p.Channels)
	}
	return append(b, '}')
}

// patientSize is a capacity for p's object that escapes rarely exceed.
func (p *Patient) patientSize() int {
	n := 80 + len(p.ID) + len(p.Name) + len(p.Language) + len(p.Email) + len(p.Phone)
	for _, c := range p.Channels {
		n += len(c) + 3
	}
	return n
}

// appendStringList appends list as an array, or null when it is nil.
func appendStringList(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// listSize is a capacity for list's array that escapes rarely exceed.
func listSize(list []string) int {
	n := 4
	for _, s := range list {
		n += len(s) + 3
	}
	return n
}

// appendMember appends the member name and s.
func appendMember(b []byte, name, s string) []byte {
	return appendJSONString(append(b, name...), s)
}

// appendTime appends the member name and t, or reports false where
// MarshalJSON fails.
func appendTime(b []byte, name string, t time.Time) ([]byte, bool) {
	return appendJSONTime(append(b, name...), t)
}

// appendList appends list as an array, or null when it is nil, write
// writing each element; it reports false where write does.
func appendList[T any](b []byte, list []T, write func([]byte, *T) ([]byte, bool)) ([]byte, bool) {
	if list == nil {
		return append(b, "null"...), true
	}
	b = append(b, '[')
	for i := range list {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = write(b, &list[i]); !ok {
			return nil, false
		}
	}
	return append(b, ']'), true
}

// appendInt appends the member name and n, unless omit and n is 0.
func appendInt(b []byte, name string, n int, omit bool) []byte {
	if omit && n == 0 {
		return b
	}
	return strconv.AppendInt(append(b, name...), int64(n), 10)
}

// appendOptional appends a member of an omitempty string field.
func appendOptional(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendMember(b, name, s)
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
