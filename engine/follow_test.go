package engine

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestBatchesGrowWhileTheWriterIsBusy: while a batch waits for the writer,
// the next one goes on gathering past linger, so that a writer that falls
// behind (an import of many records) writes fewer, larger transactions;
// once the writer is free, a batch is handed over after linger as before.
func TestBatchesGrowWhileTheWriterIsBusy(t *testing.T) {
	js := testJetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatal(err)
	}
	n := 0
	publish := func(count int) {
		t.Helper()
		for range count {
			n++
			if _, err := js.Publish(ctx, fmt.Sprintf("t.%d", n), []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
	}

	sizes := make(chan int, 16)
	release := make(chan struct{})
	first := true
	prepare := func(batch []jetstream.Msg) func(context.Context) error {
		sizes <- len(batch)
		hold := first
		first = false
		return func(ctx context.Context) error {
			if hold { // the writer is busy with the first batch
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			return nil
		}
	}
	view := newPosition()
	done := make(chan error, 1)
	go func() {
		done <- follow(ctx, js, slog.New(slog.DiscardHandler), "T", view, 0, batchLimits{msgs: 1000, bytes: 1 << 20}, prepare)
	}()
	next := func() int {
		t.Helper()
		select {
		case s := <-sizes:
			return s
		case <-ctx.Done():
			t.Fatal("no batch")
			return 0
		}
	}

	publish(1)
	if s := next(); s != 1 {
		t.Fatalf("first batch: %d messages, want 1", s)
	}
	// The writer holds the first batch; the second is handed over after
	// linger and waits for it.
	publish(10)
	if s := next(); s != 10 {
		t.Fatalf("second batch: %d messages, want 10", s)
	}
	// With one batch waiting, the third gathers everything that follows,
	// however long it takes, until the writer is free again.
	publish(20)
	time.Sleep(5 * linger)
	publish(20)
	time.Sleep(5 * linger)
	close(release)
	if s := next(); s != 40 {
		t.Fatalf("third batch: %d messages, want all 40 published while the writer was busy", s)
	}
	// The writer is free: a batch leaves after linger.
	publish(5)
	if s := next(); s != 5 {
		t.Fatalf("fourth batch: %d messages, want 5", s)
	}
	if err := view.waitFor(ctx, uint64(n)); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
}
