package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// stallAfter ends a run in which no notice was planned or got an outcome
// for so long.
const stallAfter = 2 * time.Minute

// declare publishes the outage and waits until every notice has an
// outcome; then it stops the worker.
func (r *runner) declare(ctx context.Context) error {
	res := r.res
	var err error
	if res.Planning.QueryPlan, err = r.w.DB.ExplainAffected(ctx, &r.outage); err != nil {
		return err
	}
	ev, err := app.BuildEvent(app.EventOptions{Facility: facility, From: r.outage.From, Until: r.outage.Until,
		Departments: r.outage.Departments, Kinds: r.outage.Kinds, Hotline: hotline, InfoURL: r.outage.InfoURL,
		OutageID: r.outage.OutageID, Source: "/notifier/bench"})
	if err != nil {
		return err
	}
	end, err := r.measure("run")
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := engine.PublishEvent(ctx, r.conn.JS, ev); err != nil {
		return err
	}
	r.say("run    outage published: %d notices to plan and send (%d urgent)", res.Notices, res.UrgentNotices)
	lastSay, lastMove, lastCount := t0, t0, 0
	for {
		s := r.obs.snapshot()
		if s.finished >= res.Notices {
			break
		}
		if count := s.planned + s.finished; count != lastCount {
			lastMove, lastCount = time.Now(), count
		} else if time.Since(lastMove) > stallAfter {
			return fmt.Errorf("run: stalled at %d of %d notices with an outcome (%d planned)", s.finished, res.Notices, s.planned)
		}
		if time.Since(lastSay) >= 2*time.Second {
			lastSay = time.Now()
			r.say("run    %d planned, %d with an outcome (%d manual); SQLite WAL %s", s.planned, s.finished, s.manual,
				mib(fileSize(r.w.DB.Path()+"-wal")))
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	use, err := end()
	if err != nil {
		return err
	}
	res.CPU.Run, res.Memory.RunPeakRSS, res.Memory.NATSRunPeakRSS = use.cpu, use.peak, use.natsPeak
	s := r.obs.snapshot()
	// The audit view catches up, and confirms nothing was left pending.
	sum, err := app.WaitForOutcomes(ctx, r.w.DB, ev, nil)
	if err != nil {
		return err
	}
	if err := r.stopWorker(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}

	res.Planning.Seconds = s.lastPlanned.Sub(t0).Seconds()
	res.Planning.FirstChunkSeconds = s.firstPlanned.Sub(t0).Seconds()
	d := &res.Delivery
	*d = Delivery{Delivered: sum.Delivered, Manual: sum.Manual, Pending: sum.Pending,
		FailedAttempts: s.failedAttempts, Seconds: s.lastFinished.Sub(t0).Seconds()}
	accepted := r.obs.acceptances()
	d.LatencySource = "worker"
	if r.sink != nil {
		accepted, d.Repeated = r.sink.acceptances()
		d.LatencySource = "sink"
		if n := r.sink.noticeMsgs.Load(); n > 0 {
			d.MeanMessageBytes = r.sink.noticeBytes.Load() / n
		}
	}
	d.setLatencies(accepted, t0)
	if d.LastAcceptedSeconds > 0 {
		d.NoticesPerSecond = float64(len(accepted)) / d.LastAcceptedSeconds
	}
	r.say("run    %d delivered, %d manual; first accepted after %.0f ms, last after %.1fs (%.0f notices/s)",
		sum.Delivered, sum.Manual, d.FirstAcceptedMs, d.LastAcceptedSeconds, d.NoticesPerSecond)
	return nil
}

// replan runs the planner's query and grouping again on the same file,
// alone: the store's share of planning, without NATS or the dispatcher
// competing for the processors.
func (r *runner) replan(ctx context.Context) error {
	began := time.Now()
	n, err := plan(ctx, r.w.DB, &r.outage)
	if err != nil {
		return err
	}
	r.res.Planning.QuerySeconds = time.Since(began).Seconds()
	if n != r.res.Notices {
		return fmt.Errorf("planning again found %d notices, want %d", n, r.res.Notices)
	}
	return nil
}

// plan groups the affected appointments into notices as the planner does
// before it publishes them, deriving each one's id, and counts them.
func plan(ctx context.Context, db *store.DB, o *notifier.Outage) (int, error) {
	n := 0
	g := notifier.Grouper{Outage: o, Kind: notifier.KindPostponed}
	add, flush := g.Each(func(*notifier.Notice) error { n++; return nil })
	if err := db.Affected(ctx, o, add); err != nil {
		return n, err
	}
	return n, flush()
}
