package engine

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// replica applies the APPOINTMENTS stream to the store and tells waiters how
// far it has got.
type replica struct {
	*position
	js         jetstream.JetStream
	store      notifier.Store
	log        *slog.Logger
	facilities map[string]notifier.Facility
	obs        notifier.Observer
}

func newReplica(js jetstream.JetStream, store notifier.Store, log *slog.Logger, facilities map[string]notifier.Facility) *replica {
	return &replica{position: newPosition(), js: js, store: store, log: log, facilities: facilities}
}

func (r *replica) run(ctx context.Context) error {
	pos, err := r.store.Position(ctx, StreamAppointments)
	if err != nil {
		return err
	}
	return follow(ctx, r.js, r.log, StreamAppointments, r.position, pos, recordBatch, r.apply)
}

func (r *replica) apply(batch []jetstream.Msg) func(ctx context.Context) error {
	changes := make([]notifier.AppointmentChange, 0, len(batch))
	for _, m := range batch {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		c := notifier.AppointmentChange{Seq: md.Sequence.Stream}
		a, err := r.decode(m)
		if err != nil {
			r.log.Warn("appointment record rejected", "subject", m.Subject(), "seq", c.Seq, "reason", err.Error())
			c.Reject = &notifier.Reject{Stream: StreamAppointments, Subject: m.Subject(), Seq: c.Seq, Reason: err.Error()}
			r.obs.Rejected(StreamAppointments)
		} else {
			c.Appointment = &a
			r.obs.Consumed(StreamAppointments)
		}
		changes = append(changes, c)
	}
	// The write keeps the decoded records only: a batch of an import is
	// large, and its messages can go while it waits for the writer.
	pending, lag := uint64(0), false
	if md, err := batch[len(batch)-1].Metadata(); err == nil {
		pending, lag = md.NumPending, true
	}
	return func(ctx context.Context) error {
		if err := r.store.ApplyAppointments(ctx, changes); err != nil {
			return err
		}
		if lag {
			r.obs.ReplicaLag(pending)
		}
		return nil
	}
}

func (r *replica) decode(m jetstream.Msg) (notifier.Appointment, error) {
	f, tokens, err := recordFacility(r.facilities, m.Subject(), SubjectAppointments)
	if err != nil {
		return notifier.Appointment{}, err
	}
	a, err := notifier.DecodeAppointment(m.Data(), tokens[0], tokens[1])
	if err != nil {
		return a, err
	}
	return a, f.Admit(&a)
}
