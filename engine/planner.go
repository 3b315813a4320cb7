package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// planChunk is how many notices the planner records and publishes at a
// time; the first chunk of an event is firstChunk, so that the soonest
// patients' notices leave at once.
const (
	planChunk  = 500
	firstChunk = 32
)

// chunksInFlight is how many published chunks may wait for JetStream's
// acknowledgements while the planner goes on grouping the next.
const chunksInFlight = 4

// catchUpTimeout bounds how long the planner waits for the replica before
// handing the event back to the stream for a later try.
const catchUpTimeout = time.Minute

// planner turns outage events into notices: one per patient, soonest first.
type planner struct {
	js         jetstream.JetStream
	store      notifier.Store
	replica    *replica
	contacts   *contacts
	plans      *plansView
	log        *slog.Logger
	facilities map[string]notifier.Facility
	languages  []string
	urgent     func(n *notifier.Notice, now time.Time) bool
	now        func() time.Time
	obs        notifier.Observer
	// ackWait is the planner consumers' AckWait; maxAttempts bounds the
	// tries of an event whose planning fails.
	ackWait     time.Duration
	maxAttempts int
	// report, when set, is told of each failed planning attempt of a
	// facility's event and, with nil, of each event of it planned.
	report func(facility string, err error)
}

// DefaultPlanAckWait is how long an outage event held by a planner that
// went silent (it died, or lost its connection) waits before another
// worker plans it. A live planner tells JetStream it is still at work every
// third of it.
const DefaultPlanAckWait = 30 * time.Second

// DefaultPlanAttempts is how many times an event whose planning fails is
// tried before it is recorded as failed and the facility's next event is
// planned.
const DefaultPlanAttempts = 8

// maxPlanBackoff bounds the wait between two tries of a failing event.
const maxPlanBackoff = time.Minute

// errViewsBehind marks a planning attempt that could not begin because the
// views had not caught up with the streams: a sign of load, not of a bad
// event, so it does not count towards the event's attempts.
var errViewsBehind = errors.New("the views are behind the streams")

// run plans each facility's events on a consumer of its own, so that a
// facility's planning never waits behind another's, and runs the shared
// consumer of every outage subject, which refuses the events of facilities
// the configuration does not name.
func (p *planner) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var consumers []jetstream.Consumer
	for id := range p.facilities {
		cons, err := retrying(ctx, p.log, "creating the planner consumer of facility "+id, func(ctx context.Context) (jetstream.Consumer, error) {
			return p.facilityConsumer(ctx, id)
		})
		if err != nil {
			return fmt.Errorf("create the planner consumer of facility %s: %w", id, err)
		}
		consumers = append(consumers, cons)
	}
	// Created after the facilities' consumers: it passes over their events,
	// and a facility consumer made for the first time starts where this one
	// had got to.
	shared, err := retrying(ctx, p.log, "creating consumer "+ConsumerPlanner, func(ctx context.Context) (jetstream.Consumer, error) {
		return p.js.CreateOrUpdateConsumer(ctx, StreamOutages, jetstream.ConsumerConfig{
			Durable:       ConsumerPlanner,
			Description:   "Refuses outage events of facilities no worker serves; shared by every worker.",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       p.ackWait,
			MaxAckPending: 1,
			FilterSubject: SubjectOutages + ".>",
		})
	})
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", ConsumerPlanner, err)
	}
	var wg sync.WaitGroup
	loop := func(cons jetstream.Consumer, handle func(context.Context, jetstream.Msg)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := consume(ctx, cons, p.log, 1, handle); err != nil {
				cancel(err)
			}
		}()
	}
	for _, cons := range consumers {
		loop(cons, p.handle)
	}
	loop(shared, p.handleShared)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// facilityConsumer creates or updates the planner consumer of one
