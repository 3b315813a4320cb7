package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// pullExpiry keeps pull requests short, so that the heartbeats that come
// with them notice a lost server (a cluster node stopping) within seconds
// rather than half a minute.
var pullExpiry = jetstream.PullExpiry(5 * time.Second)

// consume feeds the messages of a durable consumer to handle, at most
// parallel at a time, until ctx ends. It then stops fetching and waits for
// the handlers in flight: they decide the fate of their message themselves.
func consume(ctx context.Context, cons jetstream.Consumer, log *slog.Logger, parallel int,
	handle func(ctx context.Context, m jetstream.Msg)) error {
	it, err := cons.Messages(jetstream.PullMaxMessages(parallel), pullExpiry)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()

	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, parallel)
	for {
		m, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
				return nil
			}
			log.Warn("fetching messages", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			handle(ctx, m)
		}()
	}
}
