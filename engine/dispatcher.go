package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// DefaultAckWait is how long a notice may be held without a sign of life
// before JetStream hands it to another dispatcher; the dispatcher reports
// progress well within it while a chain is slow.
const DefaultAckWait = 30 * time.Second

// DefaultParallel is how many notices a dispatcher handles at once, per
// priority, unless told: enough that the channels' connections stay busy
// while other notices wait for NATS (their claim, their outcome stored).
const DefaultParallel = 64

// dispatcher sends notices through the chain and records their outcome.
type dispatcher struct {
	js       jetstream.JetStream
	store    notifier.Store
	renderer notifier.Renderer
	chain    *notifier.Chain
	log      *slog.Logger
	parallel int
	// grace is how long sends in flight may go on after shutdown begins.
	grace   time.Duration
	ackWait time.Duration
	now     func() time.Time
	obs     notifier.Observer
	// claims serialise the revisions feedback makes of a notice's outcome.
	claims *claims
	// outcomes is how far this worker's store has applied DELIVERIES.
	outcomes *position
	// facilities and languages rebuild a notice when feedback sends it on.
	facilities map[string]notifier.Facility
	languages  []string
}

func (d *dispatcher) run(ctx context.Context) error {
	// Sends in flight at shutdown are finished, not cut off, unless they
	// outlast the grace period.
	sendCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(d.grace, cancel) })
	defer stop()

	// Urgent notices have consumers of their own, so that they never wait
	// behind a backlog of notices planned earlier.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, q := range []struct{ name, subject string }{
		{ConsumerDispatcherUrgent, SubjectNotices + ".*." + priorityUrgent},
		{ConsumerDispatcher, SubjectNotices + ".*." + priorityNormal},
	} {
		cons, err := retrying(ctx, d.log, "creating consumer "+q.name, func(ctx context.Context) (jetstream.Consumer, error) {
			return d.js.CreateOrUpdateConsumer(ctx, StreamNotices, jetstream.ConsumerConfig{
				Durable:       q.name,
				Description:   "Sends planned notices; shared by every worker.",
				AckPolicy:     jetstream.AckExplicitPolicy,
				AckWait:       d.ackWait,
				MaxAckPending: max(2*d.parallel, 64),
				FilterSubject: q.subject,
			})
		})
		if err != nil {
			return fmt.Errorf("create consumer %s: %w", q.name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = consume(ctx, cons, d.log, d.parallel, func(_ context.Context, m jetstream.Msg) {
				d.handle(sendCtx, m)
			})
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (d *dispatcher) handle(ctx context.Context, m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		m.Term()
		return
	}
	n, err := notifier.DecodeNotice(m.Data())
	if err != nil || n.ID == "" || len(n.Appointments) == 0 {
		reason := "not a notice"
		if err != nil {
			reason += ": " + notifier.JSONError(err).Error()
		}
		d.log.Error("notice rejected", "subject", m.Subject(), "seq", md.Sequence.Stream, "reason", reason)
		if err := d.store.AddReject(ctx, notifier.Reject{Stream: StreamNotices, Subject: m.Subject(), Seq: md.Sequence.Stream, Reason: reason}); err == nil {
			m.Term()
		}
		return
	}
	log := d.log.With("notice", n.ID, "outage", n.OutageID)
	// JetStream hands a message to one dispatcher at a time, and to another
	// only when the first stops saying it is working on it; a notice is
	// published once (its id is its message id, and the planner does not
	// plan a notice twice). A notice that comes back (its sender died, or
	// its acknowledgement was lost) is not sent again when it has an
	// outcome, which its sender may have stored a moment ago: this
	// worker's store catches up with DELIVERIES first.
	if md.NumDelivered > 1 {
		finished, err := d.finished(ctx, n.ID)
		if err != nil {
			log.Warn("outcome of a notice that came back not known yet; it will be tried again", "err", err)
			m.NakWithDelay(time.Second)
			return
		}
		if finished {
			log.Info("notice already has an outcome; not sent again")
			m.Ack()
			return
		}
	}
	stop := keepAlive(m, d.ackWait/3, nil)
	defer stop()

	del, err := d.deliver(ctx, &n)
	if err != nil {
		log.Warn("notice not finished; it will be sent again", "err", err)
		m.NakWithDelay(time.Second)
		return
	}
	// The outcome is what says the notice is finished: if this notice
	// comes back, it is found and nothing is sent.
	if err := d.publish(ctx, del); err != nil {
		log.Error("outcome not stored; the notice will be tried again", "err", err)
		m.NakWithDelay(time.Second)
		return
	}
	d.obs.Finished(del.Outcome, del.Channel, del.At.Sub(n.PlannedAt))
	if del.Outcome == notifier.OutcomeDelivered {
		log.Info("notice delivered", "channel", del.Channel, "attempts", del.Attempts)
	} else {
		log.Warn("notice not delivered by any channel: staff must call", "attempts", del.Attempts)
	}
	// A plain ack: if it is lost, the notice comes back, finds its outcome
	// and is acknowledged then, without a second send.
	if err := m.Ack(); err != nil {
		log.Error("acknowledge notice", "err", err)
	}
}

// caughtUp waits until this worker's store holds every outcome DELIVERIES
// holds now: the outcome a notice that came back may have, or the latest
// one that feedback revises.
func (d *dispatcher) caughtUp(ctx context.Context) error {
	last, err := lastSeq(ctx, d.js, StreamDeliveries)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
	defer cancel()
	if err := d.outcomes.waitFor(wctx, last); err != nil {
		return fmt.Errorf("the view of %s did not reach sequence %d (at %d): %w", StreamDeliveries, last, d.outcomes.Applied(), err)
	}
	return nil
}

// finished reports whether notice id has an outcome in DELIVERIES, once
// this worker's store has caught up with it.
func (d *dispatcher) finished(ctx context.Context, id string) (bool, error) {
	if err := d.caughtUp(ctx); err != nil {
		return false, err
	}
	return d.store.HasOutcome(ctx, id)
}

// deliver renders the notice and walks the chain. It fails only when ctx
// ends before an outcome.
func (d *dispatcher) deliver(ctx context.Context, n *notifier.Notice) (*notifier.Delivery, error) {
	del := &notifier.Delivery{
		NoticeID: n.ID, OutageID: n.OutageID, Facility: n.Facility, PatientID: n.Patient.ID,
		AppointmentIDs: n.AppointmentIDs(), Kind: n.Kind, Revision: 1,
	}
	msg, err := d.renderer.Render(n)
	if err != nil {
		del.Outcome, del.Channel = notifier.OutcomeManual, ChannelCallList
		del.Trail = []notifier.Attempt{{Channel: "render", At: d.now(), Result: notifier.ResultFailed, Class: notifier.Permanent.String(), Reason: err.Error()}}
		del.At = d.now().UTC()
		return del, nil
	}
	res, err := d.chain.Deliver(ctx, msg)
	if err != nil {
		return nil, err
	}
	del.Outcome, del.Channel, del.Attempts, del.Trail = res.Outcome(), res.Channel, res.Tries(), res.Trail
	if del.Outcome == notifier.OutcomeManual {
		del.Channel = ChannelCallList
	}
	del.At = d.now().UTC()
	return del, nil
}

// publish stores the outcome in DELIVERIES, retrying while NATS is away.
// The notice id is the message id, so an outcome stored twice counts once.
func (d *dispatcher) publish(ctx context.Context, del *notifier.Delivery) error {
	data, err := notifier.EncodeJSON(del)
	if err != nil {
		return err
	}
	msg := newMsg(SubjectDeliveries+"."+del.Facility, del.NoticeID, data)
	b := newBackoff(100*time.Millisecond, 5*time.Second)
	for {
		_, err := d.js.PublishMsg(ctx, msg)
		if err == nil || !b.wait(ctx) {
			return err
		}
	}
}

// keepAlive tells JetStream every interval that m is still being worked on,
// and calls also when set, until the returned stop is called.
func keepAlive(m jetstream.Msg, interval time.Duration, also func()) (stop func()) {
	t := time.NewTicker(interval)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-t.C:
				m.InProgress()
				if also != nil {
					also()
				}
			case <-done:
				return
			}
		}
	}()
	return func() { t.Stop(); close(done); <-exited }
}