// facility. Made for the first time in a stream that the shared consumer
// already planned from, it starts after the shared consumer's last
// acknowledged event, so that nothing planned before is looked at again.
func (p *planner) facilityConsumer(ctx context.Context, id string) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       ConsumerPlanner + "-" + id,
		Description:   "Plans the notices of facility " + id + "'s outage events; shared by every worker.",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       p.ackWait,
		MaxAckPending: 1,
		FilterSubject: SubjectOutages + "." + id,
	}
	existing, err := p.js.Consumer(ctx, StreamOutages, cfg.Durable)
	switch {
	case err == nil:
		info, err := existing.Info(ctx)
		if err != nil {
			return nil, err
		}
		cfg.DeliverPolicy, cfg.OptStartSeq = info.Config.DeliverPolicy, info.Config.OptStartSeq
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		shared, err := p.js.Consumer(ctx, StreamOutages, ConsumerPlanner)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		info, err := shared.Info(ctx)
		if err != nil {
			return nil, err
		}
		if floor := info.AckFloor.Stream; floor > 0 {
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, floor+1
		}
	default:
		return nil, err
	}
	return p.js.CreateOrUpdateConsumer(ctx, StreamOutages, cfg)
}

// handleShared refuses an event of a facility that is not configured (or
// on a subject that names none) and passes over the others: their
// facility's own consumer plans them.
func (p *planner) handleShared(ctx context.Context, m jetstream.Msg) {
	if tokens, err := subjectTokens(m.Subject(), SubjectOutages, 1); err == nil {
		if _, ok := p.facilities[tokens[0]]; ok {
			m.Ack()
			return
		}
	}
	p.handle(ctx, m)
}

// handle plans one event. It acknowledges it only once the notices are
// stored in the NOTICES stream; a malformed event is terminated and
// recorded, and so is one whose planning failed maxAttempts times.
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
		p.reject(ctx, m, md.Sequence.Stream, err, log)
		return
	}
	p.obs.Consumed(StreamOutages)
	log = log.With("event", ev.ID, "type", ev.Type, "outage", ev.Outage.OutageID)
	stop := keepAlive(m, p.ackWait/3, nil)
	err = p.plan(ctx, m, ev, log)
	stop()
	if err != nil {
		if ctx.Err() != nil {
			m.Nak()
			return
		}
		if errors.Is(err, notifier.ErrInvalid) {
			p.reject(ctx, m, md.Sequence.Stream, err, log)
			return
		}
		if p.report != nil {
			p.report(ev.Outage.Facility, err)
		}
		if n := int(md.NumDelivered); n >= p.maxAttempts && !errors.Is(err, errViewsBehind) {
			log.Error("planning failed; giving the event up", "attempts", n, "err", err)
			p.reject(ctx, m, md.Sequence.Stream, fmt.Errorf("planning failed %d times, given up: %w", n, err), log)
			return
		}
		wait := min(time.Second<<min(md.NumDelivered, 10), maxPlanBackoff)
		log.Error("planning failed; the event will be tried again", "attempt", md.NumDelivered, "retry_in", wait, "err", err)
		m.NakWithDelay(wait)
		return
	}
	if p.report != nil {
		p.report(ev.Outage.Facility, nil)
	}
	if err := m.DoubleAck(ctx); err != nil {
		log.Error("acknowledge outage event", "err", err)
	}
}

// reject records why an outage event is refused and terminates it.
func (p *planner) reject(ctx context.Context, m jetstream.Msg, seq uint64, why error, log *slog.Logger) {
	log.Warn("outage event rejected", "reason", why.Error())
	p.obs.Rejected(StreamOutages)
	reject := &notifier.Reject{At: p.now().UTC(), Stream: StreamOutages, Subject: m.Subject(), Seq: seq, Reason: why.Error()}
	id := fmt.Sprintf("reject:%s:%d", StreamOutages, seq)
	if err := p.record(ctx, id, &notifier.PlanRecord{Reject: reject}); err != nil {
		log.Error("record rejected event", "err", err)
		m.NakWithDelay(5 * time.Second)
		return
	}
	m.Term()
}

