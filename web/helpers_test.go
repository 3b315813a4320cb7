package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
	"github.com/postponement/notifier/web"
)

// clock is the handler tests' now: Wednesday 2020-10-21, 12:00 in
// Düsseldorf, on the first day of the outage.
var clock = time.Date(2020, 10, 21, 10, 0, 0, 0, time.UTC)

// facilities is the configuration the tests serve.
var facilities = map[string]notifier.Facility{
	"ukd": {ID: "ukd", Name: "Universitätsklinikum Düsseldorf", ShortName: "UKD", TimeZone: "Europe/Berlin", Language: "de", Country: "DE"},
}

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// openStore opens a fresh store in the test's folder.
func openStore(t testing.TB) *store.DB {
	t.Helper()
	db := store.NewDB(filepath.Join(t.TempDir(), "notifier.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// filler writes into a store through its Apply methods, as the worker's
// views do, numbering the stream messages itself.
type filler struct {
	t   testing.TB
	db  *store.DB
	seq uint64
}

func (f *filler) next() uint64 { f.seq++; return f.seq }

// outage records an outage's handled event.
func (f *filler) outage(o notifier.Outage, state string) {
	f.t.Helper()
	ev := &notifier.HandledEvent{Source: "/scheduling/ukd", ID: fmt.Sprintf("evt-%d", f.seq), Type: "outage." + state, Outage: o, State: state}
	if err := f.db.ApplyPlans(context.Background(), []notifier.PlanChange{{Seq: f.next(), Record: &notifier.PlanRecord{Event: ev}}}); err != nil {
		f.t.Fatal(err)
	}
}

// appointment records an appointment in the replica.
func (f *filler) appointment(a notifier.Appointment) {
	f.t.Helper()
	if err := f.db.ApplyAppointments(context.Background(), []notifier.AppointmentChange{{Seq: f.next(), Appointment: &a}}); err != nil {
		f.t.Fatal(err)
	}
}

// notice records a planned notice for the patient's appointments.
func (f *filler) notice(outageID, id, patientID string, earliest time.Time, appointmentIDs ...string) *notifier.PlannedNotice {
	f.t.Helper()
	n := &notifier.PlannedNotice{ID: id, Kind: notifier.KindPostponed, PatientID: patientID, AppointmentIDs: appointmentIDs,
		OutageID: outageID, Facility: "ukd", Language: "de", Earliest: earliest, PlannedAt: clock.Add(-10 * time.Minute)}
	if err := f.db.ApplyPlans(context.Background(), []notifier.PlanChange{{Seq: f.next(), Record: &notifier.PlanRecord{Notice: n}}}); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// outcome records a notice's outcome: delivered by channel, or manual when
// channel is "" (the attempt failing for reason).
func (f *filler) outcome(n *notifier.PlannedNotice, channel string, at time.Time, reason string) {
	f.t.Helper()
	d := &notifier.Delivery{NoticeID: n.ID, OutageID: n.OutageID, Facility: n.Facility, PatientID: n.PatientID,
		AppointmentIDs: n.AppointmentIDs, Kind: n.Kind, Outcome: notifier.OutcomeDelivered, Channel: channel, Attempts: 1, At: at,
		Trail: []notifier.Attempt{{Channel: "relay", At: at, Result: notifier.ResultAccepted}}}
	if channel == "" {
		d.Outcome = notifier.OutcomeManual
		d.Trail[0] = notifier.Attempt{Channel: "relay", At: at, Result: notifier.ResultFailed, Class: "bad address", Code: 550, Reason: reason}
	}
	if err := f.db.ApplyDeliveries(context.Background(), []notifier.DeliveryChange{{Seq: f.next(), Delivery: d}}); err != nil {
		f.t.Fatal(err)
	}
}

// outageID is the handler tests' outage.
const outageID = "ukd-it-2020-10"

// fixture is a store with one outage of ukd, a week across the end of
// summer time, and six notices at clock: four delivered (three by relay,
// one by sms) in the last two minutes, one manual, one pending.
func fixture(t testing.TB) *store.DB {
	t.Helper()
	db := openStore(t)
	f := &filler{t: t, db: db}
	loc := berlin(t)
	f.outage(notifier.Outage{OutageID: outageID, Facility: "ukd",
		From: time.Date(2020, 10, 21, 0, 0, 0, 0, loc), Until: time.Date(2020, 10, 28, 0, 0, 0, 0, loc),
		Departments: []string{"cardiology", "radiology"}, Kinds: []string{"outpatient"}, Action: notifier.ActionPostpone,
		Hotline: "+49 211 81-04444"}, notifier.OutageDeclared)
	var notices []*notifier.PlannedNotice
	for i := range 6 {
		start := time.Date(2020, 10, 22, 8+i, 0, 0, 0, loc)
		id := fmt.Sprintf("A-%d", i+1)
		patient := fmt.Sprintf("P-%d", i+1)
		f.appointment(notifier.Appointment{ID: id, Facility: "ukd", Department: "cardiology", Start: start, Status: "booked",
			Kind: "outpatient", Patient: notifier.Patient{ID: patient, Name: fmt.Sprintf("Patient %d", i+1), Phone: "+49 211 555010" + fmt.Sprint(i)}})
		notices = append(notices, f.notice(outageID, "n-"+fmt.Sprint(i+1), patient, start, id))
	}
	f.outcome(notices[1], "relay", clock.Add(-2*time.Minute), "")
	f.outcome(notices[2], "relay", clock.Add(-90*time.Second), "")
	f.outcome(notices[3], "relay", clock.Add(-time.Minute), "")
	f.outcome(notices[4], "sms", clock.Add(-time.Minute), "")
	f.outcome(notices[0], "", clock.Add(-30*time.Second), "550 5.1.1 <mailbox unknown>")
	return db
}

// health is what the chain reports in the handler tests: a relay with its
// breaker open and a failure reason that looks like markup, and an SMS
// gateway that is up.
func health() []notifier.ChannelHealth {
	return []notifier.ChannelHealth{
		{Name: "relay", Medium: notifier.MediumEmail, State: notifier.ChannelBreakerOpen, Breaker: "open", ConsecutiveFailures: 5,
			LastFailure: clock.Add(-time.Minute), LastFailureReason: "dial tcp: <script>alert(1)</script> refused"},
		{Name: "sms", Medium: notifier.MediumSMS, State: notifier.ChannelUp, Breaker: "closed"},
	}
}

// options are the handler tests' options on db: the store's call lists, as
// the worker writes them.
func options(db *store.DB) web.Options {
	calls := &app.CallList{DB: db, Facilities: facilities, Now: func() time.Time { return clock }}
	return web.Options{DB: db, Health: health, CallList: calls.Rows, Facilities: facilities,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock }}
}

// response is a response with its body read.
type response struct {
	*http.Response
	body string
}

// get fetches path from h.
func get(t testing.TB, h http.Handler, path string) response {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	return getURL(t, srv.URL+path)
}

// getURL fetches a URL.
func getURL(t testing.TB, url string) response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp, string(body)}
}
