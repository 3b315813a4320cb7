package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/postponement/notifier/notifier"
)

// Breaker states as the breaker gauge reports them: the higher, the worse.
const (
	BreakerClosed   = 0
	BreakerHalfOpen = 1
	BreakerOpen     = 2
)

var (
	breakerDesc = prometheus.NewDesc("notifier_channel_breaker_state",
		"A channel's circuit breaker: 0 closed (in use), 1 half-open (probing), 2 open (skipped).",
		[]string{"channel"}, nil)
	failuresDesc = prometheus.NewDesc("notifier_channel_consecutive_failures",
		"Failures of a channel since its last success.",
		[]string{"channel"}, nil)
)

// channelCollector reads the channels' health at scrape time, so the
// breaker gauge is never stale and the chain needs no hook for it.
type channelCollector struct {
	health func() []notifier.ChannelHealth
}

// Describe sends the descriptions of the channel metrics.
func (c channelCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerDesc
	ch <- failuresDesc
}

// Collect sends each channel's breaker state and failure count.
func (c channelCollector) Collect(ch chan<- prometheus.Metric) {
	for _, h := range c.health() {
		if state, ok := breakerValue(h.Breaker); ok {
			ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, state, h.Name)
		}
		ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.GaugeValue, float64(h.ConsecutiveFailures), h.Name)
	}
}

// breakerValue maps gobreaker's state names to the gauge's values.
func breakerValue(state string) (float64, bool) {
	switch state {
	case "closed":
		return BreakerClosed, true
	case "half-open":
		return BreakerHalfOpen, true
	case "open":
		return BreakerOpen, true
	}
	return 0, false
}
