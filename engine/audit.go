package engine

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// audit applies the DELIVERIES stream to the store: every worker's view of
// every outcome, whichever worker produced it.
type audit struct {
	*position
	js    jetstream.JetStream
	store notifier.Store
	log   *slog.Logger
	// manual, when set, is told of every outage with a new manual outcome
	// or a revised one (it may have left the call list).
	manual func(outageID string)
}

func (a *audit) run(ctx context.Context) error {
	pos, err := a.store.Position(ctx, StreamDeliveries)
	if err != nil {
		return err
	}
	return follow(ctx, a.js, a.log, StreamDeliveries, a.position, pos, viewBatch, a.apply)
}

func (a *audit) apply(batch []jetstream.Msg) func(ctx context.Context) error {
	changes := make([]notifier.DeliveryChange, 0, len(batch))
	for _, m := range batch {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		c := notifier.DeliveryChange{Seq: md.Sequence.Stream}
		d, err := notifier.DecodeDelivery(m.Data())
		if err != nil || d.NoticeID == "" || d.Outcome == "" {
			reason := "not a delivery outcome"
			if err != nil {
				reason += ": " + notifier.JSONError(err).Error()
			}
			a.log.Warn("delivery record rejected", "subject", m.Subject(), "seq", c.Seq, "reason", reason)
			c.Reject = &notifier.Reject{Stream: StreamDeliveries, Subject: m.Subject(), Seq: c.Seq, Reason: reason}
		} else {
			c.Delivery = &d
		}
		changes = append(changes, c)
	}
	return func(ctx context.Context) error {
		if err := a.store.ApplyDeliveries(ctx, changes); err != nil {
			return err
		}
		if a.manual != nil {
			for _, c := range changes {
				if c.Delivery != nil && (c.Delivery.Outcome == notifier.OutcomeManual || c.Delivery.Revision > 1) {
					a.manual(c.Delivery.OutageID)
				}
			}
		}
		return nil
	}
}
