package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/bench/synth"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/natsd"
	"github.com/postponement/notifier/notifier"
)

const (
	facility = "ukd"
	hotline  = "+49 211 81-04444"
	sender   = "UKD <noreply@ukd.example.org>"
)

// runner is one run: the worker and everything it talks to, and what has
// been measured so far.
type runner struct {
	o      Options
	began  time.Time
	res    *Result
	cfg    *config.Config
	set    *synth.Set
	outage notifier.Outage
	conn   *app.Conn
	sink   *sink // nil when sending to Options.SMTP
	w      *app.Worker
	obs    *observer
	pad    *padded
	// stopWorker stops the worker and waits for it; later calls do nothing.
	stopWorker func() error
	// closers undo start, last first.
	closers []func()
	// phasePeaks is whether the peak RSS can be reset between phases.
	phasePeaks bool
}

// start builds the world of a run and starts the worker in it.
func start(ctx context.Context, o Options) (r *runner, err error) {
	r = &runner{o: o, began: time.Now(), obs: &observer{}, cfg: config.Default()}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	fac := r.cfg.FacilityMap()[facility]
	loc, err := fac.Location()
	if err != nil {
		return nil, err
	}
	// The outage starts at the next midnight and lasts a week, as one
	// declared this evening would: its first day or two are urgent.
	now := time.Now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	r.set, err = synth.New(synth.Options{Appointments: o.Appointments, Affected: o.Affected,
		PatientsWithTwo: o.PatientsWithTwo, Seed: o.Seed, Facility: facility, From: from})
	if err != nil {
		return nil, err
	}
	r.outage = r.set.Outage(fmt.Sprintf("bench-%d", o.Seed), hotline)

	if r.o.Dir == "" {
		if r.o.Dir, err = os.MkdirTemp("", "notifier-bench-"); err != nil {
			return nil, err
		}
		r.closers = append(r.closers, func() { os.RemoveAll(r.o.Dir) })
	} else if err := os.MkdirAll(r.o.Dir, 0o700); err != nil {
		return nil, err
	}
	if r.o.Log == nil {
		f, err := os.Create(filepath.Join(r.o.Dir, "worker.log"))
		if err != nil {
			return nil, err
		}
		r.closers = append(r.closers, func() { f.Close() })
		r.o.Log = f
	}
	log := app.NewLogger(config.Log{Level: "info"}, r.o.Log)

	srv, err := natsd.Start(natsd.Options{Port: -1, StoreDir: filepath.Join(r.o.Dir, "nats")})
	if err != nil {
		return nil, err
	}
	if r.conn, err = app.Connect(srv.ClientURL(), log); err != nil {
		srv.Shutdown()
		return nil, err
	}
	r.conn.Server = srv
	r.closers = append(r.closers, r.conn.Close)

	addr := o.SMTP
	if addr == "" {
		if r.sink, err = startSink(); err != nil {
			return nil, err
		}
		r.closers = append(r.closers, func() { r.sink.Close() })
		addr = r.sink.Addr()
	}
	r.res = &Result{
		Machine: machine(),
		Options: ResultOptions{Appointments: o.Appointments, Affected: o.Affected, PatientsWithTwo: o.PatientsWithTwo,
			SMTP: o.SMTP, TLS: tlsMode(addr), Conns: o.Conns, Parallel: o.Parallel, SizeBytes: o.Size, Seed: o.Seed},
		Notices: r.set.Notices(),
	}

	r.cfg.DataDir = r.o.Dir
	r.cfg.Channels = []config.Channel{{Name: "relay", Type: config.TypeSMTP, Addr: addr, TLS: tlsMode(addr), From: sender, MaxConns: o.Conns}}
	r.cfg.Dispatch.Parallel = o.Parallel
	r.cfg.Dispatch.ShutdownGrace = 5 * time.Second
	if r.w, err = app.NewWorker(r.cfg, r.conn.JS, log); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, func() { r.w.Close() })
	r.w.Observer = r.obs
	if r.pad, err = newPadding(r.w.Renderer, o.Size); err != nil {
		return nil, err
	}
	r.w.Renderer = r.pad

	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.w.Run(wctx) }()
	stopped := false
	r.stopWorker = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	r.closers = append(r.closers, func() { r.stopWorker() })
	select {
	case <-r.w.Ready():
	case err := <-done:
		stopped = true
		return nil, err
	}
	r.say("worker ready; data in %s; sending to %s (tls %s, %d connections, %d notices at once)",
		r.o.Dir, addr, tlsMode(addr), o.Conns, o.Parallel)
	r.phasePeaks = resetPeak()
	return r, nil
}

// close stops the worker and undoes start.
func (r *runner) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

// say writes a progress line.
func (r *runner) say(format string, args ...any) {
	fmt.Fprintf(r.o.Progress, "%7.1fs  "+format+"\n", append([]any{time.Since(r.began).Seconds()}, args...)...)
}

// measure starts measuring a phase: its processor use, peak RSS and,
// when asked, its profiles. end stops and reports them.
func (r *runner) measure(phase string) (end func() (CPU, int64, error), err error) {
	if r.phasePeaks {
		resetPeak()
	}
	stopProfile, err := profile(r.o.ProfileDir, phase)
	if err != nil {
		return nil, err
	}
	cpu := sampleCPU()
	return func() (CPU, int64, error) {
		use, peak := cpuSince(cpu), statusKB("VmHWM")<<10
		return use, peak, stopProfile()
	}, nil
}

// finish completes the result.
func (r *runner) finish() *Result {
	res := r.res
	m := &res.Memory
	m.PhasePeaks = r.phasePeaks
	m.PeakRSS = max(m.LoadPeakRSS, m.RunPeakRSS, m.BaselinePeakRSS)
	res.SQLite.DBBytes, res.SQLite.WALBytes = fileSize(r.w.DB.Path()), fileSize(r.w.DB.Path()+"-wal")
	res.TookSeconds = time.Since(r.began).Seconds()
	res.Targets = targets(res)
	return res
}
