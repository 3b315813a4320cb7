package notifier

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// Feedback kinds.
const (
	// FeedbackSMSStatus is an SMS gateway's delivery receipt.
	FeedbackSMSStatus = "sms-status"
	// FeedbackBounce is an e-mail bounce: a receiving server's report that
	// it could not (action failed, a 5.x.x status) or not yet (delayed,
	// 4.x.x) deliver a message the relay had accepted.
	FeedbackBounce = "bounce"
	// FeedbackConfirmation is the patient's confirmation, through the
	// notice's personal link, that they read it.
	FeedbackConfirmation = "confirmation"
	// FeedbackUnconfirmed says that an urgent notice was delivered but
	// not confirmed in time (dispatch.confirm_within): staff must call.
	FeedbackUnconfirmed = "unconfirmed"
)

// ChannelConfirmLink is the channel of a patient's confirmation, and of
// its absence, in a notice's trail.
const ChannelConfirmLink = "confirmation-link"

// Results of the confirmation link in a trail.
const (
	// ResultReached: the patient confirmed they read the notice.
	ResultReached = "reached"
	// ResultNotConfirmed: the notice was delivered, but the patient did not
	// confirm it in time; it went on the call list.
	ResultNotConfirmed = "not-confirmed"
)

// Bounce actions (RFC 3464 Action).
const (
	BounceFailed  = "failed"
	BounceDelayed = "delayed"
)

// ResultBounced is the result of an e-mail attempt accepted, then bounced.
const ResultBounced = "bounced"

// SMS receipt statuses.
const (
	SMSDelivered     = "delivered"
	SMSFailed        = "failed"
	SMSUndeliverable = "undeliverable"
	SMSExpired       = "expired"
)

// Feedback is what a channel learns of a notice after it accepted it: a
// carrier's receipt for an SMS. It travels on feedback.<facility>, so every
// worker agrees, whichever sent the notice or heard back.
type Feedback struct {
	// ID names the feedback; the same feedback twice has the same id and
	// counts once.
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	NoticeID string `json:"notice_id"`
	Facility string `json:"facility"`
	Channel  string `json:"channel"`
	Status   string `json:"status"`
	Code     string `json:"code,omitempty"`
	// Action and Reason are a bounce's (failed or delayed; the receiving
	// server's words, without the recipient's address).
	Action   string    `json:"action,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at,omitzero"`
	Received time.Time `json:"received"`
}

