package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// TestFacilityBoundary: events on a facility without signing keys cannot
// act on the outages of a facility that signs its events. An unsigned
// approval or resolution naming the other facility's held outage is refused
// with the reason recorded, an approval of an outage not yet declared is
// refused, and an event that reuses the signed facility's source and id
// does not make the real event look already handled.
func TestFacilityBoundary(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	scheduling, schedulingKey := keyPair(t, "scheduling")
	approver, approverKey := keyPair(t, "director")
	open := e.cfg.Facilities["ukd"] // no keys: accepts unsigned events
	open.Name, open.ShortName = "Open Clinic", "OC"
	e.cfg.Facilities["open"] = open
	f := e.cfg.Facilities["ukd"]
	f.Keys = []string{scheduling}
	f.Approvers = []string{approver}
	f.ApprovalThreshold = 2
	e.cfg.Facilities["ukd"] = f
	e.startWorker()
	e.importCSV(fixture)
	ctx := context.Background()

	publish := func(ev *notifier.Event, keyFile string) *notifier.Event {
		t.Helper()
		if keyFile != "" {
			var err error
			if ev, err = SignWith(ev, keyFile); err != nil {
				t.Fatal(err)
			}
		}
		if err := engine.PublishEvent(ctx, e.conn.JS, ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	build := func(o EventOptions) *notifier.Event {
		t.Helper()
		ev, err := BuildEvent(o)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	outage := publish(sampleOutage(t, "declared"), schedulingKey)
	id := outage.Outage.OutageID
	waitUntil(t, "the signed outage is held for approval", func() bool {
		_, state, _, _ := e.w.DB.Outage(ctx, id)
		return state == notifier.OutageHeld
	})

	// The attacks, all unsigned, all on the open facility's subject.
	publish(build(EventOptions{Type: notifier.EventApproved, Facility: "open", OutageID: id, EventID: "foreign-approval"}), "")
	publish(build(EventOptions{Type: notifier.EventResolved, Facility: "open", OutageID: id, EventID: "foreign-resolve", Notify: true}), "")
	publish(build(EventOptions{Type: notifier.EventApproved, Facility: "open", OutageID: "not-yet-declared", EventID: "early-approval"}), "")
	// The open facility's own outage, carrying the source and id that the
	// real approval will have.
	realApproval := build(EventOptions{Type: notifier.EventApproved, Facility: "ukd", OutageID: id, EventID: "approval", Source: "/scheduling/ukd"})
	berlin, _ := time.LoadLocation("Europe/Berlin")
	squat := build(EventOptions{Facility: "open", OutageID: "open-it", EventID: realApproval.ID, Source: realApproval.Source,
		From: time.Date(2020, 10, 21, 0, 0, 0, 0, berlin), Until: time.Date(2020, 10, 22, 0, 0, 0, 0, berlin),
		Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	publish(squat, "")
	waitUntil(t, "the open facility's own outage is planned", func() bool {
		ok, _ := e.w.DB.HasEvent(ctx, "open", squat.Source, squat.ID)
		return ok
	})

	rejects, err := e.w.DB.Rejects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := ""
	for _, r := range rejects {
		all += r.Reason + "\n"
	}
	if n := strings.Count(all, "belongs to another facility"); n != 2 {
		t.Errorf("%d refusals as another facility's outage, want 2 (approval and resolution):\n%s", n, all)
	}
	if !strings.Contains(all, "an approval cannot come before its declaration") {
		t.Errorf("the approval of an outage not yet declared was not refused:\n%s", all)
	}
	if o, state, _, _ := e.w.DB.Outage(ctx, id); state != notifier.OutageHeld || o.Facility != "ukd" {
		t.Errorf("outage %s is %q of %q after the attacks, want still held, of ukd", id, state, o.Facility)
	}
	if n := len(rec.Messages()); n != 0 {
		t.Fatalf("%d messages sent for a held outage after unsigned events of another facility", n)
	}

	// The approver's real approval, with the source and id the open
	// facility already used, releases the held notices.
	publish(realApproval, approverKey)
	if s := e.waitFor(outage); s.Delivered != 4 {
		t.Errorf("summary %+v after the real approval, want 4 delivered", s)
	}
	for _, m := range rec.Messages() {
		if strings.Contains(string(m.Data), "Services have resumed") || strings.Contains(string(m.Data), "wieder") {
			t.Errorf("a patient of ukd was told services resumed by the open facility's event")
		}
	}
}
