package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// Worker runs the loops of one notifier process: the appointment replica
// and the contact records applied to it, the planner, the dispatcher and the audit view. Several workers may share
// one NATS JetStream; each keeps its own store.
type Worker struct {
	JS       jetstream.JetStream
	Store    notifier.Store
	Renderer notifier.Renderer
	Chain    *notifier.Chain
	// Facilities are the sites served, by id. Input for others is rejected.
	Facilities map[string]notifier.Facility
	// Observer, when set, is told what the worker does (metrics).
	Observer notifier.Observer
	// CallList, when set, is rewritten whenever a notice becomes manual
	// and whenever staff work a row of it.
	CallList CallList
	// CallPolicy is how staff work the call list (RecordCall).
	CallPolicy notifier.CallPolicy
	// Languages are those the renderer has templates for.
	Languages []string
	// Parallel is how many notices are handled at once, per priority
	// (default DefaultParallel).
	Parallel int
	// Replicas is the replica count of streams the worker creates.
	Replicas int
	// FastImport lets APPOINTMENTS take the fast batches `notifier import`
	// publishes (SetFastImport); false turns them off.
	FastImport bool
	// AckWait is how long a notice held by a worker that went silent (it
	// died, or lost its connection) waits before another takes it over
	// (default 30s).
	AckWait time.Duration
	// PlanAckWait is how long an outage event held by a planner that went
	// silent waits before another worker plans it (default
	// DefaultPlanAckWait); PlanAttempts is how many times an event whose
	// planning fails is tried before it is recorded as failed (default
	// DefaultPlanAttempts).
	PlanAckWait  time.Duration
	PlanAttempts int
	// ShutdownGrace bounds how long sends in flight may go on after
	// shutdown begins (default 30s).
	ShutdownGrace time.Duration
	Logger        *slog.Logger
	// ConfirmWithin, when set, is how long a delivered notice of each
	// urgency may go unconfirmed by its patient before it goes on the call
	// list (0: as long as it likes). Set it only when notices carry
	// confirmation links.
	ConfirmWithin func(urgent bool) time.Duration
	// Now is the clock; tests may replace it.
	Now func() time.Time

	replica *replica
	plans   *plansView
	calls   *callsView
	clock   func() time.Time
	views   []view
	// published holds views once Run has made them, for Applied.
	published atomic.Pointer[[]view]
	caughtUp  atomic.Bool
	troubles  troubles
	readyOnce sync.Once
	ready     chan struct{}
}

// DefaultShutdownGrace bounds how long sends in flight may go on after
// shutdown begins.
const DefaultShutdownGrace = 30 * time.Second

// Ready is closed once the streams and consumers exist and the loops run.
func (w *Worker) Ready() <-chan struct{} {
	w.init()
	return w.ready
}

func (w *Worker) init() {
	w.readyOnce.Do(func() { w.ready = make(chan struct{}) })
}