// FeedbackID names a feedback by what it says, so that a gateway posting a
// receipt twice is heard once.
func FeedbackID(kind, noticeID, channel, status, code string, at time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%d", kind, noticeID, channel, status, code, at.UnixNano())
	return "fb-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// NewFeedback is feedback of the kind on a notice, received now and named
// by what it says without a time, so that the same report twice counts once.
func NewFeedback(kind, noticeID, facility, channel, status, code string, now time.Time) *Feedback {
	return &Feedback{ID: FeedbackID(kind, noticeID, channel, status, code, time.Time{}), Kind: kind, NoticeID: noticeID,
		Facility: facility, Channel: channel, Status: status, Code: code, Received: now.UTC()}
}

// Failed reports whether the feedback says the channel did not reach the
// patient after all: the notice must go on down the patient's route.
func (f *Feedback) Failed() bool {
	switch f.Kind {
	case FeedbackSMSStatus:
		return f.Status == SMSFailed || f.Status == SMSUndeliverable || f.Status == SMSExpired
	case FeedbackBounce:
		return f.Action == BounceFailed || (f.Action == "" && len(f.Status) > 0 && f.Status[0] == '5')
	}
	return false
}

// ResultConfirmed is the result of an attempt the carrier confirmed
// delivered.
const ResultConfirmed = "confirmed"

// ResultReported is the result of an attempt accepted, then reported failed.
const ResultReported = "reported-failed"

// Revise is the delivery's trail entry for the feedback: confirmed, or
// reported failed (then the notice is to be sent on), the patient's
// confirmation or its absence, or nil when it changes nothing (the notice
// already went further than that channel, or the patient confirmed it
// already).
func (f *Feedback) Revise(d *Delivery) *Attempt {
	if d == nil || d.Outcome == "" {
		return nil
	}
	switch f.Kind {
	case FeedbackConfirmation:
		if d.Confirmed() {
			return nil
		}
		return &Attempt{Channel: ChannelConfirmLink, At: f.Received, Result: ResultReached,
			Reason: "the patient confirmed reading the notice"}
	case FeedbackUnconfirmed:
		if d.Outcome != OutcomeDelivered || d.Confirmed() {
			return nil
		}
		return &Attempt{Channel: ChannelConfirmLink, At: f.Received, Result: ResultNotConfirmed,
			Reason: cmp.Or(f.Reason, "not confirmed")}
	}
	state, standing := d.channelState(f.Channel)
	if d.Outcome != OutcomeDelivered || !standing {
		return nil
	}
	a := &Attempt{Channel: f.Channel, At: f.Received, Result: ResultConfirmed, Reason: "delivered (carrier receipt)"}
	switch {
	case f.Kind == FeedbackBounce && f.Failed():
		a.Result, a.Class, a.Enhanced = ResultBounced, Permanent.String(), f.Status
		a.Reason = "bounced"
		if f.Reason != "" {
			a.Reason += ": " + f.Reason
		}
	case f.Kind == FeedbackBounce:
		return nil // a delayed delivery: recorded as feedback, nothing else
	case f.Failed():
		a.Result, a.Class = ResultReported, Permanent.String()
		a.Reason = "carrier receipt: " + f.Status
		if f.Code != "" {
			a.Reason += " (" + f.Code + ")"
		}
	case f.Status != SMSDelivered || state == ResultConfirmed:
		return nil
	}
	return a
}

// channelState is the last word in the trail on whether the channel got the
// notice to the patient (accepted, confirmed, bounced or reported failed),
// and whether that word still stands: the channel accepted the notice and
// nothing since said it failed. The outcome's channel stands when the trail
// says nothing of it.
func (d *Delivery) channelState(channel string) (state string, standing bool) {
	for _, a := range d.Trail {
		if a.Channel != channel {
			continue
		}
		switch a.Result {
		case ResultAccepted, ResultConfirmed, ResultBounced, ResultReported:
			state = a.Result
		}
	}
	if state == "" && channel == d.Channel && d.Outcome == OutcomeDelivered {
		state = ResultAccepted
	}
	return state, state == ResultAccepted || state == ResultConfirmed
}

// CarriesLink reports whether the patient has the notice with its
// confirmation link: a channel that still stands accepted a message that
// carried it. Only such a notice can go unconfirmed (an SMS without room
// for the link gave the patient nothing to confirm with).
func (d *Delivery) CarriesLink() bool {
	for _, a := range d.Trail {
		if a.Link && a.Result == ResultAccepted {
			if _, ok := d.channelState(a.Channel); ok {
				return true
			}
		}
	}
	return false
}

// StandingChannel is the channel the patient has the notice from: the
// outcome's channel while it stands, else the first other channel in the
// trail that accepted the notice and was not reported failed since (an
// urgent notice goes out on every medium at once), else "". A channel that
// accepted the notice and then bounced, or whose carrier reported it
// failed, never counts as having delivered it.
func (d *Delivery) StandingChannel() string {
	if _, ok := d.channelState(d.Channel); ok && d.Channel != "" {
		return d.Channel
	}
	for _, a := range d.Trail {
		if a.Channel == ChannelConfirmLink || (a.Result != ResultAccepted && a.Result != ResultConfirmed) {
			continue
		}
		if _, ok := d.channelState(a.Channel); ok {
			return a.Channel
		}
	}
	return ""
}

// Confirmed reports whether the patient confirmed the notice through its
// link.
func (d *Delivery) Confirmed() bool { return !d.ConfirmedAt().IsZero() }

// ConfirmedAt is when the patient confirmed the notice, or zero.
func (d *Delivery) ConfirmedAt() time.Time {
	for _, a := range d.Trail {
		if a.Channel == ChannelConfirmLink && a.Result == ResultReached {
			return a.At
		}
	}
	return time.Time{}
}

// FailedAfterAcceptance reports whether a channel accepted the notice and
// then reported that it did not reach the patient (a bounce, a failed SMS).
func (d *Delivery) FailedAfterAcceptance() bool {
	for _, a := range d.Trail {
		if a.Result == ResultBounced || a.Result == ResultReported {
			return true
		}
	}
	return false
}

// Revised is d with the feedback's trail entry a applied: a confirmed
// notice counts as delivered (on the channel that last accepted it), an
// unconfirmed one goes on the call list; other feedback changes the trail
// only (the caller sends a failed notice on). The revision is one higher.
func (f *Feedback) Revised(d *Delivery, a *Attempt, callList string) Delivery {
	rev := *d
	rev.Trail = append(slices.Clone(d.Trail), *a)
	rev.Revision = max(d.Revision, 1) + 1
	switch a.Result {
	case ResultReached:
		if rev.Outcome != OutcomeDelivered {
			rev.Outcome, rev.Channel = OutcomeDelivered, cmp.Or(d.StandingChannel(), ChannelConfirmLink)
		}
	case ResultNotConfirmed:
		rev.Outcome, rev.Channel = OutcomeManual, callList
	}
	return rev
}
