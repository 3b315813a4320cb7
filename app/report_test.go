package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// reportStore is a worker's store filled as the PLANS and DELIVERIES
// streams would fill it.
type reportStore struct {
	t     *testing.T
	db    *store.DB
	seq   uint64
	plans uint64
}

func newReportStore(t *testing.T, dir string) *reportStore {
	t.Helper()
	db := store.NewDB(filepath.Join(dir, "notifier.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &reportStore{t: t, db: db}
}

func (s *reportStore) plan(outage, noticeID, patient string, appts ...notifier.Appointment) {
	s.t.Helper()
	if err := s.db.ApplyAppointments(context.Background(), changes(&s.seq, appts)); err != nil {
		s.t.Fatal(err)
	}
	n := &notifier.PlannedNotice{ID: noticeID, OutageID: outage, Facility: "ukd", Kind: notifier.KindPostponed, PatientID: patient,
		EventKey: "/test#" + outage, Earliest: appts[0].Start, PlannedAt: time.Now()}
	for _, a := range appts {
		n.AppointmentIDs = append(n.AppointmentIDs, a.ID)
	}
	s.applyPlan(&notifier.PlanRecord{Notice: n})
}

func (s *reportStore) handled(outage string) {
	s.t.Helper()
	s.applyPlan(&notifier.PlanRecord{Event: &notifier.HandledEvent{Source: "/test", ID: outage, Type: notifier.EventDeclared,
		State: notifier.OutageDeclared, Outage: notifier.Outage{OutageID: outage, Facility: "ukd"}, Data: []byte(`{}`)}})
}

func (s *reportStore) applyPlan(r *notifier.PlanRecord) {
	s.t.Helper()
	s.plans++
	if err := s.db.ApplyPlans(context.Background(), []notifier.PlanChange{{Seq: s.plans, Record: r}}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *reportStore) outcome(d notifier.Delivery) {
	s.t.Helper()
	s.seq++
	d.Facility, d.At = "ukd", time.Now()
	if err := s.db.ApplyDeliveries(context.Background(), []notifier.DeliveryChange{{Seq: s.seq, Delivery: &d}}); err != nil {
		s.t.Fatal(err)
	}
}

func changes(seq *uint64, appts []notifier.Appointment) []notifier.AppointmentChange {
	out := make([]notifier.AppointmentChange, len(appts))
	for i := range appts {
		*seq++
		out[i] = notifier.AppointmentChange{Seq: *seq, Appointment: &appts[i]}
	}
	return out
}

func report(t *testing.T, cfg *config.Config, outage string) *Report {
	t.Helper()
	db, err := OpenLocalStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := BuildReport(context.Background(), db, cfg, outage)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	cfg := previewConfig(dir)
	s := newReportStore(t, dir)
	s.plan("o-1", "n-1", "P-1", appt("A1", "P-1", "de", "p1@example.org", "", "cardiology", local(21, 9, 0)))
	s.plan("o-1", "n-2", "P-2",
		appt("A3", "P-2", "de", "", "", "cardiology", local(23, 9, 0)),
		appt("A2", "P-2", "de", "", "", "oncology", local(22, 9, 0)))
	s.plan("o-1", "n-3", "P-3", appt("A4", "P-3", "de", "p3@example.org", "", "cardiology", local(24, 9, 0)))
	s.handled("o-1")
	s.outcome(notifier.Delivery{NoticeID: "n-1", OutageID: "o-1", PatientID: "P-1", AppointmentIDs: []string{"A1"},
		Outcome: notifier.OutcomeDelivered, Channel: "relay", Attempts: 1})
	s.outcome(notifier.Delivery{NoticeID: "n-2", OutageID: "o-1", PatientID: "P-2", AppointmentIDs: []string{"A2", "A3"},
		Outcome: notifier.OutcomeManual, Trail: []notifier.Attempt{
			{Channel: "relay", Result: notifier.ResultSkipped, Reason: "patient has no e-mail address"},
			{Channel: "box", Result: notifier.ResultSkipped, Reason: "patient has no e-mail address"},
			{Channel: "gateway", Result: notifier.ResultFailed, Class: "permanent", Code: 400, Reason: "number refused"},
		}})
	if err := s.db.AddReject(context.Background(), notifier.Reject{Stream: engine.StreamAppointments,
		Subject: "appointments.ukd.A9", Seq: 7, Reason: "patient.email: not a plain e-mail address"}); err != nil {
		t.Fatal(err)
	}

	t.Run("pending", func(t *testing.T) {
		r := report(t, cfg, "")
		if r.Complete || r.Pending != 1 || len(r.Outages) != 1 {
			t.Fatalf("report %+v, want one outage with one notice pending", r)
		}
		o := r.Outages[0]
		if o.Notices != 3 || o.Appointments != 4 || o.Delivered != 1 || o.Manual != 1 || o.Pending != 1 {
			t.Errorf("totals %+v", o)
		}
		if !slices.Equal(o.ByChannel, []ChannelTotal{{"relay", 1}}) {
			t.Errorf("by channel %v", o.ByChannel)
		}
		if len(r.Rejects) != 1 || r.Rejects[0].Subject != "appointments.ukd.A9" {
			t.Errorf("rejects %+v", r.Rejects)
		}
	})

	t.Run("a manual notice: earliest appointment and reasons", func(t *testing.T) {
		o := report(t, cfg, "o-1").Outages[0]
		if len(o.ManualNotices) != 1 {
			t.Fatalf("manual notices %+v", o.ManualNotices)
		}
		m := o.ManualNotices[0]
		if m.PatientID != "P-2" || !m.Earliest.Equal(local(22, 9, 0)) || m.Earliest.Location().String() != "Europe/Berlin" {
			t.Errorf("got %s at %v, want P-2 at the 22nd, 09:00 in Berlin", m.PatientID, m.Earliest)
		}
		want := []string{"relay, box: patient has no e-mail address", "gateway: number refused"}
		if !slices.Equal(m.Reasons, want) {
			t.Errorf("reasons %q, want %q", m.Reasons, want)
		}
	})

	t.Run("formats", func(t *testing.T) {
		r := report(t, cfg, "")
		var table, js, cs bytes.Buffer
		if err := r.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"outage o-1", "via relay", "P-2", "Thu 2020-10-22 09:00", "gateway: number refused",
			"appointments.ukd.A9", "not finished: 1 notice without", "soonest not yet reached  Wed 2020-10-21 09:00"} {
			if !strings.Contains(table.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, table.String())
			}
		}
		if err := r.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Outages[0].ManualNotices[0].PatientID != "P-2" ||
			!back.Outages[0].SoonestUnreached.Equal(local(21, 9, 0)) {
			t.Errorf("JSON does not read back: %v\n%s", err, js.String())
		}
		if err := r.WriteCSV(&cs); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&cs).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		byKind := map[string][]string{}
		for _, rec := range recs[1:] {
			kinds = append(kinds, rec[0]+" "+rec[3])
			byKind[rec[0]+" "+rec[3]] = rec
		}
		want := []string{"total delivered", "total manual", "total pending", "total confirmed", "total failed-after-acceptance",
			"total calllist-to-call", "total calllist-later", "total calllist-claimed", "total calllist-reached", "total calllist-unreachable",
			"soonest-unreached ", "manual manual", "reject "}
		if !slices.Equal(recs[0], ReportCSVHeader) || !slices.Equal(kinds, want) {
			t.Errorf("CSV records %q, want %q", kinds, want)
		}
		col := func(kind, name string) string { return byKind[kind][slices.Index(ReportCSVHeader, name)] }
		if got := col("total calllist-to-call", "count"); got != "1" {
			t.Errorf("CSV: %s to call, want 1", got)
		}
		if got := col("soonest-unreached ", "earliest"); got != "2020-10-21T09:00:00+02:00" {
			t.Errorf("CSV: soonest not yet reached %q, want the 21st, 09:00", got)
		}
		if s, n := col("manual manual", "call_status"), col("manual manual", "call_attempts"); s != notifier.CallToCall || n != "0" {
			t.Errorf("CSV: P-2's call status %q, %q calls; want %s, 0", s, n, notifier.CallToCall)
		}
	})

	t.Run("calls made: who and when", func(t *testing.T) {
		at := time.Date(2020, 10, 21, 7, 12, 0, 0, time.UTC)
		events := []notifier.CallChange{
			{Seq: 1, Event: &notifier.CallEvent{ID: "c-1", NoticeID: "n-2", OutageID: "o-1", Facility: "ukd", Action: notifier.CallClaim,
				By: "Anna", At: at, State: notifier.CallState{ClaimedBy: "Anna", ClaimedUntil: at.Add(15 * time.Minute)}}},
			{Seq: 2, Event: &notifier.CallEvent{ID: "c-2", NoticeID: "n-2", OutageID: "o-1", Facility: "ukd", Action: notifier.CallOutcome,
				Outcome: notifier.CallNoAnswer, By: "Anna", At: at.Add(8 * time.Minute),
				State: notifier.CallState{Attempts: 1, Outcome: notifier.CallNoAnswer, OutcomeBy: "Anna", NextTry: at.Add(time.Hour)}}},
		}
		if err := s.db.ApplyCalls(context.Background(), events); err != nil {
			t.Fatal(err)
		}
		r := report(t, cfg, "o-1")
		calls := r.Outages[0].ManualNotices[0].Calls
		if len(calls) != 2 || calls[0].By != "Anna" || calls[0].Action != notifier.CallClaim || calls[1].Outcome != notifier.CallNoAnswer ||
			!calls[1].At.Equal(at.Add(8*time.Minute)) {
			t.Errorf("calls %+v, want Anna's claim, then no answer", calls)
		}
		var table bytes.Buffer
		if err := r.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"calls made", "P-2  Wed 2020-10-21 09:12  claim      by Anna", "P-2  Wed 2020-10-21 09:20  no-answer  by Anna"} {
			if !strings.Contains(table.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, table.String())
			}
		}
	})

	t.Run("complete once every notice has an outcome", func(t *testing.T) {
		s.outcome(notifier.Delivery{NoticeID: "n-3", OutageID: "o-1", PatientID: "P-3", AppointmentIDs: []string{"A4"},
			Outcome: notifier.OutcomeDelivered, Channel: "relay", Attempts: 1})
		if r := report(t, cfg, ""); !r.Complete || r.Pending != 0 {
			t.Errorf("report %+v, want complete", r)
		}
	})

	t.Run("not complete while an outage is planned", func(t *testing.T) {
		s.plan("o-2", "n-4", "P-4", appt("A5", "P-4", "de", "p4@example.org", "", "cardiology", local(25, 9, 0)))
		s.outcome(notifier.Delivery{NoticeID: "n-4", OutageID: "o-2", PatientID: "P-4", AppointmentIDs: []string{"A5"},
			Outcome: notifier.OutcomeDelivered, Channel: "relay", Attempts: 1})
		r := report(t, cfg, "")
		if r.Complete || r.Pending != 0 || len(r.Outages) != 2 || !r.Outages[1].Planning || r.Outages[1].State != "planning" {
			t.Fatalf("report %+v, want outage o-2 being planned", r)
		}
		var table bytes.Buffer
		r.WriteTable(&table)
		if !strings.Contains(table.String(), "outage o-2 at facility ukd: its first event is being planned") {
			t.Errorf("table:\n%s", table.String())
		}
		if r := report(t, cfg, "o-1"); !r.Complete {
			t.Errorf("outage o-1 alone is not complete: %+v", r)
		}
	})

	t.Run("an unknown outage", func(t *testing.T) {
		db, err := OpenLocalStore(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := BuildReport(context.Background(), db, cfg, "nope"); err == nil {
			t.Error("no error for an unknown outage")
		}
	})
}
