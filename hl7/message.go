// Package hl7 reads HL7 v2 messages (versions 2.3 to 2.5.1) as hospital
// scheduling systems and interface engines send them over MLLP, maps SIU
// scheduling messages to appointment records, and writes the ACKs.
//
// Only what the mapping needs is parsed: segments, fields, repetitions,
// components and sub-components with the separators MSH-1 and MSH-2
// declare, the escape sequences of chapter 2 (\F\ \S\ \T\ \R\ \E\ \Xhh\,
// line breaks), and the character sets of MSH-18 (ASCII, 8859/1, UNICODE
// UTF-8). The parser is fuzzed; it never panics on any input.
package hl7

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// MaxMessageSize is the largest message accepted by default, in bytes.
const MaxMessageSize = 1 << 20

// maxSegments bounds the segments of one message.
const maxSegments = 10000

// Message is a parsed HL7 v2 message.
type Message struct {
	Segments []Segment
	enc      encoding
}

// Segment is one segment: its name (MSH, PID, ...) and its fields as
// written, escapes and separators still in them. For MSH, field 1 is the
// field separator and field 2 the encoding characters, as the standard
// counts them.
type Segment struct {
	Name   string
	Fields []string
}

// encoding holds the separators a message declares in MSH.
type encoding struct {
	field, component, repetition, escape, subcomponent byte
}

// ErrNotHL7 is returned for input that does not start with an MSH segment.
var ErrNotHL7 = errors.New("not an HL7 v2 message: it must start with an MSH segment")

// Parse reads one message. Segments may end in CR (the standard), LF or
// CRLF. The text is decoded from the character set MSH-18 names into
// UTF-8; an unknown character set is an error.
func Parse(raw []byte) (*Message, error) {
	if len(raw) > MaxMessageSize {
		return nil, fmt.Errorf("message is %d bytes, at most %d allowed", len(raw), MaxMessageSize)
	}
	raw = bytes.TrimLeft(raw, "\r\n\t ")
	enc, err := separators(raw)
	if err != nil {
		return nil, err
	}
	text, err := decode(raw, enc)
	if err != nil {
		return nil, err
	}
	m := &Message{enc: enc}
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(m.Segments) == maxSegments {
			return nil, fmt.Errorf("more than %d segments", maxSegments)
		}
		seg, err := segment(line, enc)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", len(m.Segments)+1, err)
		}
		m.Segments = append(m.Segments, seg)
	}
	if len(m.Segments) == 0 || m.Segments[0].Name != "MSH" {
		return nil, ErrNotHL7
	}
	return m, nil
}

// ParseHeader reads only the MSH segment of a message Parse refuses, so
// that its acknowledgement can still name the sender and echo the control
// id (MSH-10). It returns nil when not even MSH can be read. Bytes that are
// not UTF-8 are read as 8859/1.
func ParseHeader(raw []byte) *Message {
	raw = bytes.TrimLeft(raw, "\r\n\t ")
	enc, err := separators(raw)
	if err != nil {
		return nil
	}
	if i := bytes.IndexAny(raw, "\r\n"); i >= 0 {
		raw = raw[:i]
	}
	line := string(raw)
	if !utf8.Valid(raw) {
		b, _ := charmap.ISO8859_1.NewDecoder().Bytes(raw)
		line = string(b)
	}
	seg, err := segment(line, enc)
	if err != nil {
		return nil
	}
	return &Message{Segments: []Segment{seg}, enc: enc}
}

// segment splits one segment's line into its name and fields.
func segment(line string, enc encoding) (Segment, error) {
	parts := strings.Split(line, string(enc.field))
	name := parts[0]
	if len(name) != 3 || !isSegmentName(name) {
		return Segment{}, errors.New("does not start with a segment name (three capital letters or digits)")
	}
	if name == "MSH" {
		// MSH-1 is the separator itself, MSH-2 the encoding characters.
		return Segment{Name: name, Fields: append([]string{string(enc.field)}, parts[1:]...)}, nil
	}
	return Segment{Name: name, Fields: parts[1:]}, nil
}

