package notifier

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// OutageHeld and OutageApproved are the states of an outage held for
// approval, and of one released.
const (
	OutageHeld     = "held"
	OutageApproved = "approved"
)

// noticeSubject is where a notice waits for dispatch:
// notices.<facility>.urgent or notices.<facility>.normal.
func (p *planner) noticeSubject(n *Notice) string {
	priority := priorityNormal
	if p.urgent(n, p.now()) {
		priority = priorityUrgent
	}
	return SubjectNotices + "." + n.Facility + "." + priority
}

// heldSubject is where the notices of an outage held for approval wait:
// notices.<facility>.held.<outage id in hex>, which no dispatcher reads.
func heldSubject(facility, outageID string) string {
	return SubjectNotices + "." + facility + ".held." + hex.EncodeToString([]byte(outageID))
}

// mustHold reports whether an outage must wait for approval: its facility
// has an approval threshold and the outage would notify more patients than
// that, not counting those already told.
func (p *planner) mustHold(ctx context.Context, o *Outage, told map[string]bool) (bool, error) {
	limit := p.facilities[o.Facility].ApprovalThreshold
	if limit <= 0 {
		return false, nil
	}
	if _, state, ok, err := p.store.Outage(ctx, o.OutageID); err != nil {
		return false, err
	} else if ok && state == OutageApproved {
		return false, nil
	}
	patients, last := 0, ""
	err := p.store.Affected(ctx, o, func(a AffectedAppointment) error {
		if !told[a.ID] && a.Patient.ID != last {
			patients++
			last = a.Patient.ID
		}
		return nil
	})
	return patients > limit, err
}

// approve releases an outage held for approval: its notices move from
// their held subject to the dispatchers'.
func (p *planner) approve(ctx context.Context, m jetstream.Msg, h *HandledEvent, log *slog.Logger) error {
	// inFacility has made sure the outage is declared, in this facility.
	prev, state, _, err := p.store.Outage(ctx, h.Outage.OutageID)
	if err != nil {
		return err
	}
	if state != OutageHeld && state != OutageApproved {
		log.Warn("approval of an outage that is not held; nothing to release", "state", state)
		h.Outage, h.State = prev, state
		return nil
	}
	h.Outage, h.State = prev, OutageApproved
	released, err := p.release(ctx, m, prev.Facility, prev.OutageID)
	if err != nil {
		return err
	}
	log.Info("outage approved: its notices are released", "notices", released)
	return nil
}

// release moves every held notice of the outage to its dispatch subject.
func (p *planner) release(ctx context.Context, m jetstream.Msg, facility, outageID string) (int, error) {
	name := "release-" + hex.EncodeToString([]byte(outageID))
	if len(name) > 200 {
		name = name[:200]
	}
	cons, err := p.js.CreateOrUpdateConsumer(ctx, StreamNotices, jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "Releases the notices of an approved outage.",
		AckPolicy:     jetstream.AckExplicitPolicy,
		FilterSubject: heldSubject(facility, outageID),
		MaxAckPending: 1000,
	})
	if err != nil {
		return 0, fmt.Errorf("consumer for held notices: %w", err)
	}
	released := 0
	for {
		batch, err := cons.FetchNoWait(500)
		if err != nil {
			return released, err
		}
		var msgs []jetstream.Msg
		for msg := range batch.Messages() {
			msgs = append(msgs, msg)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return released, err
		}
		if len(msgs) == 0 {
			break
		}
		futures := make([]jetstream.PubAckFuture, 0, len(msgs))
		for _, msg := range msgs {
			var n Notice
			if err := json.Unmarshal(msg.Data(), &n); err != nil {
				msg.Term()
				continue
			}
			f, err := p.js.PublishMsgAsync(newMsg(p.noticeSubject(&n), n.ID+":released", msg.Data()))
			if err != nil {
				return released, err
			}
			futures = append(futures, f)
		}
		if err := awaitAll(ctx, futures); err != nil {
			return released, err
		}
		for _, msg := range msgs {
			if err := msg.DoubleAck(ctx); err != nil {
				return released, err
			}
		}
		released += len(msgs)
		m.InProgress()
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = p.js.DeleteConsumer(dctx, StreamNotices, name)
	return released, nil
}
