// Package bench measures the notifier end to end on synthetic data, for
// capacity planning and as the project's yardstick.
//
// Run generates a seeded set of appointments (package synth), publishes them
// to appointments.<facility>.<id> as an import does, waits until the worker's
// replica has applied them, publishes one outage and runs the real worker
// (NATS JetStream, SQLite, the SMTP channel) until every notice has an
// outcome. The NATS server runs inside the worker's process, or, with
// Options.StartNATS, in a process of its own as in production; then the
// peak RSS and processor use of each are measured apart.
//
// In the worker's process it then measures the baseline: as many messages of
// the same size handed straight to the same SMTP channel with as many
// connections, into the same relay. They are rendered beforehand, but only
// 1,000 distinct ones (fewer for fewer notices), sent in turn, each with its
// own notice id in its Message-ID and MIME boundaries, and composed by the
// channel as it sends, as the worker's notices are: the baseline holds as
// little in memory however many messages it sends.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/postponement/notifier/config"
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
	// RelayLatency is how long the in-process relay takes to accept each
	// message, as a real relay that stores it before it answers (a few
	// milliseconds); 0 answers at once.
	RelayLatency time.Duration
	// Conns is how many SMTP connections, and so sends, are in flight.
	Conns int
	// Parallel is how many notices the worker handles at once (its
	// dispatch.parallel, per priority); default the worker's default or
	// Conns, whichever is larger.
	Parallel int
	// Size is the size of a composed message in bytes: smaller messages are
	// padded up to it; 0 sends them as rendered.
	Size int
	// Seed picks the synthetic appointments.
	Seed uint64
	// Dir holds NATS, SQLite and the worker's log, and is kept; empty uses
	// a temporary folder that is removed afterwards.
	Dir string
	// Progress, when set, receives a line now and then.
	Progress io.Writer
	// Log, when set, receives the worker's log; else it goes to worker.log
	// in Dir, so that its cost is part of the figures as in production.
	Log io.Writer
	// ProfileDir, when set, receives profiles of each phase (load, run,
	// baseline): CPU, heap at its end, and where goroutines blocked and
	// waited for locks (cumulative from the first phase: compare with
	// pprof's -diff_base). They are of this process only.
	ProfileDir string
	// StartNATS, when set, starts the NATS server in a process of its own,
	// as NATS runs in production, storing its streams in storeDir (which
	// is inside Dir). It returns the URL to connect to, the process's id,
	// whose peak RSS and processor time are measured apart from the
	// worker's, and stop, which stops the process and waits for it; stop
	// is called once, after the worker has disconnected. ctx is the run's:
	// once StartNATS returns, the process is stopped by stop alone. Nil
	// runs the NATS server inside this process, with the worker.
	StartNATS func(ctx context.Context, storeDir string) (url string, pid int, stop func() error, err error)
}

// Run runs the benchmark: load, outage, baseline. When the NATS server ran
// in its own process and did not stop cleanly, Run returns the figures
// with that error.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	r, err := start(ctx, o)
	if err != nil {
		return nil, err
	}
	for _, phase := range []func(context.Context) error{r.load, r.declare, r.replan, r.baseline} {
		if err := phase(ctx); err != nil {
			// What became of the NATS server may explain it.
			return nil, errors.Join(err, r.close())
		}
	}
	res := r.finish()
	return res, r.close()
}

func (o *Options) normalize() error {
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
		o.Parallel = max(config.DefaultParallel, o.Conns)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.SMTP != "" {
		if _, _, err := net.SplitHostPort(o.SMTP); err != nil {
			return fmt.Errorf("smtp %q: want host:port", o.SMTP)
		}
	}
	return nil
}

// tlsMode is how the worker talks to the relay at addr: in plain text on
// this machine only, else with STARTTLS, as the SMTP channel requires.
func tlsMode(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return "none"
	}
	return "starttls"
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
