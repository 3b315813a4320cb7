package notifier

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Call actions: what staff working the call list do to a row.
const (
	// CallClaim says "I am calling this patient": the row is held for the
	// claimer for CallPolicy.ClaimFor, and refused to anyone else meanwhile.
	CallClaim = "claim"
	// CallRelease gives a claimed row back before its time is up.
	CallRelease = "release"
	// CallOutcome records how a call went; it ends the caller's claim.
	CallOutcome = "outcome"
)

// Call outcomes, as they travel on the CALLS stream.
const (
	CallReached     = "reached"
	CallNoAnswer    = "no-answer"
	CallVoicemail   = "voicemail"
	CallWrongNumber = "wrong-number"
	CallUnreachable = "unreachable"
)

// CallOutcomes are the outcomes staff can record, in the order the page
// offers them.
var CallOutcomes = []string{CallReached, CallNoAnswer, CallVoicemail, CallWrongNumber, CallUnreachable}

// Statuses of a call list row at a moment (CallState.Status).
const (
	// CallToCall: nobody is calling the patient and nothing says to wait.
	CallToCall = "to-call"
	// CallClaimed: somebody is calling the patient now.
	CallClaimed = "claimed"
	// CallLater: a call went unanswered; the row is back at NextTry.
	CallLater = "later"
)

// Defaults of CallPolicy.
const (
	DefaultCallClaimFor    = 15 * time.Minute
	DefaultCallRetryAfter  = time.Hour
	DefaultCallMaxAttempts = 3
)

// maxCallerName bounds the name a staff member types.
const maxCallerName = 80

// CallPolicy is how the call list is worked.
type CallPolicy struct {
	// ClaimFor is how long a claim holds a row for its claimer.
	ClaimFor time.Duration
	// RetryAfter is how long a row whose call went unanswered (no answer,
	// voicemail left) stays out of "to call".
	RetryAfter time.Duration
	// MaxAttempts unsuccessful calls make a patient unreachable.
	MaxAttempts int
}

// withDefaults fills the zero fields.
func (p CallPolicy) withDefaults() CallPolicy {
	if p.ClaimFor <= 0 {
		p.ClaimFor = DefaultCallClaimFor
	}
	if p.RetryAfter <= 0 {
		p.RetryAfter = DefaultCallRetryAfter
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultCallMaxAttempts
	}
	return p
}

// CallState is where a call list row stands after the events so far. Every
// event carries the state it leads to, decided by the worker that published
// it against the state before it, so every worker shows the same.
type CallState struct {
	ClaimedBy    string    `json:"claimed_by,omitempty"`
	ClaimedUntil time.Time `json:"claimed_until,omitzero"`
	// Attempts counts unsuccessful calls: no answer, voicemail, wrong
	// number.
	Attempts  int       `json:"attempts"`
	Outcome   string    `json:"outcome,omitempty"`
	OutcomeBy string    `json:"outcome_by,omitempty"`
	OutcomeAt time.Time `json:"outcome_at,omitzero"`
	// NextTry is when an unanswered row is back in "to call".
	NextTry time.Time `json:"next_try,omitzero"`
	// Final ends the row's work: CallReached or CallUnreachable.
	Final string `json:"final,omitempty"`
}

// Claimed reports whether somebody holds the row at now.
func (s CallState) Claimed(now time.Time) bool {
	return s.ClaimedBy != "" && now.Before(s.ClaimedUntil)
}

// Status is the row's status at now: CallReached or CallUnreachable once
// its work ended, else CallClaimed, CallLater or CallToCall.
func (s CallState) Status(now time.Time) string {
	switch {
	case s.Final != "":
		return s.Final
	case s.Claimed(now):
		return CallClaimed
	case now.Before(s.NextTry):
		return CallLater
	}
	return CallToCall
}

