package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// failingStore is the worker's real SQLite store with one fault injected:
// the affected lookup of one facility fails, as on a damaged table.
type failingStore struct {
	notifier.Store
	facility string
	repaired *atomic.Bool // when set and true, the fault is gone
}

func (s failingStore) Affected(ctx context.Context, o *notifier.Outage, fn func(notifier.AffectedAppointment) error) error {
	if o.Facility == s.facility && (s.repaired == nil || !s.repaired.Load()) {
		return errors.New("database disk image is malformed")
	}
	return s.Store.Affected(ctx, o, fn)
}

// withFailingLab starts a worker that serves ukd and lab, with a relay,
// whose store fails lab's affected lookup until repaired is set (nil:
// never), an event being tried twice at most; and lab's outage event.
func withFailingLab(t *testing.T, repaired *atomic.Bool) (*env, *notifier.Event) {
	t.Helper()
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.cfg.Facilities["lab"] = e.cfg.Facilities["ukd"]
	e.cfg.Plan.MaxAttempts = 2
	e.startWorkerWith(func(w *Worker) { w.Store = failingStore{w.Store, "lab", repaired} })
	ev, err := BuildEvent(EventOptions{Facility: "lab", OutageID: "lab-down", EventID: "lab-1",
		From: time.Date(2020, 10, 21, 0, 0, 0, 0, time.UTC), Until: time.Date(2020, 10, 28, 0, 0, 0, 0, time.UTC),
		Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	return e, ev
}

// TestFailingPlanningIsBounded: an event whose planning keeps failing is
// tried a bounded number of times, then recorded as refused with the
// reason, and it never holds up another facility's planning.
func TestFailingPlanningIsBounded(t *testing.T) {
	e, broken := withFailingLab(t, nil)
	e.importCSV(fixture)
	ctx := context.Background()
	if err := engine.PublishEvent(ctx, e.conn.JS, broken); err != nil {
		t.Fatal(err)
	}
	// Published after the failing one, planned and sent while it fails.
	s := e.declare(sampleOutage(t, "evt-1"))
	if s.Delivered == 0 {
		t.Fatalf("summary %+v: ukd's outage was not sent while lab's planning failed", s)
	}
	waitUntil(t, "lab's event recorded as failed", func() bool {
		rejects, _ := e.w.DB.Rejects(ctx)
		for _, r := range rejects {
			if r.Subject == "outages.lab" && strings.Contains(r.Reason, "planning failed 2 times, given up: database disk image is malformed") {
				return true
			}
		}
		return false
	})
	cons, err := e.conn.JS.Consumer(ctx, engine.StreamOutages, engine.ConsumerPlanner+"-lab")
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "lab's planner has nothing pending", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
}

// TestPatientWithThousandsOfAppointments: one patient with 2,500 affected
// appointments and 200-character fields gets one notice that lists the 50
// soonest and counts the rest, and planning goes on; every appointment is
// covered by the notice's outcome.
func TestPatientWithThousandsOfAppointments(t *testing.T) {
	const n = 2500
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.startWorker()
	long := func(c byte) string { return strings.Repeat(string(c), 200) }
	var csv strings.Builder
	csv.WriteString("id,department,location,start,kind,patient_id,patient_name,language,email\n")
	start := time.Date(2020, 10, 21, 0, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&csv, "A-%d,%s,%s,%s,outpatient,P-1,%s,en,many@example.org\n", i, long('d'), long('l'),
			start.Add(time.Duration(i)*4*time.Minute).Format(time.RFC3339), long('n'))
	}
	csv.WriteString("B-1,cardiology,,2020-10-22T09:00:00Z,outpatient,P-2,Emily Clarke,en,emily@example.org\n")
	e.importCSV(csv.String())
	s := e.declare(sampleOutage(t, "evt-1"))
	if s.Planned != 2 || s.Delivered != 2 || s.Appointments != n+1 {
		t.Fatalf("summary %+v, want 2 notices covering %d appointments, delivered", s, n+1)
	}
	msgs := parseAll(t, rec.Messages())
	m, ok := msgs["many@example.org"]
	if !ok {
		t.Fatalf("no message for the patient with %d appointments", n)
	}
	if want := fmt.Sprintf("and %d more appointments, not listed here", n-notifier.MaxNoticeAppointments); !strings.Contains(m.text, want) {
		t.Errorf("the message does not say %q:\n%.3000s", want, m.text)
	}
	if listed := strings.Count(m.text, "\n- "); listed != notifier.MaxNoticeAppointments {
		t.Errorf("the message lists %d appointments, want %d", listed, notifier.MaxNoticeAppointments)
	}
}

// TestPlannerConsumersTakeOverFromTheSharedOne: on the first start of a
// worker with a consumer per facility, planner-<facility> begins after the
// last event the shared planner consumer of an earlier version
// acknowledged: what was planned before is not planned again, what came
// after is.
func TestPlannerConsumersTakeOverFromTheSharedOne(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	ctx := context.Background()
	if err := engine.EnsureStreams(ctx, e.conn.JS, 1); err != nil {
		t.Fatal(err)
	}
	before := sampleOutage(t, "evt-old")
	before.Outage.OutageID = "planned-by-the-old-version"
	before = rebuild(t, before, notifier.EventDeclared)
	if err := engine.PublishEvent(ctx, e.conn.JS, before); err != nil {
		t.Fatal(err)
	}
	// The earlier version's shared consumer, having planned that event.
	legacy, err := e.conn.JS.CreateOrUpdateConsumer(ctx, engine.StreamOutages, jetstream.ConsumerConfig{
		Durable: engine.ConsumerPlanner, AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 1, FilterSubject: engine.SubjectOutages + ".>"})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := legacy.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range msgs.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}

	e.startWorker()
	e.importCSV(fixture)
	after := sampleOutage(t, "evt-new")
	if s := e.declare(after); s.Delivered == 0 {
		t.Errorf("the event published after the upgrade: %+v, want it planned and sent", s)
	}
	e.settled()
	if _, _, ok, _ := e.w.DB.Outage(ctx, before.Outage.OutageID); ok {
		t.Error("the event the earlier version had planned was planned again")
	}
	cons, err := e.conn.JS.Consumer(ctx, engine.StreamOutages, engine.ConsumerPlanner+"-ukd")
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := cons.Info(ctx); info.Config.OptStartSeq != 2 {
		t.Errorf("planner-ukd starts at %d, want 2 (after the shared consumer's last)", info.Config.OptStartSeq)
	}
}
