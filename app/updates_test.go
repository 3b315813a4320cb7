package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// TestOutageUpdatedTwiceThenResolved follows one outage through two
// updates and a resolution and checks, message by message, that each
// patient was told exactly what changed for them.
func TestOutageUpdatedTwiceThenResolved(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.startWorker()

	day := func(n int) time.Time { return time.Now().Add(time.Duration(n) * 24 * time.Hour).Truncate(time.Hour) }
	e.importCSV(fmt.Sprintf(`id,department,start,patient_id,language,email
A-1,cardiology,%s,P-1,en,p1@example.org
A-2,oncology,%s,P-2,de,p2@example.org
A-3,radiology,%s,P-3,tr,p3@example.org
A-4,cardiology,%s,P-4,en,p4@example.org
A-5,radiology,%s,P-4,en,p4@example.org
`, day(10).Format(time.RFC3339), day(11).Format(time.RFC3339), day(12).Format(time.RFC3339),
		day(15).Format(time.RFC3339), day(16).Format(time.RFC3339)))

	event := func(id, typ string, depts []string, until time.Time) *notifier.Event {
		ev, err := BuildEvent(EventOptions{Type: typ, Facility: "ukd", OutageID: "o-1", EventID: id,
			From: day(9), Until: until, Departments: depts, Hotline: "+49 211 81-04444", Notify: typ == notifier.EventResolved})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	// Declared: cardiology and oncology until day 14 → P-1, P-2.
	e.declare(event("e-1", notifier.EventDeclared, []string{"cardiology", "oncology"}, day(14)))
	// Update 1: cardiology and radiology until day 17 → new: P-3,
	// P-4; A-2 left the scope → P-2 told it goes ahead.
	e.declare(event("e-2", notifier.EventUpdated, []string{"cardiology", "radiology"}, day(17)))
	// Update 2: cardiology only → go ahead after all.
	e.declare(event("e-3", notifier.EventUpdated, []string{"cardiology"}, day(17)))
	// Resolved with notify → those still postponed hear that
	// services resumed.
	e.declare(event("e-4", notifier.EventResolved, nil, time.Time{}))

	notices, err := e.w.DB.OutageNotices(context.Background(), "o-1")
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]notifier.PlannedNotice{}
	for _, n := range notices {
		byID[n.ID] = n
	}
	got := map[string][]string{}
	for _, m := range rec.Messages() {
		p := parse(t, m)
		id, _, _ := strings.Cut(strings.Trim(p.header.Get("Message-Id"), "<>"), "@")
		n, ok := byID[id]
		if !ok {
			t.Fatalf("message %s is no notice of the outage", id)
		}
		ids := slices.Clone(n.AppointmentIDs)
		slices.Sort(ids)
		got[m.To[0]] = append(got[m.To[0]], n.Kind+" "+strings.Join(ids, ","))
		if p.text == "" {
			t.Errorf("notice %s (%s) has no text", id, n.Kind)
		}
	}
	want := map[string][]string{
		"p1@example.org": {"postponed A-1", "resumed A-1"},
		"p2@example.org": {"postponed A-2", "reinstated A-2"},
		"p3@example.org": {"postponed A-3", "reinstated A-3"},
		"p4@example.org": {"postponed A-4,A-5", "reinstated A-5", "resumed A-4"},
	}
	for who, w := range want {
		if !slices.Equal(got[who], w) {
			t.Errorf("%s was told %v, want %v", who, got[who], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("messages went to %d patients, want %d", len(got), len(want))
	}
	s, _ := e.w.DB.Summarize(context.Background(), "o-1")
	if s.Pending != 0 || s.Manual != 0 {
		t.Errorf("summary %+v, want every notice delivered", s)
	}
}