// CallEvent is one thing staff did to a call list row: a claim, a release
// or an outcome, with who (the name they typed) and when. It is published
// on calls.<facility>.<notice id> with the state it leads to.
type CallEvent struct {
	// ID names the event; the same event twice counts once.
	ID       string    `json:"id"`
	NoticeID string    `json:"notice_id"`
	OutageID string    `json:"outage_id"`
	Facility string    `json:"facility"`
	Action   string    `json:"action"`
	Outcome  string    `json:"outcome,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	State    CallState `json:"state"`
}

// Why a call event is refused.
var (
	// ErrCallFinished: the row's work has ended (reached or unreachable).
	ErrCallFinished = errors.New("the patient is already reached or known unreachable")
	// ErrCallInvalid: the event is malformed (unknown action or outcome,
	// no name).
	ErrCallInvalid = errors.New("invalid call event")
)

// CallConflict refuses an event on a row somebody else holds.
type CallConflict struct {
	By    string
	Until time.Time
}

func (e *CallConflict) Error() string {
	return fmt.Sprintf("%s is calling this patient (held until %s)", e.By, e.Until.UTC().Format(time.RFC3339))
}

// CallerName tidies a name as staff typed it: spaces trimmed and collapsed.
// It is refused when empty, too long or holding control or invisible
// characters.
func CallerName(s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "", fmt.Errorf("%w: a name is required", ErrCallInvalid)
	}
	if err := checkText("name", s, maxCallerName); err != nil {
		return "", fmt.Errorf("%w: %w", ErrCallInvalid, err)
	}
	return s, nil
}

// samePerson reports whether two typed names are the same staff member's.
func samePerson(a, b string) bool { return strings.EqualFold(a, b) }

// Apply decides the state that ev leads to from prev, or refuses it:
//
//   - A claim holds the row for ev.By for ClaimFor; the same person
//     claiming again refreshes it. It is refused while somebody else holds
//     the row, and on a finished row.
//   - A release gives the row back; only its holder can release it.
//   - An outcome may be recorded by the holder, or by anyone while nobody
//     holds the row (a call made from a printed list); it ends the claim.
//     reached ends the work; no-answer and voicemail count an attempt and
//     put the row back after RetryAfter, until MaxAttempts attempts make
//     the patient unreachable; wrong-number counts an attempt and ends the
//     work as unreachable (the phone cannot reach the patient, so staff
//     must find another way); unreachable ends the work. A finished row
//     takes only reached: a patient who rang back.
func (p CallPolicy) Apply(prev CallState, ev CallEvent) (CallState, error) {
	p = p.withDefaults()
	next := prev
	holder := prev.Claimed(ev.At) && !samePerson(prev.ClaimedBy, ev.By)
	switch ev.Action {
	case CallClaim:
		if prev.Final != "" {
			return prev, ErrCallFinished
		}
		if holder {
			return prev, &CallConflict{By: prev.ClaimedBy, Until: prev.ClaimedUntil}
		}
		next.ClaimedBy, next.ClaimedUntil = ev.By, ev.At.Add(p.ClaimFor)
		return next, nil
	case CallRelease:
		if holder {
			return prev, &CallConflict{By: prev.ClaimedBy, Until: prev.ClaimedUntil}
		}
		next.ClaimedBy, next.ClaimedUntil = "", time.Time{}
		return next, nil
	case CallOutcome:
	default:
		return prev, fmt.Errorf("%w: action %q, want claim, release or outcome", ErrCallInvalid, ev.Action)
	}
	if holder {
		return prev, &CallConflict{By: prev.ClaimedBy, Until: prev.ClaimedUntil}
	}
	if prev.Final != "" && ev.Outcome != CallReached {
		return prev, ErrCallFinished
	}
	next.ClaimedBy, next.ClaimedUntil = "", time.Time{}
	next.Outcome, next.OutcomeBy, next.OutcomeAt, next.NextTry = ev.Outcome, ev.By, ev.At, time.Time{}
	switch ev.Outcome {
	case CallReached:
		next.Final = CallReached
	case CallNoAnswer, CallVoicemail:
		next.Attempts++
		if next.Attempts >= p.MaxAttempts {
			next.Final = CallUnreachable
		} else {
			next.NextTry = ev.At.Add(p.RetryAfter)
		}
	case CallWrongNumber:
		next.Attempts++
		next.Final = CallUnreachable
	case CallUnreachable:
		next.Final = CallUnreachable
	default:
		return prev, fmt.Errorf("%w: outcome %q, want one of %s", ErrCallInvalid, ev.Outcome, strings.Join(CallOutcomes, ", "))
	}
	return next, nil
}

// CallCounts are an outage's call list rows by status at a moment. The
// five counts are disjoint and add up to the rows on the list.
type CallCounts struct {
	// ToCall rows wait for a caller now.
	ToCall int `json:"to_call"`
	// Later rows had an unanswered call and wait for their next try.
	Later int `json:"later"`
	// Claimed rows are being called.
	Claimed     int `json:"claimed"`
	Reached     int `json:"reached"`
	Unreachable int `json:"unreachable"`
	// Attempts counts the unsuccessful calls made, over all rows.
	Attempts int `json:"attempts"`
}

// Add counts one row of this status (CallState.Status) with attempts
// unsuccessful calls.
func (c *CallCounts) Add(status string, attempts int) {
	switch status {
	case CallReached:
		c.Reached++
	case CallUnreachable:
		c.Unreachable++
	case CallClaimed:
		c.Claimed++
	case CallLater:
		c.Later++
	default:
		c.ToCall++
	}
	c.Attempts += attempts
}

// Total is the number of rows counted.
func (c CallCounts) Total() int { return c.ToCall + c.Later + c.Claimed + c.Reached + c.Unreachable }
