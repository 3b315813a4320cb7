package bench

import (
	"context"
	"errors"
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
	// natsPID is the NATS server's process when it runs apart, else 0;
	// natsErr is what stopping it reported.
	natsPID int
	natsErr error
}

// start builds the world of a run and starts the worker in it.
func start(ctx context.Context, o Options) (_ *runner, err error) {
	// Not the named result: "return nil, err" sets that to nil before the
	// deferred close runs.
	r := &runner{o: o, began: time.Now(), obs: &observer{}, cfg: config.Default()}
	defer func() {
		if err != nil {
			err = errors.Join(err, r.close())
		}
	}()
	if r.set, r.outage, err = newSet(o, r.cfg); err != nil {
		return nil, err
	}

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

	storeDir := filepath.Join(r.o.Dir, "nats")
	if o.StartNATS == nil {
		srv, err := natsd.Start(natsd.Options{Port: -1, StoreDir: storeDir})
		if err != nil {
			return nil, err
		}
		if r.conn, err = app.Connect(srv.ClientURL(), log); err != nil {
			srv.Shutdown()
			return nil, err
		}
		r.conn.Server = srv
	} else {
		url, pid, stop, err := o.StartNATS(ctx, storeDir)
		if err != nil {
			return nil, fmt.Errorf("start the NATS server: %w", err)
		}
		// Stopped after the worker's connection is closed, and before the
		// folder holding its store is removed.
		r.closers = append(r.closers, func() {
			if err := stop(); err != nil {
				r.natsErr = fmt.Errorf("NATS server (pid %d): %w", pid, err)
			}
		})
		r.natsPID = pid
		r.say("NATS server started in its own process (pid %d) at %s", pid, url)
		if r.conn, err = app.Connect(url, log); err != nil {
			return nil, err
		}
	}
	r.closers = append(r.closers, r.conn.Close)

	addr := o.SMTP
	if addr == "" {
		if r.sink, err = startSink(o.RelayLatency); err != nil {
			return nil, err
		}
		r.closers = append(r.closers, func() { r.sink.Close() })
		addr = r.sink.Addr()
	}
	r.res = &Result{
		Machine: machine(),
		Options: ResultOptions{Appointments: o.Appointments, Affected: o.Affected, PatientsWithTwo: o.PatientsWithTwo,
			SMTP: o.SMTP, RelayLatencyMs: float64(o.RelayLatency) / float64(time.Millisecond), TLS: tlsMode(addr), Conns: o.Conns, Parallel: o.Parallel, SizeBytes: o.Size, Seed: o.Seed,
			NATSInProcess: o.StartNATS == nil},
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
	r.phasePeaks = r.resetPeaks()
	return r, nil
}

// close stops the worker and undoes start. Its error is what stopping the
// NATS server reported, when it runs in its own process.
func (r *runner) close() error {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
	return r.natsErr
}

// resetPeaks starts a new peak RSS of this process and of the NATS
// server's; it reports whether it could for both.
func (r *runner) resetPeaks() bool {
	ok := resetPeak(0)
	if r.natsPID != 0 {
		ok = resetPeak(r.natsPID) && ok
	}
	return ok
}

// say writes a progress line.
func (r *runner) say(format string, args ...any) {
	fmt.Fprintf(r.o.Progress, "%7.1fs  "+format+"\n", append([]any{time.Since(r.began).Seconds()}, args...)...)
}

// usage is what a phase used: processor time, and the peak RSS of the
// worker's process and of the NATS server's (0 when it runs in the
// worker's).
type usage struct {
	cpu            CPU
	peak, natsPeak int64
}

// measure starts measuring a phase: its processor use, peak RSS and,
// when asked, its profiles. end stops and reports them.
func (r *runner) measure(phase string) (end func() (usage, error), err error) {
	if r.phasePeaks {
		r.resetPeaks()
	}
	stopProfile, err := profile(r.o.ProfileDir, phase)
	if err != nil {
		return nil, err
	}
	cpu := sampleCPU(r.natsPID)
	return func() (usage, error) {
		u := usage{cpu: cpuSince(cpu, r.natsPID), peak: statusKB(0, "VmHWM") << 10}
		if r.natsPID != 0 {
			u.natsPeak = statusKB(r.natsPID, "VmHWM") << 10
		}
		return u, stopProfile()
	}, nil
}

// finish completes the result.
func (r *runner) finish() *Result {
	res := r.res
	m := &res.Memory
	m.PhasePeaks = r.phasePeaks
	m.PeakRSS = max(m.LoadPeakRSS, m.RunPeakRSS, m.BaselinePeakRSS)
	m.NATSPeakRSS = max(m.NATSLoadPeakRSS, m.NATSRunPeakRSS, m.NATSBaselinePeakRSS)
	res.SQLite.DBBytes, res.SQLite.WALBytes = fileSize(r.w.DB.Path()), fileSize(r.w.DB.Path()+"-wal")
	res.TookSeconds = time.Since(r.began).Seconds()
	res.Targets = targets(res)
	return res
}
