package notifier

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const goodRecord = `{"id":"A-1001","facility":"ukd","department":"cardiology","location":"Building 13, level 2",
 "start":"2020-09-14T09:30:00+02:00","end":"2020-09-14T10:00:00+02:00",
 "status":"booked","kind":"outpatient",
 "patient":{"id":"P-77","name":"Jana Müller","language":"de",
            "email":"jana.mueller@example.org","phone":"+49 211 5550101"}}`

func TestDecodeAppointment(t *testing.T) {
	t.Run("the contract's example", func(t *testing.T) {
		a, err := DecodeAppointment([]byte(goodRecord), "ukd", "A-1001")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := a.Start, time.Date(2020, 9, 14, 7, 30, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("start = %v, want %v", got, want)
		}
		if a.Patient.Name != "Jana Müller" || a.Patient.Language != "de" || !a.Active() {
			t.Errorf("decoded %+v", a)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		rec := `{"id":"A-1","facility":"ukd","start":"2020-09-14T09:30:00Z","patient":{"id":"P-1","language":"TR-tr"}}`
		a, err := DecodeAppointment([]byte(rec), "ukd", "A-1")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != StatusBooked || a.Patient.Language != "tr" {
			t.Errorf("status %q language %q, want booked and tr", a.Status, a.Patient.Language)
		}
	})

	bad := []struct {
		name, record, facility, id, want string
	}{
		{"not JSON", `{"id":`, "ukd", "A-1001", "not a JSON appointment record"},
		{"subject facility differs", goodRecord, "other", "A-1001", "does not match the subject's facility"},
		{"subject id differs", goodRecord, "ukd", "A-9", "does not match the subject's id"},
		{"id with a dot", strings.Replace(goodRecord, `"A-1001"`, `"A.1001"`, 1), "ukd", "A.1001", "[A-Za-z0-9_-]+"},
		{"no start", strings.Replace(goodRecord, `"start":"2020-09-14T09:30:00+02:00",`, ``, 1), "ukd", "A-1001", "start: required"},
		{"start without offset", strings.Replace(goodRecord, `09:30:00+02:00`, `09:30:00`, 1), "ukd", "A-1001", "RFC 3339"},
		{"end before start", strings.Replace(goodRecord, `"end":"2020-09-14T10:00:00+02:00"`, `"end":"2020-09-14T08:00:00+02:00"`, 1), "ukd", "A-1001", "end: before start"},
		{"unknown status", strings.Replace(goodRecord, `"booked"`, `"maybe"`, 1), "ukd", "A-1001", "status"},
		{"no patient id", strings.Replace(goodRecord, `"id":"P-77",`, ``, 1), "ukd", "A-1001", "patient.id: required"},
		{"newline in name", strings.Replace(goodRecord, `Jana Müller`, `Jana\r\nBcc: x@evil.example`, 1), "ukd", "A-1001", "patient.name: contains a control character"},
		{"header in email", strings.Replace(goodRecord, `jana.mueller@example.org`, `jana@example.org\r\nBcc: x@evil.example`, 1), "ukd", "A-1001", "patient.email"},
		{"display name in email", strings.Replace(goodRecord, `jana.mueller@example.org`, `Jana <jana@example.org>`, 1), "ukd", "A-1001", "patient.email"},
		{"bad phone", strings.Replace(goodRecord, `+49 211 5550101`, `call me`, 1), "ukd", "A-1001", "patient.phone"},
		{"oversized", `{"id":"A-1001","x":"` + strings.Repeat("x", MaxRecordSize) + `"}`, "ukd", "A-1001", "at most"},
		{"bidi override in name", strings.Replace(goodRecord, `Jana Müller`, "Jana \u202eMüller", 1), "ukd", "A-1001", "patient.name: contains an invisible formatting character (U+202E)"},
		{"zero-width space in department", strings.Replace(goodRecord, `cardiology`, "cardio\u200blogy", 1), "ukd", "A-1001", "department: contains an invisible"},
		{"isolate in location", strings.Replace(goodRecord, `Building 13`, "Building \u206613", 1), "ukd", "A-1001", "location: contains an invisible"},
		{"long local part", strings.Replace(goodRecord, `jana.mueller@`, strings.Repeat("j", 65)+`@`, 1), "ukd", "A-1001", "patient.email: the part before the @ is 65 octets, at most 64"},
		{"names differing in case", strings.Replace(goodRecord, `"kind":"outpatient",`, `"kind":"outpatient","KIND":"inpatient",`, 1), "ukd", "A-1001", `the member "KIND" appears twice`},
		{"duplicate patient name", strings.Replace(goodRecord, `"language":"de",`, `"language":"de","Language":"tr",`, 1), "ukd", "A-1001", "appears twice"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeAppointment([]byte(tc.record), tc.facility, tc.id)
			if err == nil {
				t.Fatal("accepted, want an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "jana") || strings.Contains(err.Error(), "Müller") {
				t.Errorf("error %q repeats patient data", err)
			}
		})
	}
}

func TestEmailAddresses(t *testing.T) {
	good := []string{"jana@example.org", strings.Repeat("j", 64) + "@example.org", "jana%relay@example.org", "host!jana@example.org", "jörg@exämple.de"}
	for _, e := range good {
		if err := checkEmail(e); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
	for _, e := range []string{"jana@", "@example.org", "a@b@c", "jana@exa mple.org", "ja\u200bna@example.org"} {
		if checkEmail(e) == nil {
			t.Errorf("%q accepted", e)
		}
	}
	a := Appointment{Patient: Patient{Email: "jana@[127.0.0.1]"}}
	if err := checkEmail(a.Patient.Email); err != nil {
		t.Fatalf("an address literal is a valid address: %v", err)
	}
	if err := (Facility{ID: "ukd"}).Admit(&a); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "facilities.ukd.allow_address_literals") {
		t.Errorf("address literal admitted by default: %v", err)
	}
	if err := (Facility{ID: "ukd", AllowAddressLiterals: true}).Admit(&a); err != nil {
		t.Errorf("address literal refused although allowed: %v", err)
	}
	a.Patient.Email = "jana@example.org"
	if err := (Facility{ID: "ukd"}).Admit(&a); err != nil {
		t.Errorf("a plain address refused: %v", err)
	}
}

func TestUniqueKeys(t *testing.T) {
	for _, doc := range []string{`{}`, `[]`, `{"a":{"a":1},"b":[{"a":1},{"a":2}]}`, `{"a":"A","A2":1}`, `"x"`, `{"a":[[],{}],"b":null}`} {
		if err := uniqueKeys([]byte(doc)); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
	for _, doc := range []string{`{"a":1,"a":2}`, `{"x":{"Ab":1,"aB":2}}`, `[{"k":1,"\u212a":2}]`, `{"s":1,"\u017f":2}`, `{"a":[1,{"b":1}],"A":2}`, strings.Repeat("[", 40) + strings.Repeat("]", 40)} {
		if uniqueKeys([]byte(doc)) == nil {
			t.Errorf("%s accepted", doc)
		}
	}
}

func TestGroupByPatient(t *testing.T) {
	o := &Outage{OutageID: "o-1", Facility: "ukd"}
	var got []string
	g := Grouper{Outage: o, Kind: KindPostponed}
	add, flush := g.Each(func(n *Notice) error {
		got = append(got, n.Patient.ID+":"+strings.Join(n.AppointmentIDs(), ","))
		if n.ID != NoticeID("o-1", KindPostponed, n.Patient.ID, n.AppointmentIDs()) {
			t.Errorf("notice id %s is not derived from its content", n.ID)
		}
		return nil
	})
	for _, a := range []struct{ patient, id string }{{"P-1", "A-1"}, {"P-1", "A-2"}, {"P-2", "A-3"}, {"P-3", "A-4"}, {"P-3", "A-5"}} {
		if err := add(AffectedAppointment{Appointment: Appointment{ID: a.id, Patient: Patient{ID: a.patient}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	if want := "P-1:A-1,A-2 P-2:A-3 P-3:A-4,A-5"; strings.Join(got, " ") != want {
		t.Errorf("notices %v, want %s", got, want)
	}
}
