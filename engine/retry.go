package engine

import (
	"context"
	"log/slog"
	"time"
)

// setupTimeout bounds how long start-up steps that talk to JetStream are
// retried: a cluster that is electing leaders, or a server that is
// restarting, answers late for a while.
const setupTimeout = 2 * time.Minute

// retrying runs fn until it succeeds, ctx ends or setupTimeout passes,
// waiting a little longer after each failure.
func retrying[T any](ctx context.Context, log *slog.Logger, what string, fn func(context.Context) (T, error)) (T, error) {
	deadline := time.Now().Add(setupTimeout)
	b := newBackoff(250*time.Millisecond, 5*time.Second)
	for {
		v, err := fn(ctx)
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return v, err
		}
		log.Warn(what+" failed; trying again", "err", err, "in", b.next)
		if !b.wait(ctx) {
			return v, err
		}
	}
}

// backoff is a wait between tries that doubles after each, from a first
// wait up to a longest one.
type backoff struct{ next, longest time.Duration }

func newBackoff(first, longest time.Duration) *backoff {
	return &backoff{next: first, longest: longest}
}

// wait waits the current time, or until ctx ends (then it reports false),
// and doubles the next.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = min(2*b.next, b.longest)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
