package hl7

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Acknowledgement codes (HL7 table 0008, original mode).
const (
	AA = "AA" // accepted: the record is stored
	AE = "AE" // error: the message cannot be used as it is
	AR = "AR" // rejected: a message type this listener does not take
)

// HL7 table 0357 error codes.
const (
	errRequiredMissing = "101"
	errDataType        = "102"
	errUnsupportedType = "200"
	errApplication     = "207"
)

// Ack writes the acknowledgement of m with code; for AE and AR it says why
// in MSA-3 and an ERR segment (the place in ERR-1 as v2.3 writes it and in
// ERR-2 as v2.5 does, the code of table 0357 in ERR-3). m may be nil when
// the input was not a message at all.
func Ack(m *Message, code string, why error, now time.Time) []byte {
	enc := encoding{field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&'}
	var sendApp, sendFac, recvApp, recvFac, control, version, trigger string
	if m != nil {
		enc = m.enc
		sendApp, sendFac = m.Field("MSH", 5), m.Field("MSH", 6)
		recvApp, recvFac = m.Field("MSH", 3), m.Field("MSH", 4)
		control, version = m.Field("MSH", 10), m.Field("MSH", 12)
		_, trigger = m.Type()
	}
	if version == "" {
		version = "2.5"
	}
	f, c := string(enc.field), string(enc.component)
	chars := string([]byte{enc.component, enc.repetition, enc.escape, enc.subcomponent})
	stamp := now.UTC().Format("20060102150405") + "+0000"
	var b strings.Builder
	fmt.Fprintf(&b, "MSH%s%s%s%s%s%s%s%s%s%s%s%s%s%sACK%s%s%sACK%s%s%sP%s%s\r",
		f, chars, f, sendApp, f, sendFac, f, recvApp, f, recvFac, f, stamp, f, f, c, enc.escapeText(trigger), c, f,
		enc.escapeText("ACK"+now.UTC().Format("20060102150405.000000")), f, f, version)
	text := ""
	if why != nil {
		text = enc.escapeText(truncate(why.Error(), 200))
	}
	fmt.Fprintf(&b, "MSA%s%s%s%s%s%s\r", f, code, f, control, f, text)
	if code != AA && why != nil {
		place, errCode := "", errApplication
		var fe *FieldError
		switch {
		case errors.As(why, &fe):
			place, errCode = fe.Place, errDataType
			if strings.Contains(fe.Reason, "required") || strings.HasPrefix(fe.Reason, "no ") {
				errCode = errRequiredMissing
			}
		case errors.Is(why, ErrUnsupported):
			place, errCode = "MSH-9", errUnsupportedType
		}
		loc1, loc2 := "", ""
		if p, err := ParsePath(place); err == nil {
			loc1 = p.Segment + c + "1" + c + fmt.Sprint(p.Field)
			loc2 = loc1
			if p.Component > 0 {
				loc2 += c + "1" + c + fmt.Sprint(p.Component)
			}
		} else if len(place) == 3 {
			loc1, loc2 = place, place
		}
		fmt.Fprintf(&b, "ERR%s%s%s%s%s%s%s%s%sHL70357%sE%s%s%s%s\r", f, loc1, f, loc2, f, errCode, c, text, c, f, f, f, f, text)
	}
	return []byte(b.String())
}

// AckCode reads the code of an acknowledgement (MSA-1) and its text.
func AckCode(raw []byte) (code, text string, err error) {
	m, err := Parse(raw)
	if err != nil {
		return "", "", err
	}
	code = m.Field("MSA", 1)
	if code == "" {
		return "", "", errors.New("not an acknowledgement: no MSA-1")
	}
	return code, m.Unescape(m.Field("MSA", 3)), nil
}
