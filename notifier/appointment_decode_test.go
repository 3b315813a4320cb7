package notifier

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// decodeAppointmentReference is DecodeAppointment as it was before
// parseAppointment: every record decoded by encoding/json.
func decodeAppointmentReference(data []byte, facility, id string) (Appointment, error) {
	var a Appointment
	if err := decodeRecord(data, "appointment", &a); err != nil {
		return a, err
	}
	if err := a.Normalize(); err != nil {
		return a, err
	}
	if a.Facility != facility {
		return a, Invalid(fmt.Errorf("facility: %q does not match the subject's facility %q", a.Facility, facility))
	}
	if a.ID != id {
		return a, Invalid(fmt.Errorf("id: %q does not match the subject's id %q", a.ID, id))
	}
	return a, nil
}

// checkParse fails unless parseAppointment takes only what decodeRecord
// accepts, to the same Appointment, and DecodeAppointment returns what it
// returned before. It reports whether parseAppointment took data.
func checkParse(t *testing.T, data []byte) bool {
	t.Helper()
	a, err := DecodeAppointment(data, "ukd", "A-1001")
	b, errRef := decodeAppointmentReference(data, "ukd", "A-1001")
	if fmt.Sprint(err) != fmt.Sprint(errRef) || !reflect.DeepEqual(a, b) {
		t.Errorf("DecodeAppointment(%q):\ngot  %#v, %v\nwant %#v, %v", data, a, err, b, errRef)
	}
	if len(data) > MaxRecordSize {
		return false // never handed to parseAppointment
	}
	got, ok := parseAppointment(data)
	var want Appointment
	err = decodeRecord(data, "appointment", &want)
	switch {
	case !ok && !reflect.DeepEqual(got, Appointment{}):
		t.Errorf("parseAppointment(%q) declines, but returns %#v", data, got)
	case ok && err != nil:
		t.Errorf("parseAppointment(%q) accepts what encoding/json refuses: %v", data, err)
	case ok && !reflect.DeepEqual(got, want):
		t.Errorf("parseAppointment(%q):\ngot  %#v\nwant %#v", data, got, want)
	}
	return ok
}

