package notifier

import "time"

// Observer is told what the worker does, for metrics and the status page.
// Its methods must be cheap and safe for concurrent use; they never receive
// patient data.
type Observer interface {
	// Consumed counts a message of stream that was accepted.
	Consumed(stream string)
	// Rejected counts a message of stream that was refused as malformed.
	Rejected(stream string)
	// Planned counts notices planned for an outage, by kind.
	Planned(kind string, n int)
	// Attempted reports one send on a channel: its result (accepted,
	// failed, skipped), the failure class if any, and how long it took.
	Attempted(channel, result, class string, took time.Duration)
	// Finished reports a notice's outcome, the channel that accepted it
	// (the call list for manual ones), and the time from planning to the
	// outcome.
	Finished(outcome, channel string, sincePlanned time.Duration)
	// RateLimited reports time a send waited for a channel's rate limit.
	RateLimited(channel string, waited time.Duration)
	// ReplicaLag reports how many appointment records the replica has not
	// applied yet.
	ReplicaLag(records uint64)
}

// NopObserver observes nothing.
type NopObserver struct{}

func (NopObserver) Consumed(string)                                 {}
func (NopObserver) Rejected(string)                                 {}
func (NopObserver) Planned(string, int)                             {}
func (NopObserver) Attempted(string, string, string, time.Duration) {}
func (NopObserver) Finished(string, string, time.Duration)          {}
func (NopObserver) RateLimited(string, time.Duration)               {}
func (NopObserver) ReplicaLag(uint64)                               {}
