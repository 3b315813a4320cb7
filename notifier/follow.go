package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// maxBatch bounds how many stream messages a view applies in one
// transaction.
const maxBatch = 1000

// linger is how long a view waits for more messages once one has arrived,
// so that a steady trickle (outcomes arriving one by one as the relay accepts
// them) is applied in a few transactions a second instead of one per
// message: a commit costs far more than a row.
const linger = 20 * time.Millisecond

// follow keeps a materialised view up to date with a stream: it reads the
// stream in order from the message after position (an ordered consumer, so
// no state is kept on the server) and hands the messages to apply in
// batches: what arrives within linger of the first, up to maxBatch. It
// returns when ctx ends.
func follow(ctx context.Context, js jetstream.JetStream, log *slog.Logger, stream string, position uint64,
	apply func(ctx context.Context, batch []jetstream.Msg) error) error {
	for {
		err := followOnce(ctx, js, stream, position, func(ctx context.Context, batch []jetstream.Msg) error {
			if err := apply(ctx, batch); err != nil {
				return err
			}
			if md, err := batch[len(batch)-1].Metadata(); err == nil {
				position = md.Sequence.Stream
			}
			return nil
		})
		if ctx.Err() != nil {
			return nil
		}
		log.Error("following stream failed; starting again", "stream", stream, "position", position, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func followOnce(ctx context.Context, js jetstream.JetStream, stream string, position uint64,
	apply func(ctx context.Context, batch []jetstream.Msg) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if position > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = position + 1
	}
	cons, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("create ordered consumer on %s: %w", stream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(maxBatch), pullExpiry)
	if err != nil {
		return fmt.Errorf("consume %s: %w", stream, err)
	}
	defer it.Stop()

	msgs := make(chan jetstream.Msg, maxBatch)
	errc := make(chan error, 1)
	go func() {
		defer close(msgs)
		for {
			m, err := it.Next()
			if err != nil {
				if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					errc <- err
				}
				return
			}
			msgs <- m
		}
	}()
	go func() { <-ctx.Done(); it.Stop() }()

	batch := make([]jetstream.Msg, 0, maxBatch)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				select {
				case err := <-errc:
					return err
				default:
					return ctx.Err()
				}
			}
			batch = append(batch[:0], m)
			deadline := time.NewTimer(linger)
		collect:
			for len(batch) < maxBatch {
				select {
				case m, ok := <-msgs:
					if !ok {
						break collect
					}
					batch = append(batch, m)
				case <-deadline.C:
					break collect
				case <-ctx.Done():
					break collect
				}
			}
			deadline.Stop()
			if err := apply(ctx, batch); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		}
	}
}
