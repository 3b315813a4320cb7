package notifier

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// randomPlannedNotice is a notice's record of randomText and randomTime.
func randomPlannedNotice(rng *rand.Rand) PlannedNotice {
	return PlannedNotice{ID: randomText(rng), Kind: randomText(rng), PatientID: randomText(rng),
		AppointmentIDs: randomList(rng), EventKey: randomText(rng), OutageID: randomText(rng), Facility: randomText(rng),
		Language: randomText(rng), Earliest: randomTime(rng), PlannedAt: randomTime(rng)}
}

// randomPlanRecord is a plan record of notice records, as the planner
// writes them (a chunk) and as it wrote them (one).
func randomPlanRecord(rng *rand.Rand) PlanRecord {
	var r PlanRecord
	if k := randomLength(rng); k >= 0 {
		r.Notices = make([]*PlannedNotice, k)
		for i := range r.Notices {
			n := randomPlannedNotice(rng)
			r.Notices[i] = &n
		}
	}
	if rng.IntN(4) == 0 {
		n := randomPlannedNotice(rng)
		r.Notice = &n
	}
	return r
}

func TestEncodePlannedNotice(t *testing.T) {
	n := PlannedRecord(benchNotice())
	checkEncode(t, n)
	if _, ok := appendRecord(n); !ok {
		t.Error("a notice's record is not written by hand")
	}
	if got, err := EncodeJSON((*PlannedNotice)(nil)); err != nil || string(got) != "null" {
		t.Errorf("EncodeJSON of a nil record = %s, %v", got, err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 3000 {
		n := randomPlannedNotice(rng)
		checkEncode(t, &n)
	}
}

// FuzzEncodePlannedNotice holds EncodeJSON's notice records to
// encoding/json.
func FuzzEncodePlannedNotice(f *testing.F) {
	addEncodeSeeds(f)
	f.Fuzz(func(t *testing.T, seed uint64, text []byte, sec, nsec int64, offset int, utc bool) {
		n := randomPlannedNotice(rand.New(rand.NewPCG(seed, 0)))
		fuzzed(&n, text, sec, nsec, offset, utc)
		checkEncode(t, &n)
	})
}

// oddPlanRecords are plan records of the shape parsePlanRecord takes and
// of every shape next to it, events and refusals among them.
var oddPlanRecords = []string{
	`{"notices":[{"id":"n-1","kind":"postponed","patient_id":"P-1","appointment_ids":["A-1","A-2"],"event_key":"s#1",
	  "outage_id":"o","facility":"ukd","language":"de","earliest":"2030-03-05T09:30:00Z",
	  "planned_at":"2030-03-04T09:30:00.123456789+01:00"},{"id":"n-2","appointment_ids":[]}]}`,
	`{"notice":{"id":"n-1","appointment_ids":["A-1"]}}`, `{"notices":[{"id":"n-1"}],"notice":{"id":"n-2"}}`,
	`{}`, `{"notices":[]}`, `{"notices":[{}]}`, `{"notice":{}}`, `[]`, `null`, ``, `{`, `{"notices":[}`,
	`{"notices":null}`, `{"notices":[null]}`, `{"notices":[{"id":"n-1"},null]}`, `{"notice":null}`,
	`{"notices":[{"appointment_ids":null}]}`, `{"notices":[{"earliest":null}]}`, `{"notices":{}}`, `{"notices":[1]}`,
	`{"notices":[[]]}`, `{"notice":[]}`, `{"notices":[{"id":1}]}`, `{"notices":[{"appointment_ids":[1]}]}`,
	`{"Notices":[]}`, `{"notices":[{"ID":"n"}]}`, `{"NOTICE":{}}`, `{"notices":[{"id":"a","id":"b"}]}`,
	`{"notices":[],"notices":[{"id":"n"}]}`, `{"notices":[{"id":"a","kind":"k"}],"notices":[{"id":"b"}]}`,
	`{"notice":{"id":"a","kind":"k"},"notice":{"id":"b"}}`, `{"notices":[{}]}x`, `{"notices":[{},]}`, `{"notices":[{}{}]}`,
	`{"notices":[{"x":1}]}`, `{"notices":[{"reject":{}}]}`, `{"x":{}}`, `{"event":{}}`, `{"reject":{}}`,
	`{"notices":[{"id":"n"}],"event":{}}`,
	`{"event":{"source":"s","id":"1","type":"t","outage":{},"state":"open","data":{"a":[1,2]}}}`,
	`{"event":{"source":"s","id":"1","outage":{"outage_id":"o"},"data":null,"released":3}}`, `{"event":null}`,
	`{"reject":{"at":"2030-03-05T09:30:00Z","stream":"NOTICES","subject":"notices.ukd","seq":7,"reason":"not a notice"}}`,
	`{"reject":{"seq":-1}}`, `{"notices":[{"id":"n"}],"reject":{"seq":1}}`,
	`{"notices":[{"earliest":"2030-03-05T09:30:00+24:00"}]}`, `{"notices":[{"planned_at":"2030-03-05T09:30:00.Z"}]}`,
	`{"notices":[{"earliest":"0001-01-01T00:00:00Z","planned_at":"9999-12-31T23:59:59.999999999-23:59"}]}`,
	`{"notices":[{"id":"\ud83d\ude00\ud83d` + "\xff" + `\u2028","event_key":"\"\\\/\b\f\n\r\t\u0000"}]}`,
	`{"notices":[` + strings.Repeat(`{"id":"n","appointment_ids":["A-1"],"earliest":"2030-03-05T09:30:00Z"},`, 40) + `{}]}`,
}

func TestDecodePlanRecord(t *testing.T) {
	seeds := decodeSeeds(t, oddPlanRecords, randomPlanRecord, parsePlanRecord)
	for _, s := range oddPlanRecords[:3] {
		if !checkDecode(t, []byte(s), parsePlanRecord, DecodePlanRecord) {
			t.Errorf("parsePlanRecord declines %s", s)
		}
	}
	testDecode(t, seeds, recordPieces, parsePlanRecord, DecodePlanRecord)
}

// FuzzDecodePlanRecord holds DecodePlanRecord and parsePlanRecord to
// json.Unmarshal.
func FuzzDecodePlanRecord(f *testing.F) {
	for _, data := range decodeSeeds(f, oddPlanRecords, randomPlanRecord, parsePlanRecord) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data, parsePlanRecord, DecodePlanRecord)
	})
}