func (p *planner) decode(m jetstream.Msg) (*notifier.Event, error) {
	tokens, err := subjectTokens(m.Subject(), SubjectOutages, 1)
	if err != nil {
		return nil, notifier.Invalid(err)
	}
	fac, ok := p.facilities[tokens[0]]
	if !ok {
		return nil, notifier.Invalid(notifier.ErrUnknownFacility(tokens[0]))
	}
	ev, err := notifier.DecodeEvent(m.Data(), tokens[0])
	if err != nil {
		return nil, err
	}
	if _, err := fac.Verify(ev, m.Data()); err != nil {
		return nil, err
	}
	return ev, nil
}

func (p *planner) plan(ctx context.Context, m jetstream.Msg, ev *notifier.Event, log *slog.Logger) error {
	// The views must hold every appointment record, notice and handled
	// event that was in the streams before this event is planned.
	if err := p.waitForViews(ctx); err != nil {
		return err
	}
	seen, err := p.store.HasEvent(ctx, ev.Outage.Facility, ev.Source, ev.ID)
	if err != nil {
		return err
	}
	if seen {
		log.Info("outage event already handled; nothing new to send")
		return nil
	}
	if err := p.inFacility(ctx, ev); err != nil {
		return err
	}
	handled, err := p.apply(ctx, m, ev, log)
	if err != nil {
		return err
	}
	// Recorded last: an event whose planning was cut short is planned again
	// when it is redelivered.
	return p.record(ctx, "event:"+handled.Outage.Facility+"/"+handled.Key(), &notifier.PlanRecord{Event: handled})
}

// inFacility refuses an event that would act on an outage outside the
// facility whose subject it came on: an event on outages.<f> sees and acts
// on outages of f alone, so a facility without signing keys cannot release,
// resolve or widen another facility's outage. Approving or resolving an
// outage that was never declared is refused too: an approval cannot come
// before the declaration it approves.
func (p *planner) inFacility(ctx context.Context, ev *notifier.Event) error {
	prev, _, ok, err := p.store.Outage(ctx, ev.Outage.OutageID)
	if err != nil {
		return err
	}
	switch {
	case ok && prev.Facility != ev.Outage.Facility:
		return notifier.Invalid(fmt.Errorf("outage %q belongs to another facility: an event on %s.%s acts only on that facility's outages",
			ev.Outage.OutageID, SubjectOutages, ev.Outage.Facility))
	case !ok && ev.Type == notifier.EventApproved:
		return notifier.Invalid(fmt.Errorf("approval of outage %q, which is not declared: an approval cannot come before its declaration", ev.Outage.OutageID))
	case !ok && ev.Type == notifier.EventResolved:
		return notifier.Invalid(fmt.Errorf("outage %q is not declared: nothing to resolve", ev.Outage.OutageID))
	}
	return nil
}

