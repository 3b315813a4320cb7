package engine

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// noticeSubject is where a notice waits for dispatch:
// notices.<facility>.urgent or notices.<facility>.normal.
func (p *planner) noticeSubject(n *notifier.Notice) string {
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

// hold decides whether an outage must wait for approval, and records the
// scope held in o. The facility must have an approval threshold; then an
// outage that is held stays held (with its new scope), and any other is
// held when it would notify more new patients than the threshold, even
// after an earlier approval: an approval covers the scope it saw.
func (p *planner) hold(ctx context.Context, o *notifier.Outage, told map[string]bool) (bool, error) {
	o.Scope, o.HeldPatients = "", 0
	limit := p.facilities[o.Facility].ApprovalThreshold
	if limit <= 0 {
		return false, nil
	}
	prev, state, _, err := p.store.Outage(ctx, o.OutageID)
	if err != nil {
		return false, err
	}
	patients, last := 0, ""
	err = p.store.Affected(ctx, o, func(a notifier.AffectedAppointment) error {
		if !told[a.ID] && a.Patient.ID != last {
			patients++
			last = a.Patient.ID
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	wasHeld := state == notifier.OutageHeld
	if !wasHeld && patients <= limit {
		return false, nil
	}
	if wasHeld {
		patients += prev.HeldPatients
	}
	o.Scope, o.HeldPatients = notifier.ScopeDigest(o, patients), patients
	return true, nil
}

// approve releases an outage held for approval: its notices move from
// their held subject to the dispatchers'. An approval of an outage that is
// not held, of another scope than the one held, or published longer ago
// than the facility's approval TTL, is refused.
func (p *planner) approve(ctx context.Context, m jetstream.Msg, h *notifier.HandledEvent, log *slog.Logger) error {
	// inFacility has made sure the outage is declared, in this facility.
	prev, state, _, err := p.store.Outage(ctx, h.Outage.OutageID)
	if err != nil {
		return err
	}
	if state != notifier.OutageHeld {
		return notifier.Invalid(fmt.Errorf("outage %q is %s, not held for approval: nothing to release", prev.OutageID, state))
	}
	if want := h.Outage.Scope; want != "" && want != prev.Scope {
		return notifier.Invalid(fmt.Errorf("the approval is of scope %s, but outage %q held for approval now has scope %s (it was updated since): approve the scope the status page shows", want, prev.OutageID, prev.Scope))
	}
	ttl := cmp.Or(p.facilities[prev.Facility].ApprovalTTL, notifier.DefaultApprovalTTL)
	if md, err := m.Metadata(); err == nil && p.now().Sub(md.Timestamp) > ttl {
		return notifier.Invalid(fmt.Errorf("the approval was published %s, longer ago than the approval TTL of %s: approve again", md.Timestamp.UTC().Format(time.RFC3339), ttl))
	}
	h.Outage, h.State = prev, notifier.OutageApproved
	released, err := p.release(ctx, m, prev.Facility, prev.OutageID)
	if err != nil {
		return err
	}
	h.Released = released
	log.Info("outage approved: its notices are released", "notices", released, "scope", prev.Scope)
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
			n, err := notifier.DecodeNotice(msg.Data())
			if err != nil {
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
