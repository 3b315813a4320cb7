package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// batchLimits bound how many stream messages, and how many bytes of them, a
// view applies in one transaction.
type batchLimits struct {
	msgs  int
	bytes int
}

var (
	// viewBatch suits the views that grow with the outage's notices (a
	// PLANS message may hold hundreds of notices).
	viewBatch = batchLimits{msgs: 5000, bytes: 4 << 20}
	// recordBatch suits the replicas an import fills with hundreds of
	// thousands of records: every transaction rewrites the B-tree pages
	// its rows fall into, so larger ones write fewer pages per row (at
	// 1,000,000 appointments 20,000 a transaction take a fifth less
	// processor time than 5,000, but the three batches in flight, one
	// gathered, one decoded, one written, then cost the worker 50 MB more
	// at its peak; 10,000 keep it as it was). A transaction grows this
	// large only while the one before is still being written.
	recordBatch = batchLimits{msgs: 10000, bytes: 6 << 20}
)

// linger is how long a view waits for more messages once one has arrived,
// so that a steady trickle (outcomes arriving one by one as the relay accepts
// them) is applied in a few transactions a second instead of one per
// message: a commit costs far more than a row. While the writer is still
// busy with earlier batches, a batch goes on gathering past linger up to
// its limits.
const linger = 20 * time.Millisecond

// prepareFunc turns a batch of a stream's messages, in order, into the write
// that applies them to the store (which moves the stored position with
// them). It runs while the previous batch is being written, so decoding and
// SQLite use two processors.
type prepareFunc func(batch []jetstream.Msg) (write func(ctx context.Context) error)

// follow keeps a materialised view up to date with a stream: it reads the
// stream in order from the message after start, the view's position stored
// with it (an ordered consumer, so no state is kept on the server), prepares
// batches of what arrives within linger of the first (longer while the
// writer is busy), up to limits, writes them one after another and moves
// view past each batch once it is written. It returns when ctx ends.
func follow(ctx context.Context, js jetstream.JetStream, log *slog.Logger, stream string, view *position, start uint64, limits batchLimits, prepare prepareFunc) error {
	view.advance(start)
	position := start
	for {
		err := followOnce(ctx, js, stream, position, limits, prepare, func(seq uint64) {
			position = seq
			view.advance(seq)
			view.reportErr(nil)
		})
		if ctx.Err() != nil {
			return nil
		}
		view.reportErr(err)
		log.Error("following stream failed; starting again", "stream", stream, "position", position, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// prepared is a batch ready to be written, and the stream sequence of its
// last message.
type prepared struct {
	write func(ctx context.Context) error
	last  uint64
}

func followOnce(ctx context.Context, js jetstream.JetStream, stream string, position uint64,
	limits batchLimits, prepare prepareFunc, written func(seq uint64)) error {
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
	// The consumer buffers at most viewBatch ahead of the batch gathered,
	// whatever the view's own limits.
	it, err := cons.Messages(jetstream.PullMaxMessagesWithBytesLimit(viewBatch.msgs, viewBatch.bytes), pullExpiry)
	if err != nil {
		return fmt.Errorf("consume %s: %w", stream, err)
	}
	defer it.Stop()

	// The iterator buffers up to a batch; this hands messages over.
	msgs := make(chan jetstream.Msg, 128)
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
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { <-ctx.Done(); it.Stop() }()

	// One batch is prepared while the one before it is written; the
	// writer is busy while one waits for it.
	ready := make(chan prepared, 1)
	busy := func() bool { return len(ready) == cap(ready) }
	go func() {
		defer close(ready)
		for {
			batch, ok := gather(ctx, msgs, limits, busy)
			if len(batch) > 0 {
				p := prepared{write: prepare(batch)}
				if md, err := batch[len(batch)-1].Metadata(); err == nil {
					p.last = md.Sequence.Stream
				}
				select {
				case ready <- p:
				case <-ctx.Done():
					return
				}
			}
			if !ok {
				return
			}
		}
	}()
	for p := range ready {
		if err := p.write(ctx); err != nil {
			return err
		}
		if p.last > 0 {
			written(p.last)
		}
	}
	select {
	case err := <-errc:
		return err
	default:
		return ctx.Err()
	}
}

// gather waits for a message and returns it with what follows within
// linger, or for as long as busy says the writer has work waiting, up to
// limits; ok is false once msgs is closed or ctx ends.
func gather(ctx context.Context, msgs <-chan jetstream.Msg, limits batchLimits, busy func() bool) (batch []jetstream.Msg, ok bool) {
	select {
	case m, open := <-msgs:
		if !open {
			return nil, false
		}
		batch = append(make([]jetstream.Msg, 0, 64), m)
	case <-ctx.Done():
		return nil, false
	}
	size := len(batch[0].Data())
	deadline := time.NewTimer(linger)
	defer deadline.Stop()
	for len(batch) < limits.msgs && size < limits.bytes {
		select {
		case m, open := <-msgs:
			if !open {
				return batch, false
			}
			batch = append(batch, m)
			size += len(m.Data())
		case <-deadline.C:
			if busy() {
				deadline.Reset(linger)
				continue
			}
			return batch, true
		case <-ctx.Done():
			return batch, false
		}
	}
	return batch, true
}