// apply plans the event's notices and returns the record of it.
func (p *planner) apply(ctx context.Context, m jetstream.Msg, ev *notifier.Event, log *slog.Logger) (*notifier.HandledEvent, error) {
	o := &ev.Outage
	handled := &notifier.HandledEvent{Source: ev.Source, ID: ev.ID, Type: ev.Type, Outage: *o, Data: ev.Data}
	key := handled.Key()
	switch ev.Type {
	case notifier.EventResolved:
		return handled, p.resolve(ctx, m, handled, log)
	case notifier.EventApproved:
		return handled, p.approve(ctx, m, handled, log)
	}
	handled.State = notifier.OutageDeclared
	if ev.Type == notifier.EventUpdated {
		handled.State = notifier.OutageUpdated
	}
	start := p.now()
	told, base, err := p.told(ctx, o.OutageID, key)
	if err != nil {
		return nil, err
	}
	held, err := p.hold(ctx, o, told)
	if err != nil {
		return nil, err
	}
	if held {
		handled.State = notifier.OutageHeld
		handled.Outage.Scope, handled.Outage.HeldPatients = o.Scope, o.HeldPatients
		log.Warn("outage held for approval: it would notify more patients than the approval threshold, or was held already",
			"patients", o.HeldPatients, "scope", o.Scope)
	}
	// Appointments newly in scope get notices; those already told get
	// nothing new.
	b := p.batch(m, o, notifier.NoticeKind(o.Action), base, key)
	b.held = held
	inScope := map[string]bool{}
	err = p.store.Affected(ctx, o, func(a notifier.AffectedAppointment) error {
		inScope[a.ID] = true
		if told[a.ID] {
			return nil
		}
		return b.add(ctx, a)
	})
	if err == nil {
		err = b.close(ctx)
	}
	if err != nil {
		return nil, err
	}
	// Appointments told "postponed" that left the scope go ahead as
	// planned, if they still can.
	gone := notifier.LeftScope(told, inScope)
	r := p.batch(m, o, notifier.KindReinstated, base, key)
	r.held = held
	if err := p.forEach(ctx, o.Facility, gone, r); err != nil {
		return nil, err
	}
	log.Info("outage planned", "notices", b.planned+r.planned, "reinstated", r.planned,
		"took", p.now().Sub(start).Round(time.Millisecond))
	return handled, nil
}

// resolve closes an outage and, when asked, tells every patient still
// waiting for a postponed appointment that services have resumed.
func (p *planner) resolve(ctx context.Context, m jetstream.Msg, h *notifier.HandledEvent, log *slog.Logger) error {
	h.State = notifier.OutageResolved
	prev, _, _, err := p.store.Outage(ctx, h.Outage.OutageID)
	if err != nil {
		return err
	}
	notify := h.Outage.Notify
	h.Outage = prev
	if !notify {
		log.Info("outage resolved")
		return nil
	}
	told, base, err := p.told(ctx, prev.OutageID, h.Key())
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(told))
	for id := range told {
		ids = append(ids, id)
	}
	b := p.batch(m, &prev, notifier.KindResumed, base, h.Key())
	if err := p.forEach(ctx, prev.Facility, ids, b); err != nil {
		return err
	}
	log.Info("outage resolved; patients told services have resumed", "notices", b.planned)
	return nil
}

// forEach adds to b the appointments with these ids that are still active
// and in the future.
func (p *planner) forEach(ctx context.Context, facility string, ids []string, b *batch) error {
	now := p.now()
	err := p.store.AppointmentsByID(ctx, facility, ids, func(a notifier.AffectedAppointment) error {
		if !notifier.StillAhead(&a.Appointment, now) {
			return nil
		}
		return b.add(ctx, a)
	})
	if err != nil {
		return err
	}
	return b.close(ctx)
}

// told reads the outage's planned notices from the store and returns what
// events other than key told its patients (notifier.ToldSoFar).
func (p *planner) told(ctx context.Context, outageID, key string) (map[string]bool, string, error) {
	prev, err := p.store.OutageNotices(ctx, outageID)
	if err != nil {
		return nil, "", err
	}
	told, base := notifier.ToldSoFar(outageID, key, prev)
	return told, base, nil
}

// batch groups appointments, patient by patient, into notices of one kind
// and publishes them in chunks.
type batch struct {
	p       *planner
	m       jetstream.Msg
	g       notifier.Grouper
	chunk   []*notifier.Notice
	planned int
	// inFlight are the published chunks waiting for their
	// acknowledgements, oldest first.
	inFlight []inFlightChunk
	// held notices wait for the outage's approval.
	held bool
}

// inFlightChunk is a published chunk of notices.
type inFlightChunk struct {
	futures []jetstream.PubAckFuture
	notices int
}

func (p *planner) batch(m jetstream.Msg, o *notifier.Outage, kind, base, key string) *batch {
	return &batch{p: p, m: m, g: notifier.Grouper{Outage: o, Facility: p.facilities[o.Facility], Kind: kind, Base: base,
		Languages: p.languages, EventKey: key, Now: p.now()}}
}

