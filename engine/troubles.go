package engine

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// troubles are the worker's loops' current failures, for readiness: a
// loop sets its trouble when an attempt fails and clears it when one
// succeeds.
type troubles struct {
	mu sync.Mutex
	m  map[string]trouble
}

type trouble struct {
	since time.Time
	err   error
}

// set records that what is failing with err, or clears it when err is nil.
func (t *troubles) set(what string, err error, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		delete(t.m, what)
		return
	}
	if t.m == nil {
		t.m = map[string]trouble{}
	}
	prev, ok := t.m[what]
	if !ok {
		prev.since = now
	}
	t.m[what] = trouble{since: prev.since, err: err}
}

// list describes the current troubles, sorted by what is failing.
func (t *troubles) list() []error {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]error, 0, len(t.m))
	for _, what := range slices.Sorted(maps.Keys(t.m)) {
		tr := t.m[what]
		out = append(out, fmt.Errorf("%s failing since %s: %w", what, tr.since.UTC().Format(time.RFC3339), tr.err))
	}
	return out
}
