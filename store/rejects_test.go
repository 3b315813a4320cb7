package store

import (
	"context"
	"testing"

	"github.com/postponement/notifier/notifier"
)

// TestRefusalsOutsideTheStreamsAreEachKept: HL7 messages refused before
// they reached a stream have no sequence of their own; each is kept, under
// its record's sequence in PLANS, and the same record applied again once.
func TestRefusalsOutsideTheStreamsAreEachKept(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	reject := func(seq uint64, reason string) notifier.PlanChange {
		return notifier.PlanChange{Seq: seq, Record: &notifier.PlanRecord{Reject: &notifier.Reject{Stream: "HL7", Subject: "hl7.ukd", Reason: reason}}}
	}
	if err := db.ApplyPlans(ctx, []notifier.PlanChange{reject(4, "SCH-11.4: no start time"), reject(5, "MSH-18: not supported")}); err != nil {
		t.Fatal(err)
	}
	if err := db.ApplyPlans(ctx, []notifier.PlanChange{reject(5, "MSH-18: not supported")}); err != nil {
		t.Fatal(err)
	}
	rejects, err := db.Rejects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejects) != 2 || rejects[0].Seq != 4 || rejects[1].Seq != 5 {
		t.Errorf("rejects %+v, want both refusals once, at PLANS sequences 4 and 5", rejects)
	}
}
