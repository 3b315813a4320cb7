package engine

import (
	"context"
	"log/slog"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// plansView applies the PLANS stream to the store.
type plansView struct {
	*position
	js    jetstream.JetStream
	store notifier.Store
	log   *slog.Logger
}

func (v *plansView) run(ctx context.Context) error {
	pos, err := v.store.Position(ctx, StreamPlans)
	if err != nil {
		return err
	}
	return follow(ctx, v.js, v.log, StreamPlans, v.position, pos, viewBatch, v.apply)
}

func (v *plansView) apply(batch []jetstream.Msg) func(ctx context.Context) error {
	changes := make([]notifier.PlanChange, 0, len(batch))
	for _, m := range batch {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		r, err := notifier.DecodePlanRecord(m.Data())
		r.Notices = slices.DeleteFunc(r.Notices, func(n *notifier.PlannedNotice) bool { return n == nil || n.ID == "" })
		if r.Notice != nil && r.Notice.ID == "" {
			r.Notice = nil
		}
		if err != nil || (r.Notice == nil && len(r.Notices) == 0 && r.Event == nil && r.Reject == nil) {
			v.log.Warn("plan record ignored: not a plan record", "subject", m.Subject(), "seq", md.Sequence.Stream)
			changes = append(changes, notifier.PlanChange{Seq: md.Sequence.Stream, Record: &notifier.PlanRecord{}})
			continue
		}
		changes = append(changes, notifier.PlanChange{Seq: md.Sequence.Stream, Record: &r})
	}
	return func(ctx context.Context) error { return v.store.ApplyPlans(ctx, changes) }
}
