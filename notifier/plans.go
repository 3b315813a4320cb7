package notifier

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// PlanRecord is one message of the PLANS stream: a planner's decision, so
// that every worker's store holds the same notices, outages and refused
// events, whichever worker planned them. Exactly one field is set: Notices
// for a chunk of notices planned together (Notice, one notice, is still
// read).
type PlanRecord struct {
	Notices []*PlannedNotice `json:"notices,omitempty"`
	Notice  *PlannedNotice   `json:"notice,omitempty"`
	Event   *HandledEvent    `json:"event,omitempty"`
	Reject  *Reject          `json:"reject,omitempty"`
}

// HandledEvent records an outage event whose planning is complete, with
// the outage's data and state after it.
type HandledEvent struct {
	Source string `json:"source"`
	ID     string `json:"id"`
	Type   string `json:"type"`
	Outage Outage `json:"outage"`
	State  string `json:"state"`
	// Data is the event's data as received.
	Data json.RawMessage `json:"data"`
	// Released, for an approval, is how many held notices it released.
	Released int `json:"released,omitempty"`
}

// Key names the event in notices planned for it.
func (e *HandledEvent) Key() string { return e.Source + "#" + e.ID }

// PlanChange is one message of the PLANS stream as the store applies it.
type PlanChange struct {
	Seq    uint64
	Record *PlanRecord
}

// plansView applies the PLANS stream to the store.
type plansView struct {
	*position
	js    jetstream.JetStream
	store Store
	log   *slog.Logger
}

func (v *plansView) run(ctx context.Context) error {
	pos, err := v.store.Position(ctx, StreamPlans)
	if err != nil {
		return err
	}
	return follow(ctx, v.js, v.log, StreamPlans, v.position, pos, v.apply)
}

func (v *plansView) apply(batch []jetstream.Msg) func(ctx context.Context) error {
	changes := make([]PlanChange, 0, len(batch))
	for _, m := range batch {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		var r PlanRecord
		err = json.Unmarshal(m.Data(), &r)
		r.Notices = slices.DeleteFunc(r.Notices, func(n *PlannedNotice) bool { return n == nil || n.ID == "" })
		if r.Notice != nil && r.Notice.ID == "" {
			r.Notice = nil
		}
		if err != nil || (r.Notice == nil && len(r.Notices) == 0 && r.Event == nil && r.Reject == nil) {
			v.log.Warn("plan record ignored: not a plan record", "subject", m.Subject(), "seq", md.Sequence.Stream)
			changes = append(changes, PlanChange{Seq: md.Sequence.Stream, Record: &PlanRecord{}})
			continue
		}
		changes = append(changes, PlanChange{Seq: md.Sequence.Stream, Record: &r})
	}
	return func(ctx context.Context) error { return v.store.ApplyPlans(ctx, changes) }
}

// plannedRecord is what PLANS keeps of a notice: no contact data.
func plannedRecord(n *Notice) *PlannedNotice {
	return &PlannedNotice{
		ID: n.ID, Kind: n.Kind, PatientID: n.Patient.ID, AppointmentIDs: n.AppointmentIDs(), EventKey: n.EventKey,
		OutageID: n.OutageID, Facility: n.Facility, Language: n.Language, Earliest: n.Earliest(), PlannedAt: n.PlannedAt,
	}
}
