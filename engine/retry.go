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
	wait := 250 * time.Millisecond
	for {
		v, err := fn(ctx)
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return v, err
		}
		log.Warn(what+" failed; trying again", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}