// separators reads the separators MSH-1 and MSH-2 declare.
func separators(raw []byte) (encoding, error) {
	if len(raw) < 8 || string(raw[:3]) != "MSH" {
		return encoding{}, ErrNotHL7
	}
	enc := encoding{field: raw[3], component: '^', repetition: '~', escape: '\\', subcomponent: '&'}
	// MSH-2: the encoding characters, up to the next field separator.
	end := bytes.IndexByte(raw[4:], enc.field)
	if end < 0 {
		return enc, errors.New("MSH: no encoding characters (MSH-2)")
	}
	chars := raw[4 : 4+end]
	if len(chars) < 2 || len(chars) > 5 {
		return enc, fmt.Errorf("MSH-2: %d encoding characters, want 4", len(chars))
	}
	for i, c := range chars {
		switch i {
		case 0:
			enc.component = c
		case 1:
			enc.repetition = c
		case 2:
			enc.escape = c
		case 3:
			enc.subcomponent = c
		}
	}
	seps := []byte{enc.field, enc.component, enc.repetition, enc.escape, enc.subcomponent}
	for i, c := range seps {
		if c == '\r' || c == '\n' || c < ' ' || c > '~' || bytes.IndexByte(seps[i+1:], c) >= 0 {
			return enc, errors.New("MSH-1/MSH-2: the separators must be distinct printable characters")
		}
	}
	return enc, nil
}

// decode turns the message's bytes into UTF-8 text, as MSH-18 says they are
// written (ASCII, 8859/1 or UNICODE UTF-8; empty means ASCII, read as
// UTF-8 since ASCII is a part of it).
func decode(raw []byte, enc encoding) (string, error) {
	firstLine := raw
	if i := bytes.IndexAny(raw, "\r\n"); i >= 0 {
		firstLine = raw[:i]
	}
	fields := bytes.Split(firstLine, []byte{enc.field})
	charset := ""
	if len(fields) > 17 { // MSH-18 is the 18th field, the 17th after the name
		charset = strings.ToUpper(strings.TrimSpace(string(bytes.SplitN(fields[17], []byte{enc.repetition}, 2)[0])))
	}
	switch charset {
	case "", "ASCII", "UNICODE UTF-8", "UTF-8", "UNICODE":
		if !utf8.Valid(raw) {
			return "", &FieldError{"MSH-18", fmt.Sprintf("the message is not valid %s", cmp.Or(charset, "ASCII or UTF-8"))}
		}
		return string(raw), nil
	case "8859/1":
		out, err := charmap.ISO8859_1.NewDecoder().Bytes(raw)
		if err != nil {
			return "", fmt.Errorf("MSH-18: %w", err)
		}
		return string(out), nil
	case "8859/15":
		out, err := charmap.ISO8859_15.NewDecoder().Bytes(raw)
		if err != nil {
			return "", fmt.Errorf("MSH-18: %w", err)
		}
		return string(out), nil
	}
	return "", &FieldError{"MSH-18", fmt.Sprintf("character set %q is not supported (ASCII, 8859/1, 8859/15, UNICODE UTF-8)", truncate(charset, 20))}
}

func isSegmentName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Segment returns the first segment with the name, or nil.
func (m *Message) Segment(name string) *Segment {
	for i := range m.Segments {
		if m.Segments[i].Name == name {
			return &m.Segments[i]
		}
	}
	return nil
}

// Field returns field n of the first segment called seg, 1-based as the
// standard counts (MSH-9 is the message type), or "" when absent: raw, with
// its repetitions, components and escapes.
func (m *Message) Field(seg string, n int) string {
	s := m.Segment(seg)
	if s == nil || n < 1 || n > len(s.Fields) {
		return ""
	}
	return s.Fields[n-1]
}

// Repetitions splits a field into its repetitions.
func (m *Message) Repetitions(field string) []string {
	if field == "" {
		return nil
	}
	return strings.Split(field, string(m.enc.repetition))
}

// Component returns component c (1-based) of a field's first repetition,
// or of the repetition given, unescaped; sub-components stay joined by
// the sub-component separator unless Sub is used.
func (m *Message) Component(rep string, c int) string {
	parts := strings.Split(rep, string(m.enc.component))
	if c < 1 || c > len(parts) {
		return ""
	}
	return m.Unescape(parts[c-1])
}

// Sub returns sub-component s (1-based) of component c, unescaped.
func (m *Message) Sub(rep string, c, s int) string {
	parts := strings.Split(rep, string(m.enc.component))
	if c < 1 || c > len(parts) {
		return ""
	}
	subs := strings.Split(parts[c-1], string(m.enc.subcomponent))
	if s < 1 || s > len(subs) {
		return ""
	}
	return m.Unescape(subs[s-1])
}

