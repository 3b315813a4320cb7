package notifier

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// randomDelivery is an outcome of randomText, randomTime and randomInt,
// with lists nil, empty and not.
func randomDelivery(rng *rand.Rand) Delivery {
	d := Delivery{NoticeID: randomText(rng), OutageID: randomText(rng), Facility: randomText(rng),
		PatientID: randomText(rng), AppointmentIDs: randomList(rng), Kind: randomText(rng), Outcome: randomText(rng),
		Channel: randomText(rng), Attempts: randomInt(rng), At: randomTime(rng), Revision: randomInt(rng)}
	if k := randomLength(rng); k >= 0 {
		d.Trail = make([]Attempt, k)
		for i := range d.Trail {
			d.Trail[i] = Attempt{Channel: randomText(rng), At: randomTime(rng), Result: randomText(rng),
				Class: randomText(rng), Code: randomInt(rng), Enhanced: randomText(rng), Reason: randomText(rng),
				Link: rng.IntN(2) == 0}
		}
	}
	return d
}

func TestEncodeDelivery(t *testing.T) {
	d := benchDelivery(benchNotice())
	checkEncode(t, d)
	if _, ok := appendRecord(d); !ok {
		t.Error("an outcome is not written by hand")
	}
	if got, err := EncodeJSON((*Delivery)(nil)); err != nil || string(got) != "null" {
		t.Errorf("EncodeJSON of a nil outcome = %s, %v", got, err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 3000 {
		d := randomDelivery(rng)
		checkEncode(t, &d)
	}
}

// FuzzEncodeDelivery holds EncodeJSON's outcomes to encoding/json.
func FuzzEncodeDelivery(f *testing.F) {
	addEncodeSeeds(f)
	f.Fuzz(func(t *testing.T, seed uint64, text []byte, sec, nsec int64, offset int, utc bool) {
		d := randomDelivery(rand.New(rand.NewPCG(seed, 0)))
		fuzzed(&d, text, sec, nsec, offset, utc)
		checkEncode(t, &d)
	})
}

// oddDeliveries are outcomes of the shape parseDelivery takes and of every
// shape next to it, numbers of every form above all.
var oddDeliveries = []string{
	`{"notice_id":"n-1","outage_id":"o","facility":"ukd","patient_id":"P-1","appointment_ids":["A-1","A-2"],
	  "kind":"postponed","outcome":"manual","channel":"call-list","attempts":2,"at":"2030-03-05T09:30:00.5Z",
	  "trail":[{"channel":"email","at":"2030-03-05T09:29:00+01:00","result":"failed","class":"permanent","code":550,
	  "enhanced":"5.1.1","reason":"mailbox unknown","link":true},{"channel":"sms","at":"2030-03-05T09:30:00Z",
	  "result":"skipped"}],"revision":2}`,
	`{}`, `{"trail":[]}`, `{"trail":[{}]}`, `{"appointment_ids":[]}`, `[]`, `null`, ``, `1`, `{`,
	`{"attempts":0}`, `{"attempts":-0}`, `{"attempts":7}`, `{"attempts":-7}`, `{"attempts":01}`, `{"attempts":00}`,
	`{"attempts":-01}`, `{"attempts":1.0}`, `{"attempts":1.}`, `{"attempts":.5}`, `{"attempts":1e2}`, `{"attempts":1E2}`,
	`{"attempts":1e}`, `{"attempts":0e0}`, `{"attempts":-}`, `{"attempts":+1}`, `{"attempts":--1}`, `{"attempts":1x}`,
	`{"attempts":1 }`, `{"attempts" : 1 , "revision" : 2 }`, `{"attempts":2]`, `{"attempts":9223372036854775807}`,
	`{"attempts":9223372036854775808}`, `{"attempts":-9223372036854775808}`, `{"attempts":-9223372036854775809}`,
	`{"attempts":99999999999999999999}`, `{"attempts":"1"}`, `{"attempts":true}`, `{"attempts":null}`, `{"attempts":[1]}`,
	`{"revision":-1}`, `{"revision":0}`, `{"revision":1.5}`, `{"revision":null}`, `{"attempts":1,"attempts":2}`,
	`{"trail":[{"code":550,"link":true}]}`, `{"trail":[{"code":5.5}]}`, `{"trail":[{"code":-0}]}`, `{"trail":[{"code":"550"}]}`,
	`{"trail":null}`, `{"trail":[null]}`, `{"trail":[{"link":"true"}]}`, `{"trail":[{"link":null}]}`, `{"trail":[{"link":1}]}`,
	`{"trail":{}}`, `{"trail":[[]]}`, `{"trail":[{"code":1,"link":true}],"trail":[{"channel":"x"}]}`,
	`{"trail":[{"code":1,"code":2}]}`, `{"appointment_ids":null}`, `{"appointment_ids":[null]}`, `{"appointment_ids":"A"}`,
	`{"Attempts":1}`, `{"trail":[{"Code":1}]}`, `{"notice_ID":"n"}`, `{"outcome":"a","Outcome":"b"}`, `{"x":1}`,
	`{"trail":[{"x":1}]}`, `{"trail":[{"notice_id":"n"}]}`, `{}x`, `{"trail":[{}]}]`, `{"trail":[{},]}`,
	`{"at":"2030-03-05T09:30:00.123456789-03:30"}`, `{"at":"2030-03-05T09:30:00Z","at":"2030-03-05T09:30:00Z"}`,
	`{"at":"0000-01-01T00:00:00Z"}`, `{"at":"2030-03-05 09:30:00Z"}`, `{"trail":[{"at":"2030-03-05T09:30:00+25:00"}]}`,
	`{"trail":[{"reason":"` + "\xff\xc3(\\ud83d\\ude00\\u2028" + `"}]}`, `{"channel":"\u0000\"\\\/\b\f\n\r\t"}`,
	`{"trail":[` + strings.Repeat(`{"channel":"sms","at":"2030-03-05T09:30:00Z","result":"failed","code":4},`, 9) + `{}]}`,
}

func TestDecodeDelivery(t *testing.T) {
	seeds := decodeSeeds(t, oddDeliveries, randomDelivery, parseDelivery)
	if !checkDecode(t, []byte(oddDeliveries[0]), parseDelivery, DecodeDelivery) {
		t.Errorf("parseDelivery declines %s", oddDeliveries[0])
	}
	testDecode(t, seeds, recordPieces, parseDelivery, DecodeDelivery)
}

// FuzzDecodeDelivery holds DecodeDelivery and parseDelivery to
// json.Unmarshal.
func FuzzDecodeDelivery(f *testing.F) {
	for _, data := range decodeSeeds(f, oddDeliveries, randomDelivery, parseDelivery) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data, parseDelivery, DecodeDelivery)
	})
}
