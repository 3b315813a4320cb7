package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// CallList keeps the lists staff phone from: every notice no channel
// delivered, per outage. It is a view of the store, rewritten whenever a
// manual outcome is applied, so it is always up to date and loses no row.
type CallList interface {
	// Refresh rewrites the outage's call list from the store.
	Refresh(ctx context.Context, outageID string) error
}

// callListDebounce is the least time between two rewrites of one list.
const callListDebounce = 250 * time.Millisecond

// refresher rewrites call lists of outages marked dirty, one rewrite per
// outage however many outcomes arrived in the meantime.
type refresher struct {
	list CallList
	log  *slog.Logger

	mu    sync.Mutex
	dirty map[string]bool
	kick  chan struct{}
}

func newRefresher(list CallList, log *slog.Logger) *refresher {
	return &refresher{list: list, log: log, dirty: map[string]bool{}, kick: make(chan struct{}, 1)}
}

func (r *refresher) mark(outageID string) {
	r.mu.Lock()
	r.dirty[outageID] = true
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *refresher) run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			// One last rewrite, so the list on disk has every row.
			r.flush(context.WithoutCancel(ctx))
			return nil
		case <-r.kick:
		}
		r.flush(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(callListDebounce):
		}
	}
}

func (r *refresher) flush(ctx context.Context) {
	r.mu.Lock()
	ids := r.dirty
	r.dirty = map[string]bool{}
	r.mu.Unlock()
	for id := range ids {
		if err := r.list.Refresh(ctx, id); err != nil {
			r.log.Error("call list not written; it will be tried again", "outage", id, "err", err)
			r.mark(id)
		}
	}
}