// oddRecords are records of the shape parseAppointment takes and of every
// shape next to it: escapes of every kind, surrogates paired and not,
// invalid UTF-8, whitespace, names in another case, nulls, duplicates,
// numbers, trailing data and times encoding/json refuses.
var oddRecords = []string{
	goodRecord,
	`{"id":"A-1001","facility":"ukd","start":"2020-09-14T09:30:00Z","patient":{"id":"P-1"}}`,
	` {	"id" : "A-1001" ,
	  "facility":"ukd", "start"	:"2020-09-14T09:30:00Z"	,"patient":{ "id":"P-1" , "channels" : [ "sms" , "email" ] } }
	 `,
	"\r\n{\"id\":\"A-1001\"}\r\n",
	`{}`, `{"patient":{}}`, `{"patient":{"channels":[]}}`, `{"patient":{"channels":["sms"]}}`, `[]`, `""`, ``, ` `, `null`, `{`, `}`, `{"id"}`,
	`{"id":"A\u002d1001","facility":"\u0075kd","start":"2020-09-14T09:30:00Z","patient":{"id":"P\/1","name":"\"\\\/\b\f\n\r\t"}}`,
	`{"patient":{"id":"P","name":"\ud83d\ude00 \uD83D\uDE00 \u00e9\u00C9 \u0000 \u001f \u2028 \ufffd \uffff"}}`,
	`{"patient":{"name":"\ud83d"}}`, `{"patient":{"name":"\ude00"}}`, `{"patient":{"name":"\ud83d\u0041"}}`,
	`{"patient":{"name":"\ud83d\ud83d\ude00"}}`, `{"patient":{"name":"\ud83dx"}}`, `{"patient":{"name":"\ud83d\"}}`,
	`{"patient":{"name":"\ud83d\u00"}}`, `{"patient":{"name":"\ud83d\\"}}`, `{"patient":{"name":"\ude00\ud83d"}}`,
	`{"patient":{"name":"\u12"}}`, `{"patient":{"name":"\u12g4"}}`, `{"patient":{"name":"\'"}}`, `{"patient":{"name":"\x"}}`,
	`{"patient":{"name":"\U00e9"}}`, `{"patient":{"name":"\"}}`, `{"patient":{"name":"a` + "\t" + `b"}}`,
	`{"patient":{"name":"a` + "\x00" + `b"}}`, `{"patient":{"name":"a` + "\x1f" + `b"}}`, `{"patient":{"name":"a` + "\x7f" + `b"}}`,
	`{"patient":{"name":"\ud83dxude00"}}`, `{"patient":{"name":"\ud83d` + "\n" + `ude00"}}`,
	"{\"patient\":{\"name\":\"\xff\"}}", "{\"patient\":{\"name\":\"\xc3(\"}}", "{\"patient\":{\"name\":\"a\xe2\x82\"}}",
	"{\"patient\":{\"name\":\"\xc0\xaf\"}}", "{\"patient\":{\"name\":\"\xed\xa0\x80\"}}", "{\"patient\":{\"name\":\"\xef\xbf\xbd\"}}",
	"{\"patient\":{\"name\":\"\xf4\x90\x80\x80\"}}", "{\"patient\":{\"name\":\"M\xc3\xbcller\xff\\u00e9\"}}",
	"{\"id\xff\":\"A\"}", "\xef\xbb\xbf{\"id\":\"A\"}", `{"id":"é"}`, `{"é":"A"}`,
	`{"ID":"A-1001"}`, `{"Id":"A-1001"}`, `{"Patient":{"id":"P"}}`, `{"patient":{"ID":"P"}}`, `{"kind":"x","\u212aind":"y"}`,
	`{"\u0069d":"A"}`, `{"i\d":"A"}`, `{"":"A"}`, `{"x":"A"}`, `{"channels":["sms"]}`, `{"patient":{"patient":{}}}`,
	`{"id":null}`, `{"start":null}`, `{"end":null}`, `{"patient":null}`, `{"patient":{"channels":null}}`,
	`{"patient":{"channels":[null]}}`, `{"patient":{"name":null}}`, `{"id":1}`, `{"id":true}`, `{"id":["A"]}`, `{"id":{}}`,
	`{"patient":{"channels":"sms"}}`, `{"patient":{"channels":[1]}}`, `{"patient":{"channels":[["sms"]]}}`, `{"patient":[]}`,
	`{"id":"A","id":"B"}`, `{"id":"A","ID":"B"}`, `{"patient":{"id":"P","id":"Q"}}`, `{"patient":{},"patient":{}}`,
	`{"patient":{"channels":[],"channels":["sms"]}}`, `{"start":"2020-09-14T09:30:00Z","start":"2020-09-14T09:30:00Z"}`,
	`{"id":"A"}x`, `{"id":"A"}{}`, `{"id":"A"},`, `{"id":"A"} "x"`, `{"id":"A",}`, `{,"id":"A"}`, `{"id":"A""facility":"B"}`,
	`{"id":"A" "facility":"B"}`, `{"id":"A",,"facility":"B"}`, `{"id":"A"` + "\f" + `}`, `{"id"` + "\v" + `:"A"}`,
	`{"patient":{"channels":["sms",]}}`, `{"patient":{"channels":[,"sms"]}}`, `{"patient":{"channels":["sms" "email"]}}`,
	`{"start":"2020-09-14T09:30:00.123456789+05:30"}`, `{"start":"2020-09-14T09:30:00.1-00:00"}`, `{"start":"2020-09-14T09:30:00+14:00"}`,
	`{"start":"2020-09-14T09:30:00+24:00"}`, `{"start":"2020-09-14T09:30:00+23:60"}`, `{"start":"2020-09-14T09:30:00"}`,
	`{"start":"2020-09-14t09:30:00z"}`, `{"start":"2020-09-14 09:30:00Z"}`, `{"start":"2020-09-14T9:30:00Z"}`,
	`{"start":"2020-09-14T09:30:00,5Z"}`, `{"start":"2020-09-14T09:30:60Z"}`, `{"start":"2020-02-30T09:30:00Z"}`,
	`{"start":"0000-01-01T00:00:00Z"}`, `{"start":"9999-12-31T23:59:59.999999999Z"}`, `{"start":"10000-01-01T00:00:00Z"}`,
	`{"start":"-0001-01-01T00:00:00Z"}`, `{"start":"2020\u002d09-14T09:30:00Z"}`, `{"start":""}`, `{"start":"Z"}`,
	`{"start":"2020-09-14T09:30:00.Z"}`, `{"start":"2020-09-14T09:30:00.1234567891Z"}`, `{"start":2020}`, `{"end":"2020-09-14T09:30:00+01:00"}`,
	`{"start":"2020-09-14T09:30:00Z` + "\x00" + `"}`, "{\"start\":\"2020-09-14T09:30:00\xffZ\"}", `{"start":"2020-09-14T09:30:00\"Z"}`,
	`{"id":"A-1001","facility":"ukd","department":"  Cardiology ","location":"` + strings.Repeat("x", 201) + `","start":"2020-09-14T09:30:00Z","status":" Booked ","kind":"X","patient":{"id":"P","language":"DE-de","email":"a..b@c","phone":"12","channels":["fax"]}}`,
	`{"id":"A-1001","facility":"ukd","start":"2020-09-14T09:30:00Z","patient":{"id":"P","email":"jana@[127.0.0.1]"}}`,
	`{"id":"A-1001","facility":"ukd","start":"2020-09-14T09:30:00Z","patient":{"id":"P","name":"Jana` + "\\u202e" + `"}}`,
	`{"id":"` + strings.Repeat("\\u0041", 3000) + `"}`,
	strings.Repeat("[", 40) + strings.Repeat("]", 40),
}

