package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// feedbackLoop applies what channels learn of notices after accepting
// them: a carrier's receipt confirms the SMS attempt, or reports it failed,
// and then the notice goes on down the patient's route (the next channel,
// else the call list) and its outcome is revised. A receipt for a notice
// that already went further changes nothing.
//
// Feedback is applied to the notice's latest outcome, one revision at a
// time: before reading the outcome, the loop waits until this worker's
// audit view has applied every outcome DELIVERIES holds, and revision N+1
// of a notice is claimed (as notices are) before it is worked out, so two
// reports for one notice, handled at once here or on two workers, never
// both build revision N+1 (nor both send the notice on): the second waits
// for the first and revises what it made.
type feedbackLoop struct {
	*dispatcher
}

// errRevisionTaken says that another handler builds, or built, the
// revision this feedback would have made: it is applied again to that one.
var errRevisionTaken = errors.New("another report revises the notice at the same time")

func (l *feedbackLoop) run(ctx context.Context) error {
	cons, err := retrying(ctx, l.log, "creating consumer "+ConsumerFeedback, func(ctx context.Context) (jetstream.Consumer, error) {
		return l.js.CreateOrUpdateConsumer(ctx, StreamFeedback, jetstream.ConsumerConfig{
			Durable:       ConsumerFeedback,
			Description:   "Applies delivery receipts to notice outcomes; shared by every worker.",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       l.ackWait,
			MaxAckPending: 16,
			FilterSubject: SubjectFeedback + ".>",
		})
	})
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", ConsumerFeedback, err)
	}
	return consume(ctx, cons, l.log, 4, l.handle)
}

func (l *feedbackLoop) handle(ctx context.Context, m jetstream.Msg) {
	var f notifier.Feedback
	if err := json.Unmarshal(m.Data(), &f); err != nil || f.NoticeID == "" {
		l.log.Error("feedback ignored: not feedback", "subject", m.Subject())
		m.Term()
		return
	}
	log := l.log.With("notice", f.NoticeID, "feedback", f.ID, "status", f.Status)
	var claim claimRef
	stop := keepAlive(m, l.ackWait/3, claim.refresh(ctx, l.claims, log))
	defer stop()
	err := l.apply(ctx, &f, &claim)
	var busy *busyError
	switch {
	case errors.As(err, &busy):
		log.Info("feedback waits for another report on the notice", "retry_in", busy.wait.Round(time.Millisecond))
		m.NakWithDelay(busy.wait)
		return
	case err != nil:
		log.Warn("feedback not applied; it will be tried again", "err", err)
		m.NakWithDelay(time.Second)
		return
	}
	m.Ack()
}

// busyError is errRevisionTaken, to be tried again after wait.
type busyError struct{ wait time.Duration }

func (e *busyError) Error() string { return errRevisionTaken.Error() }
func (e *busyError) Unwrap() error { return errRevisionTaken }

// apply revises the notice's outcome as the feedback says.
func (l *feedbackLoop) apply(ctx context.Context, f *notifier.Feedback, claim *claimRef) error {
	if err := l.caughtUp(ctx); err != nil {
		return err
	}
	planned, prev, ok, err := l.store.NoticeOutcome(ctx, f.NoticeID)
	if err != nil {
		return err
	}
	if !ok || prev == nil {
		// The receipt can come before the notice's outcome was stored.
		return errors.New("the notice or its outcome is not in the store yet")
	}
	a := f.Revise(prev)
	if a == nil {
		l.log.Info("feedback changes nothing: the notice went further", "notice", f.NoticeID, "status", f.Status)
		return nil
	}
	rev := f.Revised(prev, a, ChannelCallList)
	key := revisionKey(rev.NoticeID, rev.Revision)
	status, crev, wait, done, err := l.claims.acquire(ctx, key)
	switch {
	case err != nil:
		return fmt.Errorf("claim revision %d: %w", rev.Revision, err)
	case status == claimBusy:
		return &busyError{wait: min(wait, time.Second)}
	case status == claimFinished:
		// Another report made this revision; it may not be stored yet.
		if done != nil {
			if err := l.publishRevision(ctx, done); err != nil && !errors.Is(err, errRevisionTaken) {
				return err
			}
		}
		return &busyError{wait: 100 * time.Millisecond}
	}
	claim.set(key, crev)
	if f.Failed() {
		if err := l.sendOn(ctx, planned, prev, &rev, addressRefused(f, a)); err != nil {
			return err
		}
	}
	rev.At = l.now().UTC()
	if err := l.finishRevision(ctx, key, &rev); err != nil {
		return err
	}
	err = l.publishRevision(ctx, &rev)
	if err == nil {
		l.log.Info("notice outcome revised by feedback", "notice", f.NoticeID, "revision", rev.Revision,
			"outcome", rev.Outcome, "channel", rev.Channel)
	}
	return err
}

