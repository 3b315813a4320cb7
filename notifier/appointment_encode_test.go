package notifier

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// encodeReference is EncodeJSON as encoding/json alone writes v.
func encodeReference(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// textPieces make strings that exercise every rule of encoding/json's
// quoting: quotes, backslashes, every kind of control character, HTML
// characters, U+2028 and U+2029, and invalid UTF-8.
var textPieces = []string{
	"a", "Z", "0", "jana", "Müller", "Ayşe", " ", "-", ".", "@", "+49", "\"", "\\", "/", "<", ">", "&", "'",
	"\x00", "\x01", "\x1f", "\b", "\f", "\n", "\r", "\t", "\x7f", "\u0085", "\u00a0", "€", "😀", "\u2027",
	"\u2028", "\u2029", "\u200b", "\ufeff", "\ufffd", "\xff", "\xc3", "\xed\xa0\x80", "\xf0\x9f\x98", "\\u0041",
}

// randomText is a short string of textPieces, often empty.
func randomText(rng *rand.Rand) string {
	if rng.IntN(4) == 0 {
		return ""
	}
	var b strings.Builder
	for range 1 + rng.IntN(6) {
		b.WriteString(textPieces[rng.IntN(len(textPieces))])
	}
	return b.String()
}

// testZones are locations of every kind a decoded or constructed time
// carries, including offsets RFC 3339 cannot write.
var testZones = []*time.Location{
	time.UTC, time.Local, time.FixedZone("CET", 3600), time.FixedZone("", -(3*3600 + 30*60)), time.FixedZone("LMT", 3208),
	time.FixedZone("", 14*3600), time.FixedZone("", 24*3600), time.FixedZone("", -25*3600), time.FixedZone("UTC", 0),
	time.FixedZone("", 0),
}

// randomTime is a time of a random zone and precision, sometimes zero,
// sometimes in a year RFC 3339 cannot write.
func randomTime(rng *rand.Rand) time.Time {
	zone := testZones[rng.IntN(len(testZones))]
	switch rng.IntN(10) {
	case 0:
		return time.Time{}
	case 1:
		return time.Time{}.In(zone)
	case 2:
		years := []int{-1, 0, 1, 1969, 9999, 10000, -10000}
		return time.Date(years[rng.IntN(len(years))], time.Month(1+rng.IntN(12)), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1e9), zone)
	case 3:
		return time.Now()
	}
	t := time.Unix(rng.Int64N(4e9)-1e9, 0).In(zone)
	switch rng.IntN(4) {
	case 0:
		t = t.Add(time.Duration(rng.IntN(1e9)))
	case 1:
		t = t.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
	case 2:
		t = t.Add(time.Duration(rng.IntN(1000)) * 100 * time.Microsecond)
	}
	return t
}

// randomAppointment is an appointment whose fields are randomText and
// randomTime, valid or not.
func randomAppointment(rng *rand.Rand) Appointment {
	a := Appointment{ID: randomText(rng), Facility: randomText(rng), Department: randomText(rng), Location: randomText(rng),
		Start: randomTime(rng), End: randomTime(rng), Status: randomText(rng), Kind: randomText(rng),
		Patient: Patient{ID: randomText(rng), Name: randomText(rng), Language: randomText(rng), Email: randomText(rng), Phone: randomText(rng)}}
	switch rng.IntN(4) {
	case 0:
		a.Patient.Channels = []string{}
	case 1:
		for range 1 + rng.IntN(3) {
			a.Patient.Channels = append(a.Patient.Channels, randomText(rng))
		}
	}
	return a
}

func TestEncodeAppointment(t *testing.T) {
	if got, err := EncodeJSON((*Appointment)(nil)); err != nil || string(got) != "null" {
		t.Errorf("EncodeJSON of a nil appointment = %s, %v", got, err)
	}
	a, err := DecodeAppointment([]byte(goodRecord), "ukd", "A-1001")
	if err != nil {
		t.Fatal(err)
	}
	checkEncode(t, &a)
	if _, ok := appendAppointment(nil, &a); !ok {
		t.Error("a valid appointment is not written by hand")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		a := randomAppointment(rng)
		checkEncode(t, &a)
	}
}

// FuzzEncodeAppointment holds EncodeJSON's appointments to encoding/json.
func FuzzEncodeAppointment(f *testing.F) {
	addEncodeSeeds(f)
	f.Fuzz(func(t *testing.T, seed uint64, text []byte, sec, nsec int64, offset int, utc bool) {
		a := randomAppointment(rand.New(rand.NewPCG(seed, 0)))
		fuzzed(&a, text, sec, nsec, offset, utc)
		checkEncode(t, &a)
	})
}