// parseSeeds are oddRecords and encodings of random appointments, the
// shape the publishers write.
func parseSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, s := range oddRecords {
		seeds = append(seeds, []byte(s))
	}
	for i := range 3 {
		seeds = append(seeds, benchRecord(i))
	}
	return appendEncoded(t, seeds, len(oddRecords)+300, rand.New(rand.NewPCG(7, 8)), randomAppointment, parseAppointment)
}

// mutationPieces are inserted into records to make them odd.
var mutationPieces = []string{
	" ", "\t", "\n", "\r", "\f", "\v", "null", "1", "true", `"x"`, ",", ":", "{", "}", "[", "]", `\`, `\u`, `\ud83d`, `\ude00`,
	`\u00e9`, `\"`, `\\`, `\/`, "\"", "\x00", "\x1f", "\xff", "\xc3", "é", "\u212a", `"id":"x",`, `"ID":"x",`, `"patient":{},`, `"x":1,`,
}

// mutate changes data in one of many small ways, inserting pieces among
// them.
func mutate(rng *rand.Rand, data []byte, pieces []string) []byte {
	if len(data) == 0 {
		return []byte(pieces[rng.IntN(len(pieces))])
	}
	i := rng.IntN(len(data))
	out := append([]byte(nil), data[:i]...)
	switch rng.IntN(6) {
	case 0:
		out = append(out, pieces[rng.IntN(len(pieces))]...)
		out = append(out, data[i:]...)
	case 1:
		out = append(out, data[i+1:]...)
	case 2:
		c := data[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			c ^= 0x20
		}
		out = append(append(out, c), data[i+1:]...)
	case 3:
		if c := data[i]; c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			out = fmt.Appendf(out, `\u%04x`, c)
		} else {
			out = append(out, c)
		}
		out = append(out, data[i+1:]...)
	case 4:
		j := i + rng.IntN(len(data)-i)
		out = append(append(out, data[i:j]...), data[i:]...)
	case 5:
		out = append(out, ' ', '\n', '\t', '\r')
		out = append(out, data[i:]...)
	}
	return out
}

func TestParseAppointment(t *testing.T) {
	for _, s := range []string{goodRecord, oddRecords[1], oddRecords[2], string(benchRecord(1))} {
		if !checkParse(t, []byte(s)) {
			t.Errorf("parseAppointment declines %s", s)
		}
	}
	testMutations(t, parseSeeds(t), mutationPieces, rand.New(rand.NewPCG(9, 10)), 3, func(data []byte) bool {
		return checkParse(t, data)
	})
}

// FuzzParseAppointment holds parseAppointment to encoding/json on mutated
// records.
func FuzzParseAppointment(f *testing.F) {
	for _, data := range parseSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data)
	})
}
