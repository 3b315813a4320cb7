package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// runFeedback applies what channels learn of notices after accepting them:
// a carrier's receipt confirms the SMS attempt, or reports it failed, and
// then the notice goes on down the patient's route (the next channel, else
// the call list) and its outcome is revised. A receipt for a notice that
// already went further changes nothing.
func (d *dispatcher) runFeedback(ctx context.Context) error {
	cons, err := retrying(ctx, d.log, "creating consumer "+ConsumerFeedback, func(ctx context.Context) (jetstream.Consumer, error) {
		return d.js.CreateOrUpdateConsumer(ctx, StreamFeedback, jetstream.ConsumerConfig{
			Durable:       ConsumerFeedback,
			Description:   "Applies delivery receipts to notice outcomes; shared by every worker.",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       d.ackWait,
			MaxAckPending: 16,
			FilterSubject: SubjectFeedback + ".>",
		})
	})
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", ConsumerFeedback, err)
	}
	return consume(ctx, cons, d.log, 4, d.handleFeedback)
}

func (d *dispatcher) handleFeedback(ctx context.Context, m jetstream.Msg) {
	var f notifier.Feedback
	if err := json.Unmarshal(m.Data(), &f); err != nil || f.NoticeID == "" {
		d.log.Error("feedback ignored: not feedback", "subject", m.Subject())
		m.Term()
		return
	}
	log := d.log.With("notice", f.NoticeID, "feedback", f.ID, "status", f.Status)
	stop := keepAlive(m, d.ackWait/3, func() {})
	defer stop()
	if err := d.applyFeedback(ctx, &f); err != nil {
		log.Warn("feedback not applied; it will be tried again", "err", err)
		m.NakWithDelay(time.Second)
		return
	}
	m.Ack()
}

// applyFeedback revises the notice's outcome as the feedback says.
func (d *dispatcher) applyFeedback(ctx context.Context, f *notifier.Feedback) error {
	planned, prev, ok, err := d.store.NoticeOutcome(ctx, f.NoticeID)
	if err != nil {
		return err
	}
	if !ok || prev == nil {
		// The views may not have the notice or its outcome yet: the
		// receipt can come before the outcome reached this worker's store.
		return errors.New("the notice or its outcome is not in the store yet")
	}
	a := f.Revise(prev)
	if a == nil {
		d.log.Info("feedback changes nothing: the notice went further", "notice", f.NoticeID, "status", f.Status)
		return nil
	}
	rev := f.Revised(prev, a, ChannelCallList)
	if f.Failed() {
		// An urgent notice went out on every medium at once: when another
		// channel took it too, and has not failed since, the patient has
		// it from that one.
		if ch := rev.StandingChannel(); ch != "" {
			rev.Channel = ch
			return d.publishRevision(ctx, &rev, f)
		}
		n, err := d.rebuild(ctx, planned)
		if err != nil {
			return err
		}
		tried := map[string]bool{}
		for _, t := range prev.Trail {
			if t.Result != notifier.ResultSkipped {
				tried[t.Channel] = true
			}
		}
		msg, err := d.renderer.Render(n)
		if err != nil {
			return err
		}
		res, err := d.chain.DeliverExcept(ctx, msg, tried)
		if err != nil {
			return err
		}
		rev.Trail = append(rev.Trail, res.Trail...)
		rev.Outcome, rev.Channel, rev.Attempts = res.Outcome(), res.Channel, prev.Attempts+res.Tries()
		if rev.Outcome == notifier.OutcomeManual {
			rev.Channel = ChannelCallList
		}
	}
	return d.publishRevision(ctx, &rev, f)
}

// publishRevision stores a notice's revised outcome; its message id names
// the feedback, so feedback applied twice revises once.
func (d *dispatcher) publishRevision(ctx context.Context, rev *notifier.Delivery, f *notifier.Feedback) error {
	rev.At = d.now().UTC()
	data, err := notifier.EncodeJSON(rev)
	if err != nil {
		return err
	}
	_, err = d.js.PublishMsg(ctx, newMsg(SubjectDeliveries+"."+rev.Facility, rev.NoticeID+"#"+f.ID, data))
	if err == nil {
		d.log.Info("notice outcome revised by feedback", "notice", f.NoticeID, "outcome", rev.Outcome, "channel", rev.Channel)
	}
	return err
}

// rebuild writes a planned notice again from the replica: the same
// appointments, the patient's current contact data.
func (d *dispatcher) rebuild(ctx context.Context, p notifier.PlannedNotice) (*notifier.Notice, error) {
	o, _, ok, err := d.store.Outage(ctx, p.OutageID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("outage %s not in the store", p.OutageID)
	}
	g := notifier.Grouper{Outage: &o, Facility: d.facilities[p.Facility], Kind: p.Kind, Languages: d.languages, EventKey: p.EventKey, Now: d.now()}
	var n *notifier.Notice
	err = d.store.AppointmentsByID(ctx, p.Facility, p.AppointmentIDs, func(a notifier.AffectedAppointment) error {
		if done := g.Add(a); done != nil && n == nil {
			n = done
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n == nil {
		n = g.Flush()
	}
	if n == nil {
		return nil, fmt.Errorf("none of the notice's appointments is in the store")
	}
	n.ID = p.ID
	return n, nil
}
