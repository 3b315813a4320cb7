// Package bench measures the notifier end to end on synthetic data, for
// capacity planning and as the project's yardstick.
//
// Run generates a seeded set of appointments (package synth), publishes them
// to appointments.<facility>.<id> as an import does, waits until the worker's
// replica has applied them, publishes one outage and runs the real worker
// (embedded NATS, SQLite, the SMTP channel) until every notice has an
// outcome. In the same process it then measures the baseline: as many
// messages of the same size, rendered beforehand, handed straight to the same
// SMTP channel with as many connections, into the same relay.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/bench/synth"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/natsd"
	"github.com/postponement/notifier/notifier"
)

// Defaults for zero Options fields.
const (
	DefaultAppointments = 1_000_000
	DefaultAffected     = 100_000
	DefaultConns        = 20
)

// Options configure a run. Zero fields take the defaults above.
type Options struct {
	// Appointments is how many appointments are stored.
	Appointments int
	// Affected is how many of them the outage affects.
	Affected int
	// PatientsWithTwo is the share (0 to 1) of affected patients with two
	// affected appointments.
	PatientsWithTwo float64
	// SMTP is the relay to send to (host:port); empty starts an in-process
	// relay that accepts everything. TLS is none for a loopback relay and
	// STARTTLS otherwise.
	SMTP string
	// Conns is how many SMTP connections, and so sends, are in flight.
	Conns int
	// Parallel is how many notices the worker handles at once (its
	// dispatch.parallel, per priority); default Conns.
	Parallel int
	// Size is the size of a composed message in bytes: smaller messages are
	// padded up to it; 0 sends them as rendered.
	Size int
	// Seed picks the synthetic appointments.
	Seed uint64
	// Dir holds NATS, SQLite and the worker's log; empty uses a temporary
	// folder that is removed afterwards.
	Dir string
	// Progress, when set, receives a line now and then.
	Progress io.Writer
	// Log, when set, receives the worker's log; else it goes to worker.log
	// in Dir, so that its cost is part of the figures as in production.
	Log io.Writer
	// ProfileDir, when set, receives a CPU profile of each phase
	// (load.cpu.pprof, run.cpu.pprof, baseline.cpu.pprof) and a heap
	// profile at the end of the run (run.heap.pprof).
	ProfileDir string
}

const (
	facility = "ukd"
	hotline  = "+49 211 81-04444"
	sender   = "UKD <noreply@ukd.example.org>"
	// stallAfter ends a run in which no notice got an outcome for so long.
	stallAfter = 2 * time.Minute
)