// add adds an appointment; a patient's appointments come one after another.
func (b *batch) add(ctx context.Context, a notifier.AffectedAppointment) error {
	if n := b.g.Add(a); n != nil {
		return b.finish(ctx, n)
	}
	return nil
}

// finish takes a patient's complete notice into the chunk, and publishes
// the chunk once it is full.
func (b *batch) finish(ctx context.Context, n *notifier.Notice) error {
	b.chunk = append(b.chunk, n)
	b.planned++
	size := planChunk
	if b.planned <= firstChunk {
		size = firstChunk
	}
	if len(b.chunk) >= size {
		return b.flush(ctx)
	}
	return nil
}

// flush publishes the chunk; once chunksInFlight chunks wait for their
// acknowledgements, it waits for the oldest.
func (b *batch) flush(ctx context.Context) error {
	if len(b.chunk) == 0 {
		return nil
	}
	futures, err := b.p.publishChunk(b.chunk, b.held)
	if err != nil {
		return err
	}
	b.inFlight = append(b.inFlight, inFlightChunk{futures, len(b.chunk)})
	b.chunk = b.chunk[:0]
	b.m.InProgress()
	// The first chunk, a small one, is waited for at once: its notices
	// are the soonest, and it tells early whether NATS takes them.
	if len(b.inFlight) > chunksInFlight || b.planned <= firstChunk {
		return b.awaitOldest(ctx)
	}
	return nil
}

// awaitOldest waits until JetStream has stored the oldest chunk in flight.
func (b *batch) awaitOldest(ctx context.Context) error {
	c := b.inFlight[0]
	b.inFlight = b.inFlight[1:]
	if err := awaitAll(ctx, c.futures); err != nil {
		return err
	}
	b.p.obs.Planned(b.g.Kind, c.notices)
	return nil
}

// close publishes what is left and waits until JetStream has stored every
// notice.
func (b *batch) close(ctx context.Context) error {
	if n := b.g.Flush(); n != nil {
		if err := b.finish(ctx, n); err != nil {
			return err
		}
	}
	if err := b.flush(ctx); err != nil {
		return err
	}
	for len(b.inFlight) > 0 {
		if err := b.awaitOldest(ctx); err != nil {
			return err
		}
	}
	return nil
}

// waitForViews waits until the replica has applied every appointment
// record and contact record, and the plans view every plan record, that
// were in their streams when the event is planned: an appointment booked,
// or an address changed, just before the outage is never missed, and what
// other workers planned is known.
func (p *planner) waitForViews(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
	defer cancel()
	for _, v := range []struct {
		stream string
		pos    *position
	}{{StreamAppointments, p.replica.position}, {StreamPatients, p.contacts.position}, {StreamPlans, p.plans.position}} {
		last, err := lastSeq(ctx, p.js, v.stream)
		if err != nil {
			return err
		}
		if err := v.pos.waitFor(wctx, last); err != nil {
			return fmt.Errorf("%w: the view of %s did not reach sequence %d (at %d): %w", errViewsBehind, v.stream, last, v.pos.Applied(), err)
		}
	}
	return nil
}

// maxPlanRecord bounds the size of one PLANS message holding a chunk's
// notice records, well below NATS's default payload limit of 1 MB; a
// server with a lower limit lowers it (planRecordLimit).
const maxPlanRecord = 256 << 10

// planRecordLimit is how large a PLANS message of notice records may be on
// this connection: maxPlanRecord, or half the server's payload limit.
func (p *planner) planRecordLimit() int {
	limit := maxPlanRecord
	if nc := p.js.Conn(); nc != nil {
		if mp := int(nc.MaxPayload()); mp > 0 {
			limit = min(limit, mp/2)
		}
	}
	return limit
}

