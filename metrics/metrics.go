// Package metrics counts what the worker does for Prometheus: messages
// consumed and refused, notices planned and finished, sends and their
// latency, rate-limit waits, the replica's lag and each channel's circuit
// breaker. Labels only ever hold stream, channel, kind, outcome, result and
// class names, never patient data.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/postponement/notifier/notifier"
)

// Metrics is a notifier.Observer that keeps Prometheus metrics on its own
// registry, with the Go runtime's and the process's metrics beside them.
// Its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	consumed        *prometheus.CounterVec
	rejected        *prometheus.CounterVec
	planned         *prometheus.CounterVec
	finished        *prometheus.CounterVec
	attempts        *prometheus.CounterVec
	sendSeconds     *prometheus.HistogramVec
	outcomeSeconds  *prometheus.HistogramVec
	rateLimitWaits  *prometheus.CounterVec
	rateLimitWaited *prometheus.CounterVec
	replicaLag      prometheus.Gauge
}

var _ notifier.Observer = (*Metrics)(nil)

// sendBuckets bound one send: a relay answers in milliseconds, a slow one
// in seconds, a hanging one at its timeout.
var sendBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// outcomeBuckets bound the time from planning to outcome: seconds when the
// first channel works, the urgent deadline (15 minutes by default) when none
// does, hours when a large outage waits behind a rate limit.
var outcomeBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200}

// New returns metrics registered on a new registry. health, when not nil,
// is called at every scrape for the channels' circuit breakers (the chain's
// Health method).
func New(health func() []notifier.ChannelHealth) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifier_messages_consumed_total",
			Help: "Messages accepted from a stream (appointment records, outage events).",
		}, []string{"stream"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifier_messages_rejected_total",
			Help: "Messages of a stream refused as malformed; each is recorded with its reason.",
		}, []string{"stream"}),
		planned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifier_notices_planned_total",
			Help: "Notices planned, by kind (postponed, cancelled, reinstated, resumed).",
		}, []string{"kind"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifier_notices_finished_total",
			Help: "Notices with an outcome (delivered, manual), by the channel that accepted them.",
		}, []string{"outcome", "channel"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifier_send_attempts_total",
			Help: "Sends tried on a channel, by result (accepted, failed, skipped) and failure class.",
		}, []string{"channel", "result", "class"}),
		sendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "notifier_send_duration_seconds",
			Help:    "Time one send on a channel took, accepted or failed (skipped sends are not timed).",
			Buckets: sendBuckets,
		}, []string{"channel"}),
		outcomeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "notifier_notice_outcome_seconds",
			Help:    "Time from planning a notice to its outcome.",
			Buckets: outcomeBuckets,
		}, []string{"outcome"}),
		rateLimitWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifier_rate_limit_waits_total",
			Help: "Sends that waited for a channel's rate limit.",
		}, []string{"channel"}),
		rateLimitWaited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifier_rate_limit_wait_seconds_total",
			Help: "Time sends spent waiting for a channel's rate limit.",
		}, []string{"channel"}),
		replicaLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "notifier_replica_lag_records",
			Help: "Appointment records on the stream the replica has not applied yet.",
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.consumed, m.rejected, m.planned, m.finished, m.attempts,
		m.sendSeconds, m.outcomeSeconds, m.rateLimitWaits, m.rateLimitWaited, m.replicaLag,
	)
	if health != nil {
		m.reg.MustRegister(channelCollector{health: health})
	}
	return m
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Consumed counts a message of stream that was accepted.
func (m *Metrics) Consumed(stream string) { m.consumed.WithLabelValues(stream).Inc() }

// Rejected counts a message of stream that was refused.
func (m *Metrics) Rejected(stream string) { m.rejected.WithLabelValues(stream).Inc() }

// Planned counts n notices of a kind.
func (m *Metrics) Planned(kind string, n int) {
	if n > 0 {
		m.planned.WithLabelValues(kind).Add(float64(n))
	}
}

// Attempted counts a send and times it unless it was skipped: a skipped
// send took no time and would drag the latency down.
func (m *Metrics) Attempted(channel, result, class string, took time.Duration) {
	m.attempts.WithLabelValues(channel, result, class).Inc()
	if result != notifier.ResultSkipped {
		m.sendSeconds.WithLabelValues(channel).Observe(took.Seconds())
	}
}

// Finished counts a notice's outcome and times it from planning.
func (m *Metrics) Finished(outcome, channel string, sincePlanned time.Duration) {
	m.finished.WithLabelValues(outcome, channel).Inc()
	m.outcomeSeconds.WithLabelValues(outcome).Observe(max(sincePlanned, 0).Seconds())
}

// RateLimited counts a wait for a channel's rate limit.
func (m *Metrics) RateLimited(channel string, waited time.Duration) {
	m.rateLimitWaits.WithLabelValues(channel).Inc()
	m.rateLimitWaited.WithLabelValues(channel).Add(max(waited, 0).Seconds())
}

// ReplicaLag sets the replica's lag.
func (m *Metrics) ReplicaLag(records uint64) { m.replicaLag.Set(float64(records)) }
