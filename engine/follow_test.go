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
	// The writer holds the first batch. What follows, published in three
	// bursts with pauses of several lingers between them, makes exactly
	// two batches however the bursts fall: one handed over to wait for the
	// writer, and one that gathers everything after it until the writer is
	// free again (without that, each burst would be a batch of its own).
	publish(10)
	time.Sleep(5 * linger)
	publish(20)
	time.Sleep(5 * linger)
	publish(20)
	time.Sleep(5 * linger)
	close(release)
	second := next()
	third := next()
	if second+third != 50 {
		t.Fatalf("batches of %d and %d messages after the first, want the 50 published while the writer was busy in two", second, third)
	}
	// The writer is free: a batch leaves after linger.
	if err := view.waitFor(ctx, uint64(n)); err != nil {
		t.Fatal(err)
	}
	publish(1)
	if s := next(); s != 1 {
		t.Fatalf("a batch of %d messages once the writer is free, want 1", s)
	}
	if err := view.waitFor(ctx, uint64(n)); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
}