// publishChunk publishes the chunk's notice records to PLANS, as few
// messages as fit, and each notice to NOTICES, and returns the
// acknowledgements to wait for. The notice id is the message id, so a
// notice published twice is stored once.
func (p *planner) publishChunk(chunk []*notifier.Notice, held bool) ([]jetstream.PubAckFuture, error) {
	futures := make([]jetstream.PubAckFuture, 0, len(chunk)+1)
	publish := func(msg *nats.Msg) error {
		f, err := p.js.PublishMsgAsync(msg)
		if err != nil {
			return fmt.Errorf("publish to %s: %w", msg.Subject, err)
		}
		futures = append(futures, f)
		return nil
	}
	// The records first, so that a view usually learns of a notice before
	// its outcome (it accepts them the other way round too).
	var recs [][]byte
	size, from := 0, 0
	flushRecs := func(to int) error {
		if len(recs) == 0 {
			return nil
		}
		id := planRecordID(chunk[from:to])
		data := make([]byte, 0, size+len(recs)+16)
		data = append(data, `{"notices":[`...)
		for i, r := range recs {
			if i > 0 {
				data = append(data, ',')
			}
			data = append(data, r...)
		}
		data = append(data, "]}"...)
		recs, size, from = recs[:0], 0, to
		return publish(newMsg(SubjectPlans+"."+chunk[0].Facility, id, data))
	}
	limit := p.planRecordLimit()
	for i, n := range chunk {
		rec, err := notifier.EncodeJSON(notifier.PlannedRecord(n))
		if err != nil {
			return nil, err
		}
		if size+len(rec) > limit {
			if err := flushRecs(i); err != nil {
				return nil, err
			}
		}
		recs = append(recs, rec)
		size += len(rec) + 1
	}
	if err := flushRecs(len(chunk)); err != nil {
		return nil, err
	}
	for _, n := range chunk {
		data, err := notifier.EncodeJSON(n)
		if err != nil {
			return nil, err
		}
		subject := p.noticeSubject(n)
		if held {
			subject = heldSubject(n.Facility, n.OutageID)
		}
		if err := publish(newMsg(subject, n.ID, data)); err != nil {
			return nil, err
		}
	}
	return futures, nil
}

// planRecordID is the message id of a PLANS message holding these
// notices' records. It is named by every notice, so that the same chunk
// planned again after a redelivery is stored once, and a chunk that differs
// in any notice is not taken for it by JetStream's deduplication.
func planRecordID(notices []*notifier.Notice) string {
	h := sha256.New()
	for _, n := range notices {
		h.Write([]byte(n.ID))
		h.Write([]byte{0})
	}
	return "notices:" + hex.EncodeToString(h.Sum(nil))
}

// record publishes a plan record and waits until it is stored.
func (p *planner) record(ctx context.Context, id string, r *notifier.PlanRecord) error {
	return recordPlan(ctx, p.js, id, r)
}

// recordPlan publishes a plan record on plans.<facility> (plans._ for one
// that names no facility) under the message id.
func recordPlan(ctx context.Context, js jetstream.JetStream, id string, r *notifier.PlanRecord) error {
	data, err := notifier.EncodeJSON(r)
	if err != nil {
		return err
	}
	facility := "_"
	switch {
	case r.Event != nil:
		facility = r.Event.Outage.Facility
	case r.Notice != nil:
		facility = r.Notice.Facility
	}
	if !notifier.ValidID(facility) {
		facility = "_"
	}
	_, err = js.PublishMsg(ctx, newMsg(SubjectPlans+"."+facility, id, data))
	return err
}

// RecordReject records input refused outside the streams (an HL7 message,
// say) with the refusals the workers record, so that the status page and
// notifier report show it. id deduplicates it.
func RecordReject(ctx context.Context, js jetstream.JetStream, id string, r *notifier.Reject) error {
	return recordPlan(ctx, js, "reject:"+id, &notifier.PlanRecord{Reject: r})
}

// awaitAll waits for every publication's acknowledgement.
func awaitAll(ctx context.Context, futures []jetstream.PubAckFuture) error {
	var errs []error
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d messages not stored: %w", len(errs), len(futures), errs[0])
	}
	return nil
}