// Value reads a place such as "PID-5.2" or "AIL-3.4.1" (segment, field,
// component, sub-component; the first repetition), unescaped.
func (m *Message) Value(path Path) string {
	rep := m.Field(path.Segment, path.Field)
	if reps := m.Repetitions(rep); len(reps) > 0 {
		rep = reps[0]
	}
	switch {
	case path.Component == 0:
		return m.Unescape(rep)
	case path.Sub == 0:
		return m.Component(rep, path.Component)
	}
	return m.Sub(rep, path.Component, path.Sub)
}

// Unescape resolves the escape sequences of a value: \F\ \S\ \T\ \R\ \E\
// stand for the separators, \Xhh..\ for bytes written in hex (read as
// UTF-8, else as 8859/1), \.br\ for a line break; the highlighting and
// character-set escapes (\H\ \N\ \Cxx\ \Mxx\ \Zxx\) are dropped.
func (m *Message) Unescape(s string) string {
	e := m.enc.escape
	if strings.IndexByte(s, e) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != e {
			b.WriteByte(s[i])
			continue
		}
		j := strings.IndexByte(s[i+1:], e)
		if j < 0 {
			b.WriteString(s[i:]) // an unterminated escape: as written
			break
		}
		seq := s[i+1 : i+1+j]
		i += j + 1
		switch {
		case seq == "F":
			b.WriteByte(m.enc.field)
		case seq == "S":
			b.WriteByte(m.enc.component)
		case seq == "T":
			b.WriteByte(m.enc.subcomponent)
		case seq == "R":
			b.WriteByte(m.enc.repetition)
		case seq == "E":
			b.WriteByte(e)
		case seq == ".br":
			b.WriteByte('\n')
		case len(seq) > 1 && seq[0] == 'X':
			b.WriteString(hexText(seq[1:]))
		}
	}
	return b.String()
}

// hexText reads the bytes of a \Xhh..\ escape as text.
func hexText(h string) string {
	var raw []byte
	for i := 0; i+1 < len(h); i += 2 {
		v, err := strconv.ParseUint(h[i:i+2], 16, 8)
		if err != nil {
			return ""
		}
		raw = append(raw, byte(v))
	}
	if utf8.Valid(raw) {
		return string(raw)
	}
	out, _ := charmap.ISO8859_1.NewDecoder().Bytes(raw)
	return string(out)
}

// Path names a place in a message: segment, field, component and
// sub-component, written as in the standard ("AIL-3.4").
type Path struct {
	Segment               string
	Field, Component, Sub int
}

// ParsePath reads "SEG-f[.c[.s]]".
func ParsePath(s string) (Path, error) {
	var p Path
	seg, rest, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok || len(seg) != 3 || !isSegmentName(seg) {
		return p, fmt.Errorf("%q is not a place such as AIL-3.4", s)
	}
	p.Segment = seg
	nums := strings.Split(rest, ".")
	if len(nums) > 3 {
		return p, fmt.Errorf("%q is not a place such as AIL-3.4", s)
	}
	for i, n := range nums {
		v, err := strconv.Atoi(n)
		if err != nil || v < 1 || v > 999 {
			return p, fmt.Errorf("%q is not a place such as AIL-3.4", s)
		}
		switch i {
		case 0:
			p.Field = v
		case 1:
			p.Component = v
		case 2:
			p.Sub = v
		}
	}
	return p, nil
}

// String writes the path as the standard does.
func (p Path) String() string {
	s := fmt.Sprintf("%s-%d", p.Segment, p.Field)
	if p.Component > 0 {
		s += fmt.Sprintf(".%d", p.Component)
	}
	if p.Sub > 0 {
		s += fmt.Sprintf(".%d", p.Sub)
	}
	return s
}

// Escape writes text for a field, escaping the separators.
func (m *Message) Escape(s string) string {
	return m.enc.escapeText(s)
}

func (enc encoding) escapeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case enc.escape:
			b.WriteString(string(enc.escape) + "E" + string(enc.escape))
		case enc.field:
			b.WriteString(string(enc.escape) + "F" + string(enc.escape))
		case enc.component:
			b.WriteString(string(enc.escape) + "S" + string(enc.escape))
		case enc.subcomponent:
			b.WriteString(string(enc.escape) + "T" + string(enc.escape))
		case enc.repetition:
			b.WriteString(string(enc.escape) + "R" + string(enc.escape))
		case '\r', '\n':
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
