package metrics

import (
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var outageNoticesDesc = prometheus.NewDesc("notifier_outage_notices",
	"An outage's notices by state: planned, delivered, manual (on the call list), pending, confirmed (by the patient), "+
		"failed_after_acceptance (bounced or SMS not delivered, then sent on), and the call list's states.",
	[]string{"outage", "facility", "state"}, nil)

var soonestUnreachedDesc = prometheus.NewDesc("notifier_outage_soonest_unreached_appointment_timestamp_seconds",
	"The start (Unix time) of the soonest appointment of a patient of the outage not yet reached: "+
		"who neither confirmed the notice nor was reached by phone. Absent when there is none.",
	[]string{"outage", "facility"}, nil)

// OutageFigures are one outage's notice counts by state, as the status page
// shows them, and the soonest appointment of a patient not yet reached
// (zero when there is none).
type OutageFigures struct {
	ID, Facility     string
	Counts           map[string]int
	SoonestUnreached time.Time
}

// outageCollector reads the outages' figures from the store at scrape
// time, so that every worker of a cluster reports the same.
type outageCollector struct {
	figures func() []OutageFigures
}

func (c outageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outageNoticesDesc
	ch <- soonestUnreachedDesc
}

func (c outageCollector) Collect(ch chan<- prometheus.Metric) {
	for _, o := range c.figures() {
		for _, state := range slices.Sorted(maps.Keys(o.Counts)) {
			ch <- prometheus.MustNewConstMetric(outageNoticesDesc, prometheus.GaugeValue, float64(o.Counts[state]), o.ID, o.Facility, state)
		}
		if !o.SoonestUnreached.IsZero() {
			ch <- prometheus.MustNewConstMetric(soonestUnreachedDesc, prometheus.GaugeValue, float64(o.SoonestUnreached.Unix()), o.ID, o.Facility)
		}
	}
}

// Outages reports the outages' figures that fn reads at every scrape.
func (m *Metrics) Outages(fn func() []OutageFigures) {
	m.reg.MustRegister(outageCollector{figures: fn})
}

var viewAppliedDesc = prometheus.NewDesc("notifier_view_applied_sequence",
	"Stream sequence of the last message this worker's store has applied, by stream: records and outcomes up to it are in the store.",
	[]string{"stream"}, nil)

// viewCollector reads the views' positions at scrape time.
type viewCollector struct{ applied func() map[string]uint64 }

func (c viewCollector) Describe(ch chan<- *prometheus.Desc) { ch <- viewAppliedDesc }

func (c viewCollector) Collect(ch chan<- prometheus.Metric) {
	applied := c.applied()
	for _, stream := range slices.Sorted(maps.Keys(applied)) {
		ch <- prometheus.MustNewConstMetric(viewAppliedDesc, prometheus.GaugeValue, float64(applied[stream]), stream)
	}
}

// Views reports how far the store's views have applied their streams, as
// fn reads it at every scrape.
func (m *Metrics) Views(fn func() map[string]uint64) {
	m.reg.MustRegister(viewCollector{applied: fn})
}
