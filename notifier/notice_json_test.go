package notifier

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// randomNotice is a notice of randomText, randomTime and lists nil, empty
// and not.
func randomNotice(rng *rand.Rand) Notice {
	n := Notice{ID: randomText(rng), Kind: randomText(rng), OutageID: randomText(rng), Facility: randomText(rng),
		FacilityName: randomText(rng), FacilityShortName: randomText(rng), TimeZone: randomText(rng),
		Country: randomText(rng), Language: randomText(rng), Patient: randomAppointment(rng).Patient,
		MoreAppointmentIDs: randomList(rng), Hotline: randomText(rng), InfoURL: randomText(rng), Note: randomText(rng),
		PlannedAt: randomTime(rng), EventKey: randomText(rng)}
	if k := randomLength(rng); k >= 0 {
		n.Appointments = make([]NoticeAppointment, k)
		for i := range n.Appointments {
			n.Appointments[i] = NoticeAppointment{ID: randomText(rng), Department: randomText(rng),
				Location: randomText(rng), Start: randomTime(rng), End: randomTime(rng), Neutral: rng.IntN(2) == 0}
		}
	}
	return n
}

func TestEncodeNotice(t *testing.T) {
	n := benchNotice()
	checkEncode(t, n)
	if _, ok := appendRecord(n); !ok {
		t.Error("a planned notice is not written by hand")
	}
	if got, err := EncodeJSON((*Notice)(nil)); err != nil || string(got) != "null" {
		t.Errorf("EncodeJSON of a nil notice = %s, %v", got, err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 3000 {
		n := randomNotice(rng)
		checkEncode(t, &n)
	}
}

// FuzzEncodeNotice holds EncodeJSON's notices to encoding/json.
func FuzzEncodeNotice(f *testing.F) {
	addEncodeSeeds(f)
	f.Fuzz(func(t *testing.T, seed uint64, text []byte, sec, nsec int64, offset int, utc bool) {
		n := randomNotice(rand.New(rand.NewPCG(seed, 0)))
		fuzzed(&n, text, sec, nsec, offset, utc)
		checkEncode(t, &n)
	})
}

// oddNotices are notices of the shape parseNotice takes and of every shape
// next to it.
var oddNotices = []string{
	`{"id":"n-1","kind":"postponed","outage_id":"o","facility":"ukd","time_zone":"Europe/Berlin","language":"de",
	  "patient":{"id":"P-1","channels":["sms"]},"appointments":[{"id":"A-1","start":"2030-03-05T09:30:00+01:00",
	  "end":"2030-03-05T10:00:00Z","neutral":true},{"id":"A-2","start":"2030-03-05T09:30:00.5Z","neutral":false}],
	  "more_appointment_ids":["A-3"],"hotline":"+49","planned_at":"2030-03-04T09:30:00.123456789Z"}`,
	`{}`, `{"appointments":[]}`, `{"appointments":[ ] , "more_appointment_ids" : [ ] }`, `{"appointments":[{}]}`,
	`{"patient":{}}`, `[]`, `null`, ``, `"x"`, `{`, `{"appointments":[}`,
	`{"appointments":null}`, `{"appointments":[null]}`, `{"patient":null}`, `{"planned_at":null}`, `{"id":null}`,
	`{"more_appointment_ids":null}`, `{"more_appointment_ids":[null]}`, `{"appointments":[{"neutral":null}]}`,
	`{"appointments":[{"start":null}]}`, `{"appointments":{}}`, `{"appointments":[1]}`, `{"appointments":[[]]}`,
	`{"appointments":[{"neutral":"true"}]}`, `{"appointments":[{"neutral":1}]}`, `{"appointments":[{"neutral":True}]}`,
	`{"appointments":[{"neutral":truex}]}`, `{"appointments":[{"neutral":fals}]}`, `{"id":1}`, `{"more_appointment_ids":[1]}`,
	`{"more_appointment_ids":"A"}`, `{"ID":"n"}`, `{"Appointments":[]}`, `{"appointments":[{"Start":"2030-03-05T09:30:00Z"}]}`,
	`{"planned_At":"2030-03-05T09:30:00Z"}`, `{"kind":"x","\u212aind":"y"}`, `{"\u0069d":"n"}`, `{"patient":{"ID":"P"}}`,
	`{"id":"a","id":"b"}`, `{"appointments":[],"appointments":[{"id":"x"}]}`, `{"appointments":[{"id":"a","id":"b"}]}`,
	`{"patient":{},"patient":{"id":"p"}}`, `{"appointments":[{"id":"a","neutral":true}],"appointments":[{"id":"b"}]}`,
	`{"appointments":[{"neutral":true,"neutral":false}]}`,
	`{"planned_at":"2030-03-05T09:30:00Z","planned_at":"2030-03-05T09:30:00Z"}`, `{"id":"a","ID":"b"}`,
	`{}x`, `{} {}`, `{"appointments":[{}]}]`, `{"appointments":[{}],}`, `{"appointments":[{},]}`, `{"appointments":[{}{}]}`,
	`{"x":1}`, `{"appointments":[{"x":1}]}`, `{"event":{}}`, `{"appointments":[{"patient":{}}]}`,
	`{"planned_at":"2030-03-05T09:30:00.123456789+05:30"}`, `{"planned_at":"2030-03-05T09:30:00"}`,
	`{"planned_at":"2030-03-05T09:30:00+24:00"}`, `{"planned_at":"10000-01-01T00:00:00Z"}`, `{"planned_at":""}`,
	`{"appointments":[{"start":"2030-03-05T09:30:00Z","end":"0001-01-01T00:00:00Z"}]}`,
	`{"appointments":[{"start":"2030-02-30T09:30:00Z"}]}`, `{"appointments":[{"end":"2030-03-05T09:30:00\u005a"}]}`,
	`{"appointments":[{"id":"\ud83d\ude00\u0000\"\\\/","location":"\ud83d","department":"` + "\xff\xc3(" + `"}]}`,
	`{"note":"a` + "\n" + `b"}`, `{"note":"\u2028 <&>"}`, `{"hotline":"` + strings.Repeat("\\u00e9", 200) + `"}`,
	`{"appointments":[` + strings.Repeat(`{"id":"A","start":"2030-03-05T09:30:00Z"},`, 59) + `{"id":"B"}]}`,
	`{"more_appointment_ids":[` + strings.Repeat(`"A",`, 20) + `"B"]}`,
}

func TestDecodeNotice(t *testing.T) {
	seeds := decodeSeeds(t, oddNotices, randomNotice, parseNotice)
	if !checkDecode(t, []byte(oddNotices[0]), parseNotice, DecodeNotice) {
		t.Errorf("parseNotice declines %s", oddNotices[0])
	}
	testDecode(t, seeds, recordPieces, parseNotice, DecodeNotice)
}

// FuzzDecodeNotice holds DecodeNotice and parseNotice to json.Unmarshal.
func FuzzDecodeNotice(f *testing.F) {
	for _, data := range decodeSeeds(f, oddNotices, randomNotice, parseNotice) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data, parseNotice, DecodeNotice)
	})
}
