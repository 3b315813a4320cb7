package engine

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// contacts applies the PATIENTS stream's contact records to the replica's
// appointments. Before each batch it waits until the replica has applied
// every appointment record the APPOINTMENTS stream holds, so that a
// booking published before a contact change never overwrites it.
type contacts struct {
	*position
	js         jetstream.JetStream
	store      notifier.Store
	log        *slog.Logger
	facilities map[string]notifier.Facility
	replica    *replica
	obs        notifier.Observer
}

func (c *contacts) run(ctx context.Context) error {
	pos, err := c.store.Position(ctx, StreamPatients)
	if err != nil {
		return err
	}
	return follow(ctx, c.js, c.log, StreamPatients, c.position, pos, recordBatch, c.apply)
}

func (c *contacts) apply(batch []jetstream.Msg) func(ctx context.Context) error {
	changes := make([]notifier.ContactChange, 0, len(batch))
	var unstamped []int // the records without HeaderAppointmentsSeq
	for _, m := range batch {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		ch := notifier.ContactChange{Seq: md.Sequence.Stream}
		r, err := c.decode(m)
		if err != nil {
			c.log.Warn("contact record rejected", "subject", m.Subject(), "seq", ch.Seq, "reason", err.Error())
			ch.Reject = &notifier.Reject{Stream: StreamPatients, Subject: m.Subject(), Seq: ch.Seq, Reason: err.Error()}
			c.obs.Rejected(StreamPatients)
		} else {
			ch.Record = &r
			if ch.Before, err = strconv.ParseUint(m.Headers().Get(HeaderAppointmentsSeq), 10, 64); err != nil {
				unstamped = append(unstamped, len(changes))
			}
			c.obs.Consumed(StreamPatients)
		}
		changes = append(changes, ch)
	}
	return func(ctx context.Context) error {
		last, err := lastSeq(ctx, c.js, StreamAppointments)
		if err != nil {
			return err
		}
		if err := c.replica.waitFor(ctx, last); err != nil {
			return err
		}
		for _, i := range unstamped {
			changes[i].Before = last
		}
		return c.store.ApplyContacts(ctx, changes)
	}
}

func (c *contacts) decode(m jetstream.Msg) (notifier.ContactRecord, error) {
	f, tokens, err := recordFacility(c.facilities, m.Subject(), SubjectPatients)
	if err != nil {
		return notifier.ContactRecord{}, err
	}
	r, err := notifier.DecodeContact(m.Data(), tokens[0], tokens[1])
	if err != nil {
		return r, err
	}
	return r, f.AdmitContact(&r)
}
