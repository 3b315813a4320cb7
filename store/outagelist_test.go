package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

func TestOutagesPlanning(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	var seq uint64
	apply := func(r *notifier.PlanRecord) {
		t.Helper()
		seq++
		if err := db.ApplyPlans(ctx, []notifier.PlanChange{{Seq: seq, Record: r}}); err != nil {
			t.Fatal(err)
		}
	}
	notice := func(outage, id, key string) *notifier.PlanRecord {
		return &notifier.PlanRecord{Notice: &notifier.PlannedNotice{ID: id, OutageID: outage, Facility: "ukd", Kind: notifier.KindPostponed,
			PatientID: "P-" + id, AppointmentIDs: []string{"A-" + id}, EventKey: key, Earliest: time.Now(), PlannedAt: time.Now()}}
	}
	handled := func(outage, id, state string) *notifier.PlanRecord {
		return &notifier.PlanRecord{Event: &notifier.HandledEvent{Source: "/test", ID: id, Type: "outage." + state, State: state,
			Outage: notifier.Outage{OutageID: outage, Facility: "ukd", Departments: []string{"*"}}, Data: []byte(`{}`)}}
	}
	check := func(what string, want ...string) {
		t.Helper()
		got, err := db.Outages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		for _, o := range got {
			s := o.Outage.OutageID + " " + o.State
			if o.Planning {
				s += " planning"
			}
			states = append(states, s)
		}
		if !slices.Equal(states, want) {
			t.Errorf("after %s: %q, want %q", what, states, want)
		}
	}
	check("nothing")
	apply(notice("o-1", "n-1", "/test#e-1"))
	check("the first notice of an outage", "o-1  planning")
	apply(handled("o-1", "e-1", notifier.OutageDeclared))
	check("its event", "o-1 declared")
	apply(notice("o-1", "n-2", "/test#e-2"))
	apply(notice("o-2", "n-3", "/test#e-3"))
	check("an update's first notice and another outage's", "o-1 declared planning", "o-2  planning")
	apply(handled("o-1", "e-2", notifier.OutageUpdated))
	apply(handled("o-2", "e-3", notifier.OutageDeclared))
	check("both events", "o-1 updated", "o-2 declared")

	// An outcome from another worker, before its plan record, says nothing
	// about planning.
	if err := db.ApplyDeliveries(ctx, []notifier.DeliveryChange{{Seq: 1, Delivery: &notifier.Delivery{NoticeID: "n-9", OutageID: "o-2",
		Facility: "ukd", PatientID: "P-9", AppointmentIDs: []string{"A-9"}, Kind: notifier.KindPostponed,
		Outcome: notifier.OutcomeDelivered, Channel: "relay", At: time.Now()}}}); err != nil {
		t.Fatal(err)
	}
	check("a delivery ahead of its plan", "o-1 updated", "o-2 declared")
}
