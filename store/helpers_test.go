package store

import (
	"context"
	"encoding/json"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
)

// The tests fill the store the way the worker does, through the PLANS
// records; these helpers spare them writing the records out.

// nextPlanSeq is the PLANS sequence after the store's position.
func (db *DB) nextPlanSeq(ctx context.Context) (uint64, error) {
	pos, err := db.Position(ctx, engine.StreamPlans)
	return pos + 1, err
}

// PutOutage records an outage's data and state as a handled event would.
func (db *DB) PutOutage(ctx context.Context, o *notifier.Outage, state string) error {
	seq, err := db.nextPlanSeq(ctx)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(o)
	return db.ApplyPlans(ctx, []notifier.PlanChange{{Seq: seq, Record: &notifier.PlanRecord{Event: &notifier.HandledEvent{
		Source: "/test", ID: o.OutageID + "-" + state, Type: "outage." + state, Outage: *o, State: state, Data: data,
	}}}})
}

// AddNotices records planned notices as their plan records would, and
// reports for each whether it already has an outcome.
func (db *DB) AddNotices(ctx context.Context, notices []*notifier.Notice) ([]bool, error) {
	seq, err := db.nextPlanSeq(ctx)
	if err != nil {
		return nil, err
	}
	changes := make([]notifier.PlanChange, len(notices))
	for i, n := range notices {
		changes[i] = notifier.PlanChange{Seq: seq + uint64(i), Record: &notifier.PlanRecord{Notice: &notifier.PlannedNotice{
			ID: n.ID, Kind: n.Kind, PatientID: n.Patient.ID, AppointmentIDs: n.AppointmentIDs(), EventKey: n.EventKey,
			OutageID: n.OutageID, Facility: n.Facility, Language: n.Language, Earliest: n.Earliest(), PlannedAt: n.PlannedAt,
		}}}
	}
	if err := db.ApplyPlans(ctx, changes); err != nil {
		return nil, err
	}
	done := make([]bool, len(notices))
	for i, n := range notices {
		if err := db.r.QueryRowContext(ctx, `SELECT outcome IS NOT NULL FROM notices WHERE id = ?`, n.ID).Scan(&done[i]); err != nil {
			return nil, err
		}
	}
	return done, nil
}
