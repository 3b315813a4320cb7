package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// fixture has affected appointments in three languages (and one in French,
// which has no templates), a patient with two appointments on both sides of
// the end of daylight-saving time, and appointments the outage must not
// touch: inpatient, cancelled, entered in error, outside the window.
const fixture = `id,department,location,start,end,status,kind,patient_id,patient_name,language,email,phone
A-1,cardiology,"Building 13, level 2",2020-10-24T09:30:00+02:00,,booked,outpatient,P-1,Jana Müller,de,jana@example.org,+49 211 5550101
A-2,radiology,Building 5,2020-10-26 09:30,,booked,elective,P-1,Jana Müller,de,jana@example.org,+49 211 5550101
A-3,oncology,Building 2,2020-10-22T08:00:00+02:00,,pending,outpatient,P-2,Emily Clarke,en,emily@example.org,
A-4,dermatology,Building 7,2020-10-27 14:15,,,outpatient,P-3,Ayşe Yılmaz,tr,ayse@example.org,
A-5,cardiology,Building 13,2020-10-23T10:00:00+02:00,,booked,inpatient,P-4,Karl Schmidt,de,karl@example.org,
A-6,cardiology,Building 13,2020-10-23T11:00:00+02:00,,cancelled,outpatient,P-5,Lena Weber,de,lena@example.org,
A-7,cardiology,Building 13,2020-10-29T11:00:00+01:00,,booked,outpatient,P-6,Tom Baker,en,tom@example.org,
A-8,neurology,,2020-10-20T09:00:00+02:00,,booked,outpatient,P-1,Jana Müller,de,jana@example.org,
A-9,orthopaedics,,2020-10-23 07:45,,booked,outpatient,P-7,Camille Martin,fr,camille@example.org,
A-10,cardiology,Building 13,2020-10-23T12:00:00+02:00,,entered-in-error,outpatient,P-8,Eva Braun,de,eva@example.org,
`

func TestWholeRunFromCSVToInbox(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = nil
	e.cfg.Channels = append(e.cfg.Channels, smtpChannel("relay", rec.Addr()))
	e.startWorker()

	if res := e.importCSV(fixture); res.Accepted != 10 || res.Rejected != 0 {
		t.Fatalf("import %+v, want 10 accepted", res)
	}
	// Published right after the import: the planner must wait for the
	// replica to apply every appointment first.
	s := e.declare(sampleOutage(t, "evt-1"))
	if s.Planned != 4 || s.Delivered != 4 || s.Appointments != 5 || s.ByChannel["relay"] != 4 {
		t.Errorf("summary %+v, want 4 notices for 5 appointments, all delivered by relay", s)
	}

	got := parseAll(t, rec.Messages())
	for _, who := range []string{"karl@example.org", "lena@example.org", "tom@example.org", "eva@example.org"} {
		if _, ok := got[who]; ok {
			t.Errorf("%s was told, but none of their appointments is affected", who)
		}
	}
	tests := []struct {
		to, lang string
		want     []string
		notWant  []string
	}{
		{"jana@example.org", "de", []string{"Samstag, 24. Oktober 2020, 09:30", "Montag, 26. Oktober 2020, 09:30", "Building 13, level 2",
			"+49 211 81-04444", "Bitte bringen Sie Ihre Unterlagen"}, []string{"20. Oktober", "P-1"}},
		{"emily@example.org", "en", []string{"Thursday, 22 October 2020 at 08:00", "oncology"}, []string{"Bitte bringen"}},
		{"ayse@example.org", "tr", []string{"27 Ekim 2020 Salı, 14:15"}, nil},
		{"camille@example.org", "de", []string{"Freitag, 23. Oktober 2020, 07:45"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.to, func(t *testing.T) {
			m, ok := got[tc.to]
			if !ok {
				t.Fatalf("no message for %s", tc.to)
			}
			if lang := m.header.Get("Content-Language"); lang != tc.lang {
				t.Errorf("Content-Language %q, want %q", lang, tc.lang)
			}
			text := strings.Join(strings.Fields(m.text), " ")
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q:\n%s", w, m.text)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(text, w) {
					t.Errorf("text has %q, which it must not", w)
				}
			}
			if m.html == "" {
				t.Error("no HTML part")
			}
			if m.header.Get("Auto-Submitted") != "auto-generated" || m.header.Get("Message-Id") == "" {
				t.Errorf("missing Auto-Submitted or Message-ID:\n%s", m.rawHead)
			}
			if subject, err := m.header.Subject(); err != nil || subject == "" {
				t.Errorf("subject %q, %v", subject, err)
			}
		})
	}
}

