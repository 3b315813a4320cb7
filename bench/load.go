package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/bench/synth"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/notifier"
)

// load imports the synthetic appointments as `notifier import` does and
// waits until the worker's replica has applied every one.
func (r *runner) load(ctx context.Context) error {
	end, err := r.measure("load")
	if err != nil {
		return err
	}
	rows := &rows{records: r.set.Records(), outage: &r.outage, earliest: map[string]time.Time{}}
	began := time.Now()
	lastSay := began
	imp, err := app.Import(ctx, r.conn.JS, rows, func(line int, err error) {
		r.say("record %d rejected: %v", line, err)
	}, func(res app.ImportResult) {
		if time.Since(lastSay) >= 2*time.Second {
			lastSay = time.Now()
			r.say("load   %d/%d published, %d applied by the replica", res.Accepted, r.o.Appointments, r.w.ReplicaApplied())
		}
	})
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if imp.Rejected > 0 || imp.Accepted != r.o.Appointments || rows.affected != r.o.Affected {
		return fmt.Errorf("load: %d accepted, %d rejected, %d affected; want %d, 0, %d",
			imp.Accepted, imp.Rejected, rows.affected, r.o.Appointments, r.o.Affected)
	}
	published := time.Since(began)
	stream, err := r.conn.JS.Stream(ctx, engine.StreamAppointments)
	if err != nil {
		return err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return err
	}
	for r.w.ReplicaApplied() < info.State.LastSeq {
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
		if time.Since(lastSay) >= 2*time.Second {
			lastSay = time.Now()
			r.say("load   all published, %d/%d applied by the replica", r.w.ReplicaApplied(), info.State.LastSeq)
		}
	}
	took := time.Since(began)
	res := r.res
	use, err := end()
	if err != nil {
		return err
	}
	res.CPU.Load, res.Memory.LoadPeakRSS, res.Memory.NATSLoadPeakRSS = use.cpu, use.peak, use.natsPeak
	res.Load = Load{Appointments: imp.Accepted, PublishSeconds: published.Seconds(), Seconds: took.Seconds(),
		PerSecond: float64(imp.Accepted) / took.Seconds()}
	res.SQLite.LoadedDBBytes, res.SQLite.LoadedWALBytes = fileSize(r.w.DB.Path()), fileSize(r.w.DB.Path()+"-wal")
	// Counted now, as the outage is about to be published: urgency
	// depends on the time.
	res.UrgentNotices = rows.urgent(time.Now(), r.cfg.Policy())
	r.say("load   %d appointments in %.1fs (%.0f/s; published in %.1fs)", imp.Accepted, took.Seconds(), res.Load.PerSecond, published.Seconds())
	return nil
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
