package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/bench/synth"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/notifier"
)

// poolSize is how many distinct messages the baseline renders beforehand
// and sends in turn: enough to vary names, languages and lengths like the
// notices, few enough to add nothing to the memory measured.
const poolSize = 1000

// poolNotice is a notice like those the planner makes: patient j of the
// synthetic set, with one appointment or two.
func poolNotice(fac notifier.Facility, o *notifier.Outage, j int, two bool, start time.Time) *notifier.Notice {
	p := synth.Patient(j)
	n := &notifier.Notice{
		ID: fmt.Sprintf("b-%032x", j), Kind: notifier.KindPostponed, OutageID: o.OutageID,
		Facility: fac.ID, FacilityName: fac.Name, FacilityShortName: fac.ShortName, TimeZone: fac.TimeZone,
		Country: fac.Country, Language: p.Language, Patient: p, Hotline: o.Hotline, InfoURL: o.InfoURL,
		PlannedAt: time.Now().UTC(),
		Appointments: []notifier.NoticeAppointment{{ID: fmt.Sprintf("A-%d", 2*j), Department: "cardiology",
			Location: fmt.Sprintf("Building %d, level %d", 1+j%17, j%5), Start: start, End: start.Add(30 * time.Minute)}},
	}
	if two {
		later := start.Add(26 * time.Hour)
		n.Appointments = append(n.Appointments, notifier.NoticeAppointment{ID: fmt.Sprintf("A-%d", 2*j+1),
			Department: "radiology", Location: "Building 5, level 1", Start: later, End: later.Add(30 * time.Minute)})
	}
	return n
}

// baseline sends as many messages as there were notices, cycling through
// poolSize messages rendered beforehand through the same padding, straight
// through the same SMTP channel with as many connections, into the same
// relay.
func (r *runner) baseline(ctx context.Context) error {
	end, err := r.measure("baseline")
	if err != nil {
		return err
	}
	res := r.res
	res.Baseline, err = sendDirect(ctx, r.cfg, r.pad, r.set, &r.outage, res.Notices, r.o.Conns)
	use, endErr := end()
	if err != nil {
		return err
	}
	if endErr != nil {
		return endErr
	}
	res.CPU.Baseline, res.Memory.BaselinePeakRSS, res.Memory.NATSBaselinePeakRSS = use.cpu, use.peak, use.natsPeak
	if r.sink != nil {
		if n := r.sink.baselineMsgs.Load(); n > 0 {
			res.Baseline.MeanMessageBytes = r.sink.baselineBytes.Load() / n
		}
	}
	if res.Baseline.MessagesPerSecond > 0 {
		res.Ratio = res.Delivery.NoticesPerSecond / res.Baseline.MessagesPerSecond
	}
	r.say("base   %d messages in %.1fs (%.0f/s): end to end is %.0f%% of it", res.Baseline.Messages,
		res.Baseline.Seconds, res.Baseline.MessagesPerSecond, 100*res.Ratio)
	return nil
}

// sendDirect sends count messages straight to the configured SMTP channel
// with conns sends in flight: up to poolSize distinct ones, rendered
// beforehand through r, in turn, each under a notice id of its own.
func sendDirect(ctx context.Context, cfg *config.Config, r notifier.Renderer, set *synth.Set, o *notifier.Outage, count, conns int) (Baseline, error) {
	chain, err := app.BuildChain(cfg)
	if err != nil {
		return Baseline{}, err
	}
	defer chain.Close()
	s := chain.Links()[0].Sender
	fac := cfg.FacilityMap()[facility]
	pool := make([]*notifier.Message, min(count, poolSize))
	withTwo := float64(set.Pairs()) / float64(set.Notices())
	for j := range pool {
		start := o.From.Add(time.Duration(9*60+5*(j%96)) * time.Minute).Add(time.Duration(j%7) * 24 * time.Hour)
		m, err := r.Render(poolNotice(fac, o, j, float64(j) < withTwo*float64(len(pool)), start))
		if err != nil {
			return Baseline{}, err
		}
		pool[j] = m
	}

	var (
		next     atomic.Int64
		failed   atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	began := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= count || ctx.Err() != nil {
					return
				}
				m := *pool[i%len(pool)]
				// As long as a notice id, as it appears in the
				// Message-ID and the MIME boundaries.
				m.NoticeID = fmt.Sprintf("b-%032x", i)
				if err := s.Send(ctx, &m); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	if err := ctx.Err(); err != nil {
		return Baseline{}, err
	}
	b := Baseline{Messages: count, Failed: int(failed.Load()), Seconds: took.Seconds(),
		MessagesPerSecond: float64(count-int(failed.Load())) / took.Seconds()}
	if firstErr != nil {
		b.FirstError = firstErr.Error()
	}
	return b, nil
}
