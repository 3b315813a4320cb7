package notifier

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
// reported failed (then the notice is to be sent on), or nil when it
// changes nothing (the notice already went further than that channel).
func (f *Feedback) Revise(d *Delivery) *Attempt {
	if d == nil || d.Outcome != OutcomeDelivered || d.Channel != f.Channel {
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
	case f.Status != SMSDelivered:
		return nil
	}
	return a
}
