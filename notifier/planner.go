package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// planChunk is how many notices the planner records and publishes at a time.
const planChunk = 500

// catchUpTimeout bounds how long the planner waits for the replica before
// handing the event back to the stream for a later try.
const catchUpTimeout = time.Minute

// planner turns outage events into notices: one per patient, soonest first.
type planner struct {
	js         jetstream.JetStream
	store      Store
	replica    *replica
	log        *slog.Logger
	facilities map[string]Facility
	languages  []string
	urgent     func(n *Notice, now time.Time) bool
	now        func() time.Time
}

func (p *planner) run(ctx context.Context) error {
	cons, err := p.js.CreateOrUpdateConsumer(ctx, StreamOutages, jetstream.ConsumerConfig{
		Durable:       ConsumerPlanner,
		Description:   "Plans notices from outage events; shared by every worker.",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       2 * time.Minute,
		MaxAckPending: 1,
		FilterSubject: SubjectOutages + ".>",
	})
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", ConsumerPlanner, err)
	}
	return consume(ctx, cons, p.log, 1, p.handle)
}

// handle plans one event. It acknowledges it only once the notices are
// stored in the NOTICES stream; a malformed event is terminated and recorded.
func (p *planner) handle(ctx context.Context, m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		p.log.Error("outage event without metadata", "err", err)
		m.Term()
		return
	}
	log := p.log.With("subject", m.Subject(), "seq", md.Sequence.Stream)
	ev, err := p.decode(m)
	if err != nil {
		log.Warn("outage event rejected", "reason", err.Error())
		reject := Reject{Stream: StreamOutages, Subject: m.Subject(), Seq: md.Sequence.Stream, Reason: err.Error()}
		if err := p.store.AddReject(ctx, reject); err != nil {
			log.Error("record rejected event", "err", err)
			m.NakWithDelay(5 * time.Second)
			return
		}
		m.Term()
		return
	}
	log = log.With("event", ev.ID, "type", ev.Type, "outage", ev.Outage.OutageID)
	if err := p.plan(ctx, m, ev, log); err != nil {
		if ctx.Err() != nil {
			m.Nak()
			return
		}
		log.Error("planning failed; the event will be tried again", "err", err)
		m.NakWithDelay(5 * time.Second)
		return
	}
	if err := m.DoubleAck(ctx); err != nil {
		log.Error("acknowledge outage event", "err", err)
	}
}

func (p *planner) decode(m jetstream.Msg) (*Event, error) {
	tokens, err := subjectTokens(m.Subject(), SubjectOutages, 1)
	if err != nil {
		return nil, invalid(err)
	}
	if _, ok := p.facilities[tokens[0]]; !ok {
		return nil, invalid(errUnknownFacility(tokens[0]))
	}
	return DecodeEvent(m.Data(), tokens[0])
}

func (p *planner) plan(ctx context.Context, m jetstream.Msg, ev *Event, log *slog.Logger) error {
	seen, err := p.store.HasEvent(ctx, ev.Source, ev.ID)
	if err != nil {
		return err
	}
	if seen {
		log.Info("outage event already handled; nothing new to send")
		return nil
	}
	if err := p.apply(ctx, m, ev, log); err != nil {
		return err
	}
	// Recorded last: an event whose planning was cut short is planned again
	// when it is redelivered.
	_, err = p.store.AddEvent(ctx, ev)
	return err
}

func (p *planner) apply(ctx context.Context, m jetstream.Msg, ev *Event, log *slog.Logger) error {
	o := &ev.Outage
	switch ev.Type {
	case EventResolved:
		log.Info("outage resolved")
		return p.store.PutOutage(ctx, o, OutageResolved)
	case EventUpdated:
		// Re-planning an updated scope is not done yet: the update is
		// recorded and nobody is told anything new.
		log.Warn("outage update recorded; its new scope is not planned")
		return p.store.PutOutage(ctx, o, OutageUpdated)
	}
	if err := p.waitForReplica(ctx, m); err != nil {
		return err
	}
	if err := p.store.PutOutage(ctx, o, OutageDeclared); err != nil {
		return err
	}
	start := p.now()
	planned, published, err := p.publishNotices(ctx, m, o)
	if err != nil {
		return err
	}
	log.Info("outage planned", "notices", planned, "published", published, "took", p.now().Sub(start).Round(time.Millisecond))
	return nil
}

