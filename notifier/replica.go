package notifier

import (
	"context"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// replica applies the APPOINTMENTS stream to the store and tells waiters how
// far it has got.
type replica struct {
	js         jetstream.JetStream
	store      Store
	log        *slog.Logger
	facilities map[string]Facility
	obs        Observer

	mu      sync.Mutex
	applied uint64
	moved   chan struct{} // closed and replaced whenever applied moves
}

func newReplica(js jetstream.JetStream, store Store, log *slog.Logger, facilities map[string]Facility) *replica {
	return &replica{js: js, store: store, log: log, facilities: facilities, moved: make(chan struct{})}
}

func (r *replica) run(ctx context.Context) error {
	pos, err := r.store.Position(ctx, StreamAppointments)
	if err != nil {
		return err
	}
	r.advance(pos)
	return follow(ctx, r.js, r.log, StreamAppointments, pos, r.apply)
}

func (r *replica) apply(ctx context.Context, batch []jetstream.Msg) error {
	changes := make([]AppointmentChange, 0, len(batch))
	for _, m := range batch {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		c := AppointmentChange{Seq: md.Sequence.Stream}
		a, err := r.decode(m)
		if err != nil {
			r.log.Warn("appointment record rejected", "subject", m.Subject(), "seq", c.Seq, "reason", err.Error())
			c.Reject = &Reject{Stream: StreamAppointments, Subject: m.Subject(), Seq: c.Seq, Reason: err.Error()}
			r.obs.Rejected(StreamAppointments)
		} else {
			c.Appointment = &a
			r.obs.Consumed(StreamAppointments)
		}
		changes = append(changes, c)
	}
	if err := r.store.ApplyAppointments(ctx, changes); err != nil {
		return err
	}
	r.advance(changes[len(changes)-1].Seq)
	if md, err := batch[len(batch)-1].Metadata(); err == nil {
		r.obs.ReplicaLag(md.NumPending)
	}
	return nil
}

func (r *replica) decode(m jetstream.Msg) (Appointment, error) {
	tokens, err := subjectTokens(m.Subject(), SubjectAppointments, 2)
	if err != nil {
		return Appointment{}, invalid(err)
	}
	if _, ok := r.facilities[tokens[0]]; !ok {
		return Appointment{}, invalid(errUnknownFacility(tokens[0]))
	}
	return DecodeAppointment(m.Data(), tokens[0], tokens[1])
}

func (r *replica) advance(seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq > r.applied {
		r.applied = seq
		close(r.moved)
		r.moved = make(chan struct{})
	}
}

// Applied is the stream sequence of the last appointment record applied.
func (r *replica) Applied() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied
}

// waitFor blocks until the replica has applied every message up to seq.
func (r *replica) waitFor(ctx context.Context, seq uint64) error {
	for {
		r.mu.Lock()
		applied, moved := r.applied, r.moved
		r.mu.Unlock()
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
