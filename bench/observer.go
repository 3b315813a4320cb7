package bench

import (
	"sync"
	"time"

	"github.com/postponement/notifier/notifier"
)

// observer times what the worker does, through the hooks it has for
// metrics. Its methods are called from the worker's loops and must stay
// cheap.
type observer struct {
	mu sync.Mutex
	// planned counts notices stored in NOTICES; firstPlanned and
	// lastPlanned are when the first and the last chunk were stored.
	planned                   int
	firstPlanned, lastPlanned time.Time
	// finished counts notices with an outcome.
	finished, delivered, manual int
	lastFinished                time.Time
	failedAttempts              int
	// accepted is when a channel accepted each notice, as the worker saw it.
	accepted []time.Time
}

var _ notifier.Observer = (*observer)(nil)

func (*observer) Consumed(string)                   {}
func (*observer) Rejected(string)                   {}
func (*observer) RateLimited(string, time.Duration) {}
func (*observer) ReplicaLag(uint64)                 {}

func (o *observer) Planned(_ string, n int) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.planned == 0 {
		o.firstPlanned = now
	}
	o.planned += n
	o.lastPlanned = now
}

func (o *observer) Attempted(_, result, _ string, _ time.Duration) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	switch result {
	case notifier.ResultAccepted:
		o.accepted = append(o.accepted, now)
	case notifier.ResultFailed:
		o.failedAttempts++
	}
}

func (o *observer) Finished(outcome, _ string, _ time.Duration) {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.finished++
	if outcome == notifier.OutcomeDelivered {
		o.delivered++
	} else {
		o.manual++
	}
	o.lastFinished = now
}

// snapshot is a consistent copy of the counts.
type snapshot struct {
	planned, finished, delivered, manual, failedAttempts int
	firstPlanned, lastPlanned, lastFinished              time.Time
}

func (o *observer) snapshot() snapshot {
	o.mu.Lock()
	defer o.mu.Unlock()
	return snapshot{planned: o.planned, finished: o.finished, delivered: o.delivered, manual: o.manual,
		failedAttempts: o.failedAttempts, firstPlanned: o.firstPlanned, lastPlanned: o.lastPlanned, lastFinished: o.lastFinished}
}

func (o *observer) acceptances() []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]time.Time(nil), o.accepted...)
}