// waitForReplica waits until the replica has applied every appointment
// record that was in the stream when the event is planned, so that an
// appointment booked just before the outage is never missed.
func (p *planner) waitForReplica(ctx context.Context, m jetstream.Msg) error {
	s, err := p.js.Stream(ctx, StreamAppointments)
	if err != nil {
		return fmt.Errorf("look up stream %s: %w", StreamAppointments, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream %s: %w", StreamAppointments, err)
	}
	wctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
	defer cancel()
	keepAlive := time.NewTicker(10 * time.Second)
	defer keepAlive.Stop()
	done := make(chan error, 1)
	go func() { done <- p.replica.waitFor(wctx, info.State.LastSeq) }()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("replica did not reach appointment sequence %d (at %d): %w", info.State.LastSeq, p.replica.Applied(), err)
			}
			return nil
		case <-keepAlive.C:
			m.InProgress()
		}
	}
}

// publishNotices groups the affected appointments per patient into notices
// and publishes those without an outcome to NOTICES, soonest first.
func (p *planner) publishNotices(ctx context.Context, m jetstream.Msg, o *Outage) (planned, published int, err error) {
	fac := p.facilities[o.Facility]
	var (
		chunk   []*Notice
		current *Notice
		seq     uint64
	)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		n, err := p.publishChunk(ctx, chunk)
		published += n
		chunk = chunk[:0]
		m.InProgress()
		return err
	}
	finish := func() error {
		if current == nil {
			return nil
		}
		current.ID = NoticeID(current.OutageID, current.Kind, current.Patient.ID, current.AppointmentIDs())
		chunk = append(chunk, current)
		planned++
		current = nil
		if len(chunk) >= planChunk {
			return flush()
		}
		return nil
	}
	err = p.store.Affected(ctx, o, func(a AffectedAppointment) error {
		if current != nil && current.Patient.ID != a.Patient.ID {
			if err := finish(); err != nil {
				return err
			}
		}
		if current == nil {
			current = p.newNotice(o, fac, a.Patient)
			seq = a.Seq
		}
		if a.Seq > seq {
			current.Patient, seq = a.Patient, a.Seq
			current.Language = p.language(a.Patient.Language, fac.Language)
			current.Note = o.Note[current.Language]
		}
		current.Appointments = append(current.Appointments, NoticeAppointment{
			ID: a.ID, Department: a.Department, Location: a.Location, Start: a.Start, End: a.End,
		})
		return nil
	})
	if err == nil {
		err = finish()
	}
	if err == nil {
		err = flush()
	}
	return planned, published, err
}

func (p *planner) newNotice(o *Outage, fac Facility, patient Patient) *Notice {
	lang := p.language(patient.Language, fac.Language)
	return &Notice{
		Kind:         NoticeKind(o.Action),
		OutageID:     o.OutageID,
		Facility:     o.Facility,
		FacilityName: fac.Name,
		TimeZone:     fac.TimeZone,
		Country:      fac.Country,
		Language:     lang,
		Patient:      patient,
		Hotline:      o.Hotline,
		InfoURL:      o.InfoURL,
		Note:         o.Note[lang],
		PlannedAt:    p.now().UTC(),
	}
}

// language picks the patient's language, else the facility's, else English,
// among those the templates are written in.
func (p *planner) language(patient, facility string) string {
	for _, l := range []string{patient, facility} {
		if l != "" && slices.Contains(p.languages, l) {
			return l
		}
	}
	return "en"
}

// publishChunk records notices and publishes those without an outcome,
// waiting until JetStream has stored every one. The notice id is the message
// id, so a notice published twice is stored once.
func (p *planner) publishChunk(ctx context.Context, chunk []*Notice) (int, error) {
	done, err := p.store.AddNotices(ctx, chunk)
	if err != nil {
		return 0, fmt.Errorf("record notices: %w", err)
	}
	futures := make([]jetstream.PubAckFuture, 0, len(chunk))
	for i, n := range chunk {
		if done[i] {
			continue
		}
		data, err := jsonMarshal(n)
		if err != nil {
			return 0, err
		}
		priority := priorityNormal
		if p.urgent(n, p.now()) {
			priority = priorityUrgent
		}
		msg := nats.NewMsg(SubjectNotices + "." + n.Facility + "." + priority)
		msg.Data = data
		msg.Header.Set(jetstream.MsgIDHeader, n.ID)
		f, err := p.js.PublishMsgAsync(msg)
		if err != nil {
			return 0, fmt.Errorf("publish notice %s: %w", n.ID, err)
		}
		futures = append(futures, f)
	}
	var errs []error
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, err)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if len(errs) > 0 {
		return 0, fmt.Errorf("%d of %d notices not stored: %w", len(errs), len(futures), errors.Join(errs[0]))
	}
	return len(futures), nil
}