// sendOn makes rev, a notice a channel reported failed after accepting it,
// the patient's next channel's: none when another channel took the notice
// too and has not failed since (an urgent notice goes out on every medium
// at once), else the route's next channel not yet tried, else the call
// list.
// A channel named by badAddress reported the patient's address itself
// unusable: no channel of its medium is tried again, as when a channel
// refuses an address while sending.
func (l *feedbackLoop) sendOn(ctx context.Context, planned notifier.PlannedNotice, prev, rev *notifier.Delivery, badAddress string) error {
	if ch := rev.StandingChannel(); ch != "" {
		rev.Channel = ch
		return nil
	}
	n, err := l.rebuild(ctx, planned)
	if err != nil {
		return err
	}
	tried := map[string]bool{}
	for _, t := range prev.Trail {
		if t.Result != notifier.ResultSkipped {
			tried[t.Channel] = true
		}
	}
	if badAddress != "" {
		links := l.chain.Links()
		if i := slices.IndexFunc(links, func(k notifier.Link) bool { return k.Sender.Name() == badAddress }); i >= 0 {
			for _, k := range links {
				if k.Sender.Medium() == links[i].Sender.Medium() {
					tried[k.Sender.Name()] = true
				}
			}
		}
	}
	msg, err := l.renderer.Render(n)
	if err != nil {
		return err
	}
	res, err := l.chain.DeliverExcept(ctx, msg, tried)
	if err != nil {
		return err
	}
	rev.Trail = append(rev.Trail, res.Trail...)
	rev.Outcome, rev.Channel, rev.Attempts = res.Outcome(), res.Channel, prev.Attempts+res.Tries()
	if rev.Outcome == notifier.OutcomeManual {
		rev.Channel = ChannelCallList
	}
	return nil
}

// addressRefused names the channel whose bounce says the address itself is
// unusable (5.1.x: no such mailbox, bad domain or syntax), as a refusal with
// that status while sending does; else "".
func addressRefused(f *notifier.Feedback, a *notifier.Attempt) string {
	if f.Kind == notifier.FeedbackBounce && strings.HasPrefix(f.Status, "5.1.") && a != nil {
		return a.Channel
	}
	return ""
}

// revisionKey names a notice's revision in the claims bucket:
// <notice id>.r<revision>.
func revisionKey(noticeID string, revision int) string {
	return noticeID + ".r" + strconv.Itoa(revision)
}

// finishRevision marks a revision claimed with revisionKey as made, with
// the outcome, before it is published: a worker that dies in between
// leaves it for the next report on the notice to publish.
func (l *feedbackLoop) finishRevision(ctx context.Context, key string, rev *notifier.Delivery) error {
	v, err := json.Marshal(claimValue{Worker: l.claims.worker, State: claimDone, Delivery: rev})
	if err != nil {
		return err
	}
	_, err = l.claims.kv.Put(ctx, key, v)
	return err
}

// publishRevision stores a notice's revised outcome. Its message id names
// the notice and the revision (<notice id>#<revision>), so JetStream stores one revision N+1 of a
// notice however many reports try to make it; a second is
// errRevisionTaken.
func (l *feedbackLoop) publishRevision(ctx context.Context, rev *notifier.Delivery) error {
	data, err := notifier.EncodeJSON(rev)
	if err != nil {
		return err
	}
	ack, err := l.js.PublishMsg(ctx, newMsg(SubjectDeliveries+"."+rev.Facility, rev.NoticeID+"#"+strconv.Itoa(rev.Revision), data))
	if err != nil {
		return err
	}
	if ack.Duplicate {
		return errRevisionTaken
	}
	return nil
}

// claimRef is the revision claim a feedback handler holds, if any, kept
// alive while it sends the notice on.
type claimRef struct {
	mu  sync.Mutex
	key string
	rev uint64
}

func (c *claimRef) set(key string, rev uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.key, c.rev = key, rev
}

// refresh is what keepAlive calls: it refreshes the claim, when one is held.
func (c *claimRef) refresh(ctx context.Context, cl *claims, log *slog.Logger) func() {
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.key == "" {
			return
		}
		if r, err := cl.refresh(ctx, c.key, c.rev); err == nil {
			c.rev = r
		} else {
			log.Warn("revision claim not refreshed", "err", err)
		}
	}
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