// Run creates the streams when missing and runs the loops until ctx ends;
// then it stops taking work, lets sends in flight finish, and returns.
func (w *Worker) Run(ctx context.Context) error {
	w.init()
	if err := w.check(); err != nil {
		return err
	}
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	now := w.Now
	if now == nil {
		now = time.Now
	}
	obs := w.Observer
	if obs == nil {
		obs = notifier.NopObserver{}
	}
	w.Chain.Observer = obs
	if _, err := retrying(ctx, log, "creating the streams", func(ctx context.Context) (struct{}, error) {
		if err := EnsureStreams(ctx, w.JS, w.Replicas); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, WidenDuplicateWindows(ctx, w.JS)
	}); err != nil {
		return stopping(ctx, err)
	}
	switch ok, err := SetFastImport(ctx, w.JS, w.FastImport); {
	case err != nil:
		log.Warn("could not set fast batches for imports", "want", w.FastImport, "err", err)
	case w.FastImport && !ok:
		log.Warn("imports publish row by row: this NATS server does not take fast batches (nats-server 2.14 or later does)")
	}
	kv, err := retrying(ctx, log, "opening the claims bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return ensureClaims(ctx, w.JS, w.Replicas)
	})
	if err != nil {
		return stopping(ctx, err)
	}
	w.replica = newReplica(w.JS, w.Store, log.With("loop", "replica"), w.Facilities)
	w.replica.obs = obs
	w.plans = &plansView{position: newPosition(), js: w.JS, store: w.Store, log: log.With("loop", "plans")}
	w.calls = &callsView{position: newPosition(), js: w.JS, store: w.Store, log: log.With("loop", "calls")}
	w.clock = now
	c := &contacts{position: newPosition(), js: w.JS, store: w.Store, log: log.With("loop", "contacts"),
		facilities: w.Facilities, replica: w.replica, obs: obs}
	p := &planner{js: w.JS, store: w.Store, replica: w.replica, contacts: c, log: log.With("loop", "planner"),
		facilities: w.Facilities, languages: w.Languages, urgent: w.Chain.Urgent, now: now, obs: obs, plans: w.plans,
		ackWait: cmp.Or(w.PlanAckWait, DefaultPlanAckWait), maxAttempts: cmp.Or(w.PlanAttempts, DefaultPlanAttempts)}
	d := &dispatcher{js: w.JS, store: w.Store, renderer: w.Renderer, chain: w.Chain,
		log: log.With("loop", "dispatcher"), parallel: w.Parallel, grace: w.ShutdownGrace, now: now, obs: obs,
		facilities: w.Facilities, languages: w.Languages}
	if d.parallel <= 0 {
		d.parallel = DefaultParallel
	}
	if d.grace <= 0 {
		d.grace = DefaultShutdownGrace
	}
	d.ackWait = w.AckWait
	if d.ackWait <= 0 {
		d.ackWait = DefaultAckWait
	}
	d.claims = &claims{kv: kv, worker: workerID(), ttl: d.ackWait, now: now}
	a := &audit{position: newPosition(), js: w.JS, store: w.Store, log: log.With("loop", "audit")}
	d.outcomes = a.position
	w.views = []view{{StreamAppointments, w.replica.position}, {StreamPlans, w.plans.position}, {StreamDeliveries, a.position},
		{StreamPatients, c.position}, {StreamCalls, w.calls.position}}
	for _, v := range w.views {
		v.pos.report = func(err error) { w.troubles.set("the store's view of "+v.stream, err, now()) }
	}
	w.published.Store(&w.views)
	p.report = func(facility string, err error) { w.troubles.set("planning of facility "+facility, err, now()) }
	loops := map[string]func(context.Context) error{
		"replica": w.replica.run, "contacts": c.run, "plans": w.plans.run, "planner": p.run, "dispatcher": d.run, "audit": a.run,
		"feedback": (&feedbackLoop{dispatcher: d}).run, "calls": w.calls.run,
	}
	if w.ConfirmWithin != nil {
		loops["confirm-deadlines"] = func(ctx context.Context) error { return d.runConfirmDeadlines(ctx, w.ConfirmWithin) }
	}
	if w.CallList != nil {
		r := newRefresher(w.CallList, log.With("loop", "calllist"))
		a.manual = r.mark
		w.calls.changed = r.mark
		loops["calllist"] = r.run
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for name, loop := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loop(ctx); err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		}()
	}
	go w.catchUp(ctx, log)
	close(w.ready)
	log.Info("worker running", "facilities", len(w.Facilities), "channels", len(w.Chain.Links()), "parallel", d.parallel)
	<-ctx.Done()
	log.Info("worker stopping: finishing sends in flight")
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func (w *Worker) check() error {
	switch {
	case w.JS == nil:
		return errors.New("worker: no JetStream")
	case w.Store == nil:
		return errors.New("worker: no store")
	case w.Renderer == nil:
		return errors.New("worker: no renderer")
	case w.Chain == nil || len(w.Chain.Links()) == 0:
		return errors.New("worker: no channels")
	case len(w.Facilities) == 0:
		return errors.New("worker: no facilities configured")
	}
	return nil
}

// Applied is how far the store's view of each stream has got: the stream
// sequence of the last message it applied, by stream name; empty until Run
// has set the views up.
func (w *Worker) Applied() map[string]uint64 {
	views := w.published.Load()
	if views == nil {
		return nil
	}
	out := make(map[string]uint64, len(*views))
	for _, v := range *views {
		out[v.stream] = v.pos.Applied()
	}
	return out
}

// ReplicaApplied is the stream sequence of the last appointment record the
// replica has applied.
func (w *Worker) ReplicaApplied() uint64 {
	if w.replica == nil {
		return 0
	}
	return w.replica.Applied()
}

// workerID names this process in claims: host, process id and a random
// suffix, so that a restarted process is another worker.
func workerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.N(1<<16))
}

// view is a materialised view of a stream and how far it has got.
type view struct {
	stream string
	pos    *position
}

// catchUp waits until every view has applied what its stream held when the
// worker started, then says so: a worker started on an empty data folder
// has rebuilt its store from the streams.
func (w *Worker) catchUp(ctx context.Context, log *slog.Logger) {
	start := time.Now()
	for _, v := range w.views {
		s, err := w.JS.Stream(ctx, v.stream)
		if err != nil {
			return
		}
		info, err := s.Info(ctx)
		if err != nil {
			return
		}
		if err := v.pos.waitFor(ctx, info.State.LastSeq); err != nil {
			return
		}
	}
	w.caughtUp.Store(true)
	log.Info("caught up with the streams", "took", time.Since(start).Round(time.Millisecond),
		"appointments_seq", w.views[0].pos.Applied(), "plans_seq", w.views[1].pos.Applied(), "deliveries_seq", w.views[2].pos.Applied(), "patients_seq", w.views[3].pos.Applied())
}

// Troubles lists what is failing now: planning, and the views that write
// the streams into the store. Empty while all is well.
func (w *Worker) Troubles() []error { return w.troubles.list() }

// CaughtUp reports whether the worker's store has applied everything its
// streams held when it started.
func (w *Worker) CaughtUp() bool { return w.caughtUp.Load() }

// stopping turns an error of a start-up cut short by a stop signal into a
// clean stop.
func stopping(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
