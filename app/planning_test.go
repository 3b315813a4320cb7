package app

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// TestFailingPlanningIsBounded: an event whose planning keeps failing is
// tried a bounded number of times, then recorded as refused with the
// reason, and it never holds up another facility's planning.
func TestFailingPlanningIsBounded(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.cfg.Facilities["lab"] = e.cfg.Facilities["ukd"]
	e.cfg.Plan.MaxAttempts = 2
	e.startWorkerWith(func(w *Worker) { w.Store = failingStore{w.Store, "lab", nil} })
	e.importCSV(fixture)
	ctx := context.Background()

	broken, err := BuildEvent(EventOptions{Facility: "lab", OutageID: "lab-down", EventID: "lab-1",
		From: time.Date(2020, 10, 21, 0, 0, 0, 0, time.UTC), Until: time.Date(2020, 10, 28, 0, 0, 0, 0, time.UTC),
		Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	if err := notifier.PublishEvent(ctx, e.conn.JS, broken); err != nil {
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
	cons, err := e.conn.JS.Consumer(ctx, notifier.StreamOutages, notifier.ConsumerPlanner+"-lab")
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "lab's planner has nothing pending", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
}