func TestFallbackToTheNextRelay(t *testing.T) {
	cases := []struct {
		name  string
		first func(t *testing.T, e *env) string
	}{
		{"first relay refuses connections", func(t *testing.T, _ *env) string { return closedAddr(t) }},
		{"first relay hangs", func(t *testing.T, _ *env) string { return silentAddr(t) }},
		{"first relay answers 4xx", func(t *testing.T, e *env) string {
			return e.startRelay(relay.Options{Rcpt: func(string) error {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
			}}).Addr()
		}},
		{"first relay refuses by policy", func(t *testing.T, e *env) string {
			return e.startRelay(relay.Options{Rcpt: func(string) error {
				return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relaying denied"}
			}}).Addr()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			second := e.startRelay(relay.Options{})
			e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("hospital-relay", tc.first(t, e)), smtpChannel("external-relay", second.Addr()))
			e.startWorker()
			e.importCSV(fixture)
			s := e.declare(sampleOutage(t, "evt-1"))
			if s.Delivered != 4 || s.ByChannel["external-relay"] != 4 {
				t.Errorf("summary %+v, want all 4 delivered by external-relay", s)
			}
			if n := len(second.Messages()); n != 4 {
				t.Errorf("external relay got %d messages, want 4", n)
			}
		})
	}
}

func TestBadAddressIsNotTriedOnOtherRelays(t *testing.T) {
	e := newEnv(t)
	first := e.startRelay(relay.Options{Rcpt: func(to string) error {
		if to == "emily@example.org" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<emily@example.org>: no such user"}
		}
		return nil
	}})
	second := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("hospital-relay", first.Addr()), smtpChannel("external-relay", second.Addr()))
	e.startWorker()
	e.importCSV(fixture)
	ev := sampleOutage(t, "evt-1")
	s := e.declare(ev)
	if s.Delivered != 3 || s.Manual != 1 || s.Pending != 0 {
		t.Errorf("summary %+v, want 3 delivered and 1 manual", s)
	}
	if n := len(second.Messages()); n != 0 {
		t.Errorf("the external relay was asked %d times; a bad mailbox must not be tried elsewhere", n)
	}
	manual, err := e.w.DB.ManualNotices(context.Background(), ev.Outage.OutageID)
	if err != nil || len(manual) != 1 {
		t.Fatalf("manual notices %v, %v", manual, err)
	}
	m := manual[0]
	if m.PatientID != "P-2" {
		t.Errorf("manual notice for %s, want P-2", m.PatientID)
	}
	trail := fmt.Sprint(m.Trail)
	if !strings.Contains(trail, "5.1.1") || !strings.Contains(trail, "external-relay") {
		t.Errorf("trail %s should show the 5.1.1 and the skipped external relay", trail)
	}
	if strings.Contains(trail, "emily@") {
		t.Errorf("trail %s repeats the patient's address", trail)
	}
}

func TestRepublishedEventsSendNothingNew(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.startWorker()
	e.importCSV(fixture)
	ev := sampleOutage(t, "evt-1")
	e.declare(ev)
	if n := len(rec.Messages()); n != 4 {
		t.Fatalf("first declaration sent %d messages, want 4", n)
	}

	// The same event again, as a client without a message id would send
	// it, and the same outage declared again under a new event id.
	e.publishRaw(engine.OutageSubject("ukd"), string(mustJSON(t, ev)))
	again := sampleOutage(t, "evt-2")
	s := e.declare(again)
	if s.Planned != 4 || s.Pending != 0 {
		t.Errorf("summary %+v after re-declaring, want the same 4 notices", s)
	}
	e.settled() // a wrong second send would have happened by now
	if n := len(rec.Messages()); n != 4 {
		t.Errorf("relay got %d messages after re-publishing, want still 4", n)
	}
}

