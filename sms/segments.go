// Package sms counts what a text costs as SMS: which encoding a phone
// network will use for it and how many messages (segments) it takes.
//
// A text travels in the GSM 03.38 7-bit default alphabet (GSM-7) when every
// character is in it, and in UCS-2 otherwise; one character outside GSM-7,
// such as a Turkish ş or a typographic dash, turns the whole text into UCS-2
// and cuts a single message from 160 characters to 70. National language
// shift tables (3GPP TS 23.038), which would keep Turkish in 7 bits, are not
// counted: few gateways use them, and the count must not promise less than
// the network bills.
package sms

import "unicode/utf16"

// Encodings, as Segments names them.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Capacities of one SMS, in GSM-7 septets or UTF-16 code units. A text that
// needs more is sent as a concatenated SMS, whose parts each give up room
// for the header that joins them.
const (
	GSM7Single = 160
	GSM7Part   = 153
	UCS2Single = 70
	UCS2Part   = 67
)

// gsm7Basic is the default alphabet of GSM 03.38: one septet each. Escape
// (0x1B) is left out, as it only introduces the extension table.
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
	" !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsm7Extension is the extension table: two septets each, escape and the
// character.
const gsm7Extension = "\f^{}\\[~]|€"

// septets holds every GSM-7 character with its cost.
var septets = func() map[rune]int {
	m := make(map[rune]int, 138)
	for _, r := range gsm7Basic {
		m[r] = 1
	}
	for _, r := range gsm7Extension {
		m[r] = 2
	}
	return m
}()

// Segments returns the encoding text is sent in, GSM7 or UCS2, and how many
// SMS it takes: one if it fits GSM7Single septets or UCS2Single code units,
// else as many concatenated parts as it fills. An empty text takes none.
//
// Parts are filled as phones and gateways fill them: a character is never
// split, so an extension character (two septets, e.g. €) or a character
// beyond the Basic Multilingual Plane (two UTF-16 code units, e.g. most
// emoji) that does not fit at the end of a part starts the next one.
func Segments(text string) (encoding string, segments int) {
	encoding = GSM7
	single, part := GSM7Single, GSM7Part
	cost := func(r rune) int { return septets[r] }
	for _, r := range text {
		if septets[r] == 0 {
			encoding, single, part = UCS2, UCS2Single, UCS2Part
			cost = func(r rune) int { return utf16.RuneLen(r) }
			break
		}
	}
	total := 0
	for _, r := range text {
		total += cost(r)
	}
	switch {
	case total == 0:
		return encoding, 0
	case total <= single:
		return encoding, 1
	}
	segments, used := 1, 0
	for _, r := range text {
		n := cost(r)
		if used+n > part {
			segments, used = segments+1, 0
		}
		used += n
	}
	return encoding, segments
}
