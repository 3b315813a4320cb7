package web

import (
	"time"

	"github.com/postponement/notifier/store"
)

// rateWindow is how far back the current pace is measured: long enough to
// smooth retries and bursts, short enough to show a stall within minutes.
const rateWindow = 5 * time.Minute

// minRateSpan keeps the first seconds of a run, when one outcome in a
// fraction of a second would look like thousands a minute, from claiming a
// pace they cannot show.
const minRateSpan = 10 * time.Second

// Phases of an outage's notices.
const (
	// phaseWaiting: nothing planned yet.
	phaseWaiting = "waiting"
	// phaseStarting: notices planned, none finished yet.
	phaseStarting = "starting"
	// phaseSending: outcomes are coming in.
	phaseSending = "sending"
	// phaseStalled: notices are pending, and none finished within the
	// rate window.
	phaseStalled = "stalled"
	// phaseDone: every notice has an outcome.
	phaseDone = "done"
)

// progress is how fast an outage's notices finish and when the last will.
type progress struct {
	Phase string
	// PerMinute is the outcomes per minute over the rate window, or since
	// the first outcome when that is more recent.
	PerMinute float64
	// Remaining is the time the pending notices will take at PerMinute, to
	// the second; zero when that is unknown (no pace) or nothing is pending.
	Remaining time.Duration
}

// pace works out the progress of an outage at now. s.Recent must count the
// outcomes since now minus rateWindow.
func pace(s store.OutageStatus, now time.Time) progress {
	var p progress
	span := rateWindow
	if !s.FirstOutcome.IsZero() && now.Sub(s.FirstOutcome) < span {
		span = max(now.Sub(s.FirstOutcome), minRateSpan)
	}
	if s.Recent > 0 {
		p.PerMinute = float64(s.Recent) / span.Minutes()
	}
	switch {
	case s.Planned == 0:
		p.Phase = phaseWaiting
	case s.Pending == 0:
		p.Phase = phaseDone
	case s.FirstOutcome.IsZero():
		p.Phase = phaseStarting
	case s.Recent == 0:
		p.Phase = phaseStalled
	default:
		p.Phase = phaseSending
	}
	if s.Pending > 0 && s.Recent > 0 {
		p.Remaining = time.Duration(float64(span) * float64(s.Pending) / float64(s.Recent)).Round(time.Second)
	}
	return p
}
