package engine

import (
	"context"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// Confirmation statuses on the FEEDBACK stream.
const (
	StatusConfirmed    = "confirmed"
	StatusNotConfirmed = "not-confirmed"
)

// ConfirmationFeedback is the feedback of a patient's confirmation of a
// notice, named by the notice alone: a second confirmation is the same
// feedback and counts once.
func ConfirmationFeedback(noticeID, facility string, now time.Time) *notifier.Feedback {
	return notifier.NewFeedback(notifier.FeedbackConfirmation, noticeID, facility, notifier.ChannelConfirmLink, StatusConfirmed, "", now)
}

// runConfirmDeadlines puts on the call list, with the reason "not
// confirmed", every notice telling a patient not to come that was
// delivered but not confirmed within its urgency's deadline (within; 0
// for none). Every worker looks; the feedback is named by the notice, so
// that it is applied once however many publish it.
func (d *dispatcher) runConfirmDeadlines(ctx context.Context, within func(urgent bool) time.Duration) error {
	shortest := min(positive(within(true)), positive(within(false)))
	every := min(max(shortest/4, 100*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := d.confirmDeadlines(ctx, within); err != nil && ctx.Err() == nil {
			d.log.Warn("unconfirmed notices not looked through; trying again", "err", err)
		}
	}
}

// positive is d, or the longest duration for d ≤ 0 (no deadline).
func positive(d time.Duration) time.Duration {
	if d <= 0 {
		return 1<<63 - 1
	}
	return d
}

func (d *dispatcher) confirmDeadlines(ctx context.Context, within func(urgent bool) time.Duration) error {
	now := d.now()
	list, err := d.store.Unconfirmed(ctx, now)
	if err != nil {
		return err
	}
	policy := d.chain.Policy()
	for _, u := range list {
		deadline := within(policy.Urgent(u.Earliest, u.DeliveredAt))
		if deadline <= 0 || now.Before(u.DeliveredAt.Add(deadline)) {
			continue
		}
		f := notifier.NewFeedback(notifier.FeedbackUnconfirmed, u.ID, u.Facility, notifier.ChannelConfirmLink, StatusNotConfirmed, "", now)
		f.Reason = "not confirmed within " + shortDuration(deadline)
		if err := PublishFeedback(ctx, d.js, f); err != nil {
			return err
		}
	}
	return nil
}

// shortDuration writes d as the configuration does, without zero units:
// 2h, 1h30m, 45m, 90s rather than 2h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