// Run runs the benchmark.
func Run(ctx context.Context, o Options) (*Result, error) {
	began := time.Now()
	if o.Appointments == 0 {
		o.Appointments = DefaultAppointments
	}
	if o.Affected == 0 {
		o.Affected = min(DefaultAffected, o.Appointments)
	}
	if o.Conns <= 0 {
		o.Conns = DefaultConns
	}
	if o.Parallel <= 0 {
		o.Parallel = o.Conns
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	tls := "none"
	if o.SMTP != "" {
		host, _, err := net.SplitHostPort(o.SMTP)
		if err != nil {
			return nil, fmt.Errorf("smtp %q: want host:port", o.SMTP)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			tls = "starttls"
		}
	}

	cfg := config.Default()
	fac := cfg.FacilityMap()[facility]
	loc, err := fac.Location()
	if err != nil {
		return nil, err
	}
	// The outage starts at the next midnight and lasts a week, as one
	// declared this evening would: its first day or two are urgent.
	now := time.Now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	set, err := synth.New(synth.Options{Appointments: o.Appointments, Affected: o.Affected,
		PatientsWithTwo: o.PatientsWithTwo, Seed: o.Seed, Facility: facility, From: from})
	if err != nil {
		return nil, err
	}
	outage := set.Outage(fmt.Sprintf("bench-%d", o.Seed), hotline)

	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "notifier-bench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(o.Dir)
	}
	if o.Log == nil {
		f, err := os.Create(filepath.Join(o.Dir, "worker.log"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		o.Log = f
	}
	log := app.NewLogger(config.Log{Level: "info"}, o.Log)
	say := func(format string, args ...any) {
		fmt.Fprintf(o.Progress, "%7.1fs  "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
	}

	res := &Result{
		Machine: machine(),
		Options: ResultOptions{Appointments: o.Appointments, Affected: o.Affected, PatientsWithTwo: o.PatientsWithTwo,
			SMTP: o.SMTP, TLS: tls, Conns: o.Conns, Parallel: o.Parallel, SizeBytes: o.Size, Seed: o.Seed},
		Notices: set.Notices(),
	}

	srv, err := natsd.Start(natsd.Options{Port: -1, StoreDir: filepath.Join(o.Dir, "nats")})
	if err != nil {
		return nil, err
	}
	conn, err := app.Connect(srv.ClientURL(), log)
	if err != nil {
		srv.Shutdown()
		return nil, err
	}
	conn.Server = srv
	defer conn.Close()

	var sk *sink
	addr := o.SMTP
	if addr == "" {
		if sk, err = startSink(); err != nil {
			return nil, err
		}
		defer sk.Close()
		addr = sk.Addr()
	}
	cfg.DataDir = o.Dir
	cfg.Channels = []config.Channel{{Name: "relay", Type: config.TypeSMTP, Addr: addr, TLS: tls, From: sender, MaxConns: o.Conns}}
	cfg.Dispatch.Parallel = o.Parallel
	cfg.Dispatch.ShutdownGrace = 5 * time.Second
	w, err := app.NewWorker(cfg, conn.JS, log)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	obs := &observer{}
	w.Observer = obs
	pad, err := newPadding(w.Renderer, o.Size)
	if err != nil {
		return nil, err
	}
	w.Renderer = pad

	wctx, stopWorker := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	workerRunning := true
	stop := func() error {
		if !workerRunning {
			return nil
		}
		workerRunning = false
		stopWorker()
		return <-done
	}
	defer stop()
	select {
	case <-w.Ready():
	case err := <-done:
		return nil, err
	}
	say("worker ready; data in %s; sending to %s (tls %s, %d connections, %d notices at once)", o.Dir, addr, tls, o.Conns, o.Parallel)

	// Load.
	phasePeaks := resetPeak()
	stopProfile, err := profile(o.ProfileDir, "load")
	if err != nil {
		return nil, err
	}
	rows := &rows{records: set.Records(), outage: &outage, earliest: map[string]time.Time{}}
	cpu := sampleCPU()
	loadStart := time.Now()
	lastSay := loadStart
	imp, err := app.Import(ctx, conn.JS, rows, func(line int, err error) {
		say("record %d rejected: %v", line, err)
	}, func(r app.ImportResult) {
		if time.Since(lastSay) >= 2*time.Second {
			lastSay = time.Now()
			say("load   %d/%d published, %d applied by the replica", r.Accepted, o.Appointments, w.ReplicaApplied())
		}
	})
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if imp.Rejected > 0 || imp.Accepted != o.Appointments || rows.affected != o.Affected {
		return nil, fmt.Errorf("load: %d accepted, %d rejected, %d affected; want %d, 0, %d",
			imp.Accepted, imp.Rejected, rows.affected, o.Appointments, o.Affected)
	}
	published := time.Since(loadStart)
	stream, err := conn.JS.Stream(ctx, notifier.StreamAppointments)
	if err != nil {
		return nil, err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, err
	}
	for w.ReplicaApplied() < info.State.LastSeq {
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return nil, err
		}
		if time.Since(lastSay) >= 2*time.Second {
			lastSay = time.Now()
			say("load   all published, %d/%d applied by the replica", w.ReplicaApplied(), info.State.LastSeq)
		}
	}
	loaded := time.Since(loadStart)
	res.CPU.Load = cpuSince(cpu)
	res.Memory.LoadPeakRSS = statusKB("VmHWM") << 10
	if err := stopProfile(); err != nil {
		return nil, err
	}
	res.SQLite.LoadedDBBytes, res.SQLite.LoadedWALBytes = fileSize(w.DB.Path()), fileSize(w.DB.Path()+"-wal")
	res.Load = Load{Appointments: imp.Accepted, PublishSeconds: published.Seconds(), Seconds: loaded.Seconds(),
		PerSecond: float64(imp.Accepted) / loaded.Seconds()}
	say("load   %d appointments in %.1fs (%.0f/s; published in %.1fs)", imp.Accepted, loaded.Seconds(), res.Load.PerSecond, published.Seconds())

	if res.Planning.QueryPlan, err = w.DB.ExplainAffected(ctx, &outage); err != nil {
		return nil, err
	}
	ev, err := app.BuildEvent(app.EventOptions{Facility: facility, From: outage.From, Until: outage.Until,
		Departments: outage.Departments, Kinds: outage.Kinds, Hotline: hotline, InfoURL: outage.InfoURL,
		OutageID: outage.OutageID, Source: "/notifier/bench"})
	if err != nil {
		return nil, err
	}

	// Run: publish the outage and wait until every notice has an outcome.
	if phasePeaks {
		resetPeak()
	}
	if stopProfile, err = profile(o.ProfileDir, "run"); err != nil {
		return nil, err
	}
	cpu = sampleCPU()
	t0 := time.Now()
	res.UrgentNotices = rows.urgent(t0, cfg.Policy())
	rows.earliest = nil
	if err := notifier.PublishEvent(ctx, conn.JS, ev); err != nil {
		return nil, err
	}
	say("run    outage published: %d notices to plan and send (%d urgent)", res.Notices, res.UrgentNotices)
	lastSay, lastMove, lastFinished := time.Now(), time.Now(), 0
	for {
		s := obs.snapshot()
		if s.finished >= res.Notices {
			break
		}
		if s.finished != lastFinished {
			lastMove, lastFinished = time.Now(), s.finished
		} else if time.Since(lastMove) > stallAfter {
			return nil, fmt.Errorf("run: stalled at %d of %d notices with an outcome (%d planned)", s.finished, res.Notices, s.planned)
		}
		if time.Since(lastSay) >= 2*time.Second {
			lastSay = time.Now()
			say("run    %d planned, %d with an outcome (%d manual)", s.planned, s.finished, s.manual)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return nil, err
		}
	}
	res.CPU.Run = cpuSince(cpu)
	res.Memory.RunPeakRSS = statusKB("VmHWM") << 10
	if err := stopProfile(); err != nil {
		return nil, err
	}
	s := obs.snapshot()
	// The audit view catches up, and confirms nothing was left pending.
	sum, err := app.WaitForOutcomes(ctx, w.DB, ev, nil)
	if err != nil {
		return nil, err
	}
	if err := stop(); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	res.Planning.Seconds = s.lastPlanned.Sub(t0).Seconds()
	res.Planning.FirstChunkSeconds = s.firstPlanned.Sub(t0).Seconds()
	res.Delivery = Delivery{Delivered: sum.Delivered, Manual: sum.Manual, Pending: sum.Pending,
		FailedAttempts: s.failedAttempts, Seconds: s.lastFinished.Sub(t0).Seconds()}
	accepted, source := obs.acceptances(), "worker"
	if sk != nil {
		var repeated int
		accepted, repeated = sk.acceptances()
		source = "sink"
		res.Delivery.Repeated = repeated
		if n := sk.noticeMsgs.Load(); n > 0 {
			res.Delivery.MeanMessageBytes = sk.noticeBytes.Load() / n
		}
	}
	res.Delivery.LatencySource = source
	res.Delivery.setLatencies(accepted, t0)
	if res.Delivery.LastAcceptedSeconds > 0 {
		res.Delivery.NoticesPerSecond = float64(len(accepted)) / res.Delivery.LastAcceptedSeconds
	}
	say("run    %d delivered, %d manual; first accepted after %.0f ms, last after %.1fs (%.0f notices/s)",
		sum.Delivered, sum.Manual, res.Delivery.FirstAcceptedMs, res.Delivery.LastAcceptedSeconds, res.Delivery.NoticesPerSecond)

	// The store's share of planning, without NATS or the dispatcher
	// competing for the processors.
	qs := time.Now()
	n, err := planOnly(ctx, w.DB, &outage)
	if err != nil {
		return nil, err
	}
	res.Planning.QuerySeconds = time.Since(qs).Seconds()
	if n != res.Notices {
		return nil, fmt.Errorf("planning again found %d notices, want %d", n, res.Notices)
	}

	// Baseline.
	if phasePeaks {
		resetPeak()
	}
	if stopProfile, err = profile(o.ProfileDir, "baseline"); err != nil {
		return nil, err
	}
	cpu = sampleCPU()
	res.Baseline, err = baseline(ctx, cfg, pad, set, &outage, res.Notices, o.Conns)
	res.CPU.Baseline = cpuSince(cpu)
	res.Memory.BaselinePeakRSS = statusKB("VmHWM") << 10
	if err != nil {
		return nil, err
	}
	if err := stopProfile(); err != nil {
		return nil, err
	}
	if sk != nil {
		if n := sk.baselineMsgs.Load(); n > 0 {
			res.Baseline.MeanMessageBytes = sk.baselineBytes.Load() / n
		}
	}
	if res.Baseline.MessagesPerSecond > 0 {
		res.Ratio = res.Delivery.NoticesPerSecond / res.Baseline.MessagesPerSecond
	}
	say("base   %d messages in %.1fs (%.0f/s): end to end is %.0f%% of it", res.Baseline.Messages,
		res.Baseline.Seconds, res.Baseline.MessagesPerSecond, 100*res.Ratio)

	res.Memory.PhasePeaks = phasePeaks
	res.Memory.PeakRSS = max(res.Memory.LoadPeakRSS, res.Memory.RunPeakRSS, res.Memory.BaselinePeakRSS)
	res.SQLite.DBBytes, res.SQLite.WALBytes = fileSize(w.DB.Path()), fileSize(w.DB.Path()+"-wal")
	res.TookSeconds = time.Since(began).Seconds()
	res.Targets = targets(res)
	return res, nil
}

// rows feeds a synthetic set to app.Import, as the CSV reader would a file,
// and notes each affected patient's earliest appointment.
type rows struct {
	records  *synth.Records
	outage   *notifier.Outage
	line     int
	affected int
	earliest map[string]time.Time
}

func (r *rows) Next() (importer.Row, error) {
	a, ok := r.records.Next()
	if !ok {
		return importer.Row{}, io.EOF
	}
	r.line++
	if err := a.Normalize(); err != nil {
		return importer.Row{Line: r.line, Err: err}, nil
	}
	if r.outage.Affects(&a) {
		r.affected++
		if e, ok := r.earliest[a.Patient.ID]; !ok || a.Start.Before(e) {
			r.earliest[a.Patient.ID] = a.Start
		}
	}
	return importer.Row{Line: r.line, Appointment: a}, nil
}

// urgent counts the notices the policy makes urgent at now.
func (r *rows) urgent(now time.Time, p notifier.Policy) int {
	n := 0
	for _, e := range r.earliest {
		if p.Urgent(e, now) {
			n++
		}
	}
	return n
}

// planOnly runs the planner's query and groups its rows into notices, as
// the planner does before it publishes them, and counts the notices.
func planOnly(ctx context.Context, db interface {
	Affected(context.Context, *notifier.Outage, func(notifier.AffectedAppointment) error) error
}, o *notifier.Outage) (int, error) {
	n := 0
	var patient string
	var ids []string
	finish := func() {
		if len(ids) > 0 {
			_ = notifier.NoticeID(o.OutageID, notifier.KindPostponed, patient, ids)
			n++
		}
		ids = ids[:0]
	}
	err := db.Affected(ctx, o, func(a notifier.AffectedAppointment) error {
		if a.Patient.ID != patient {
			finish()
			patient = a.Patient.ID
		}
		ids = append(ids, a.ID)
		return nil
	})
	finish()
	return n, err
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// blockRate samples goroutines blocked for about 10µs or more, so that
// the profile shows where a phase waits rather than computes.
const blockRate = 10_000

// profile starts the profiles of a phase when dir is set: CPU, and where
// goroutines blocked or waited for a lock. stop ends them and writes them
// with a heap profile.
func profile(dir, phase string) (stop func() error, err error) {
	if dir == "" {
		return func() error { return nil }, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := func(kind string) string { return filepath.Join(dir, phase+"."+kind+".pprof") }
	f, err := os.Create(path("cpu"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	runtime.SetBlockProfileRate(blockRate)
	runtime.SetMutexProfileFraction(100)
	return func() error {
		pprof.StopCPUProfile()
		errs := []error{f.Close()}
		for _, kind := range []string{"block", "mutex", "heap"} {
			errs = append(errs, writeProfile(kind, path(kind)))
		}
		runtime.SetBlockProfileRate(0)
		runtime.SetMutexProfileFraction(0)
		return errors.Join(errs...)
	}, nil
}

// writeProfile writes a named profile; the heap after a collection, so
// that it shows what is live.
func writeProfile(kind, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if kind == "heap" {
		runtime.GC()
	}
	return errors.Join(pprof.Lookup(kind).WriteTo(f, 0), f.Close())
}

func machine() Machine {
	return Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: cpuModel(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
}

// sortedSeconds returns the times after t0 in seconds, sorted.
func sortedSeconds(ts []time.Time, t0 time.Time) []float64 {
	out := make([]float64, len(ts))
	for i, t := range ts {
		out[i] = t.Sub(t0).Seconds()
	}
	slices.Sort(out)
	return out
}

// percentile is the p-th percentile (0 to 100) of sorted values, by the
// nearest rank.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
