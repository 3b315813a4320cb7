package engine

import (
	"context"
	"sync"
)

// position is how far a view has applied its stream, and lets others wait
// for it to get somewhere.
type position struct {
	mu      sync.Mutex
	applied uint64
	moved   chan struct{} // closed and replaced whenever applied moves
	// report, when set (before the view runs), is told of each failure
	// to follow the stream and, with nil, of each batch written.
	report func(error)
}

func (p *position) reportErr(err error) {
	if p.report != nil {
		p.report(err)
	}
}

func newPosition() *position { return &position{moved: make(chan struct{})} }

func (p *position) advance(seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if seq > p.applied {
		p.applied = seq
		close(p.moved)
		p.moved = make(chan struct{})
	}
}

// Applied is the stream sequence of the last message applied.
func (p *position) Applied() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

// waitFor blocks until every message up to seq is applied.
func (p *position) waitFor(ctx context.Context, seq uint64) error {
	for {
		p.mu.Lock()
		applied, moved := p.applied, p.moved
		p.mu.Unlock()
		if applied >= seq {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-moved:
		}
	}
}
