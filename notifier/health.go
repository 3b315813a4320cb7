package notifier

import (
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Channel states on the status page.
const (
	ChannelUp          = "up"
	ChannelFailing     = "failing"
	ChannelBreakerOpen = "breaker open"
	ChannelRateLimited = "rate-limited"
)

// ChannelHealth is how a channel of the chain is doing.
type ChannelHealth struct {
	Name   string
	Medium Medium
	// State is ChannelUp, ChannelFailing, ChannelBreakerOpen or
	// ChannelRateLimited.
	State string
	// Breaker is the circuit breaker's state: closed, half-open or open.
	Breaker string
	// ConsecutiveFailures counts failures since the last success.
	ConsecutiveFailures uint32
	// LastFailure is when the channel last failed, and why.
	LastFailure       time.Time
	LastFailureReason string
}

// channelStats remembers what the status page shows of a channel beyond
// its breaker.
type channelStats struct {
	mu         sync.Mutex
	lastFail   time.Time
	lastReason string
	limitedAt  time.Time
}

func (s *channelStats) failed(at time.Time, reason string) {
	s.mu.Lock()
	s.lastFail, s.lastReason = at, reason
	s.mu.Unlock()
}

func (s *channelStats) limited(at time.Time) {
	s.mu.Lock()
	s.limitedAt = at
	s.mu.Unlock()
}

// Health reports every channel's state. A channel is rate-limited when a
// send waited for its limit in the last few seconds, failing when its last
// try failed.
func (c *Chain) Health() []ChannelHealth {
	now := c.Now()
	out := make([]ChannelHealth, len(c.links))
	for i, l := range c.links {
		h := ChannelHealth{Name: l.Sender.Name(), Medium: l.Sender.Medium(), State: ChannelUp, Breaker: gobreaker.StateClosed.String()}
		if l.Breaker != nil {
			h.Breaker = l.Breaker.State().String()
			h.ConsecutiveFailures = l.Breaker.Counts().ConsecutiveFailures
		}
		st := l.stats
		st.mu.Lock()
		h.LastFailure, h.LastFailureReason = st.lastFail, st.lastReason
		limited := now.Sub(st.limitedAt) < 5*time.Second
		st.mu.Unlock()
		switch {
		case h.Breaker == gobreaker.StateOpen.String():
			h.State = ChannelBreakerOpen
		case h.ConsecutiveFailures > 0:
			h.State = ChannelFailing
		case limited:
			h.State = ChannelRateLimited
		}
		out[i] = h
	}
	return out
}
