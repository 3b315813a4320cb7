package notifier

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// checkEncoding fails unless EncodeJSON writes a, and its copy, to the
// bytes encoding/json writes, or fails as encoding/json does.
func checkEncoding(t *testing.T, a *Appointment) {
	t.Helper()
	want, wantErr := encodeReference(a)
	for _, v := range []any{a, *a} {
		got, err := EncodeJSON(v)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || !bytes.Equal(got, want) {
			t.Fatalf("EncodeJSON(%T) of %#v:\ngot  %s, %v\nwant %s, %v", v, a, got, err, want, wantErr)
		}
	}
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
	checkEncoding(t, &a)
	if _, ok := appendAppointment(nil, &a); !ok {
		t.Error("a valid appointment is not written by hand")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		a := randomAppointment(rng)
		checkEncoding(t, &a)
	}
}

// fuzzAppointment makes an appointment of fuzzed values: the strings are
// text split at 0x1e, those after the eleventh the channels.
func fuzzAppointment(text []byte, sec, nsec int64, offset int, flags uint8) Appointment {
	s := strings.Split(string(text), "\x1e")
	for len(s) < 11 {
		s = append(s, "")
	}
	zone := time.FixedZone("", offset)
	if flags&1 != 0 {
		zone = time.UTC
	}
	start := time.Unix(sec, nsec).In(zone)
	a := Appointment{ID: s[0], Facility: s[1], Department: s[2], Location: s[3], Start: start, Status: s[4], Kind: s[5],
		Patient: Patient{ID: s[6], Name: s[7], Language: s[8], Email: s[9], Phone: s[10], Channels: s[11:]}}
	if flags&2 != 0 {
		a.End = start.Add(time.Duration(nsec) * time.Second)
	}
	if flags&4 != 0 && len(a.Patient.Channels) == 0 {
		a.Patient.Channels = nil
	}
	return a
}

// FuzzEncodeAppointment holds EncodeJSON's appointments to encoding/json.
func FuzzEncodeAppointment(f *testing.F) {
	f.Add([]byte("A-1\x1eukd\x1ecardiology\x1eBuilding 13\x1ebooked\x1eoutpatient\x1eP-1\x1eAyşe Müller\x1ede\x1ea@example.org\x1e+49 211\x1eemail\x1esms"),
		int64(1900000000), int64(0), 3600, uint8(2))
	f.Add([]byte("\"\\\x00\x1f\x7f\u2028\u2029\xff\xc3\x1e<&>\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e"), int64(-62167219200), int64(999999999), -12600, uint8(0))
	f.Add([]byte("x"), int64(253402300799), int64(1), 0, uint8(3))
	f.Add([]byte("x"), int64(253402300800), int64(0), 0, uint8(1))
	f.Add([]byte("x"), int64(-62167219201), int64(0), 0, uint8(1))
	f.Add([]byte("x"), int64(0), int64(0), 24*3600, uint8(6))
	f.Add([]byte("x"), int64(0), int64(0), 3208, uint8(4))
	f.Add([]byte("x\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e\x1e"), int64(1), int64(1000), -3600, uint8(2))
	f.Fuzz(func(t *testing.T, text []byte, sec, nsec int64, offset int, flags uint8) {
		a := fuzzAppointment(text, sec, nsec, offset, flags)
		checkEncoding(t, &a)
	})
}