func TestMalformedInputIsRejectedAndTheWorkerGoesOn(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.startWorker()
	e.importCSV(fixture)

	good := string(mustJSON(t, sampleOutage(t, "evt-good")))
	bad := map[string]struct{ subject, data, reason string }{
		"not JSON":                {"outages.ukd", `{"specversion":`, "not a JSON CloudEvent"},
		"wrong specversion":       {"outages.ukd", strings.Replace(good, `"specversion":"1.0"`, `"specversion":"0.3"`, 1), "specversion"},
		"missing hotline":         {"outages.ukd", strings.Replace(good, `"hotline":"+49 211 81-04444",`, ``, 1), "data.hotline"},
		"until before from":       {"outages.ukd", strings.Replace(good, `"until":"2020-10-28T00:00:00+01:00"`, `"until":"2020-10-01T00:00:00+02:00"`, 1), "not after data.from"},
		"unknown facility":        {"outages.nowhere", strings.Replace(good, `"facility":"ukd"`, `"facility":"nowhere"`, 1), "unknown facility"},
		"facility mismatch":       {"outages.ukd", strings.Replace(good, `"facility":"ukd"`, `"facility":"other"`, 1), "data.facility"},
		"oversized":               {"outages.ukd", strings.Replace(good, `"evt-good"`, `"`+strings.Repeat("x", notifier.MaxEventSize)+`"`, 1), "at most"},
		"bad record":              {"appointments.ukd.A-99", `{"id":"A-99","facility":"ukd"}`, "start: required"},
		"injected name":           {"appointments.ukd.A-98", `{"id":"A-98","facility":"ukd","start":"2020-10-22T09:00:00+02:00","patient":{"id":"P-98","name":"Eve\r\nBcc: victim@evil.example","email":"eve@example.org"}}`, "patient.name"},
		"injected email":          {"appointments.ukd.A-97", `{"id":"A-97","facility":"ukd","start":"2020-10-22T09:00:00+02:00","patient":{"id":"P-97","email":"eve@example.org\r\nBcc: victim@evil.example"}}`, "patient.email"},
		"unknown facility record": {"appointments.nowhere.A-1", `{"id":"A-1","facility":"nowhere","start":"2020-10-22T09:00:00+02:00","patient":{"id":"P-1"}}`, "unknown facility"},
	}
	for _, b := range bad {
		e.publishRaw(b.subject, b.data)
	}
	// Only the notifier may publish plan records, but one with empty
	// entries must not stop every worker that reads it: it is passed over.
	e.publishRaw("plans.ukd", `{"notices":[null,{"id":""}]}`)
	e.publishRaw("plans.ukd", `{"notice":{"id":""}}`)
	// The worker goes on: a good event after the bad ones is planned.
	s := e.declare(sampleOutage(t, "evt-good"))
	if s.Delivered != 4 {
		t.Errorf("summary %+v, want the 4 notices of the good event delivered", s)
	}
	var rejects []notifier.Reject
	waitUntil(t, "every bad message is recorded", func() bool {
		rejects, _ = e.w.DB.Rejects(context.Background())
		return len(rejects) >= len(bad)
	})
	for name, b := range bad {
		found := false
		for _, r := range rejects {
			if r.Subject == b.subject && strings.Contains(r.Reason, b.reason) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no reject on %s mentioning %q in %v", name, b.subject, b.reason, rejects)
		}
	}
	for _, m := range rec.Messages() {
		if strings.Contains(string(m.Data), "evil.example") || strings.Join(m.To, ",") == "victim@evil.example" {
			t.Errorf("an injected header reached a message")
		}
	}
	// A malformed event is terminated, not redelivered.
	cons, err := e.conn.JS.Consumer(context.Background(), engine.StreamOutages, engine.ConsumerPlanner)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the planner has nothing pending", func() bool {
		info, err := cons.Info(context.Background())
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
}

func mustJSON(t *testing.T, ev *notifier.Event) []byte {
	t.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
