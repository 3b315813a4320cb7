package notifier

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Retry is a channel's budget for transient failures: up to Attempts tries,
// waiting a random time up to Backoff·2ⁿ (at most MaxBackoff) between them
// ("full jitter"), and no new try once Budget has passed since the first.
type Retry struct {
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
	Budget     time.Duration
}

// DefaultRetry is a brief retry: a relay that is down should not hold a
// patient's notice for long when another channel may work.
var DefaultRetry = Retry{Attempts: 3, Backoff: 250 * time.Millisecond, MaxBackoff: 2 * time.Second, Budget: 30 * time.Second}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = DefaultRetry.Attempts
	}
	if r.Backoff <= 0 {
		r.Backoff = DefaultRetry.Backoff
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = max(DefaultRetry.MaxBackoff, r.Backoff)
	}
	if r.Budget <= 0 {
		r.Budget = DefaultRetry.Budget
	}
	return r
}

// delay is the full-jitter wait before try n+1 (n counts from 1).
func (r Retry) delay(n int) time.Duration {
	ceiling := r.Backoff << min(n-1, 20)
	if ceiling <= 0 || ceiling > r.MaxBackoff {
		ceiling = r.MaxBackoff
	}
	return rand.N(ceiling) + 1
}

// Link is one channel of the chain with its retry budget.
type Link struct {
	Sender Sender
	Retry  Retry
}

// Chain tries its channels in order until one accepts a message.
type Chain struct {
	links []Link
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// NewChain returns a chain over links, tried in the order given.
func NewChain(links ...Link) *Chain {
	for i := range links {
		links[i].Retry = links[i].Retry.withDefaults()
	}
	return &Chain{links: links, Now: time.Now}
}

// Links returns the chain's channels in order.
func (c *Chain) Links() []Link { return c.links }

// Result is what the chain did with one message.
type Result struct {
	// Channel is the channel that accepted the message, empty if none did.
	Channel string
	Trail   []Attempt
}

// Outcome is OutcomeDelivered when a channel accepted the message, else
// OutcomeManual.
func (r *Result) Outcome() string {
	if r.Channel != "" {
		return OutcomeDelivered
	}
	return OutcomeManual
}

// Tries counts the sends actually made (skipped channels do not count).
func (r *Result) Tries() int {
	n := 0
	for _, a := range r.Trail {
		if a.Result != ResultSkipped {
			n++
		}
	}
	return n
}

// Deliver walks the chain. Transient failures are retried within the
// channel's budget, then the next channel is tried; a permanent failure moves
// on at once; a bad address rules out every later channel of the same medium.
// Deliver returns an error only when ctx ends before an outcome: the notice
// must then be retried, not recorded as manual.
func (c *Chain) Deliver(ctx context.Context, m *Message) (*Result, error) {
	res := &Result{}
	badMedium := map[Medium]string{}
	for _, l := range c.links {
		name, medium := l.Sender.Name(), l.Sender.Medium()
		if reason := c.unusable(m, medium, badMedium); reason != "" {
			res.Trail = append(res.Trail, Attempt{Channel: name, At: c.Now(), Result: ResultSkipped, Reason: reason})
			continue
		}
		ok, err := c.try(ctx, l, m, res)
		if ok {
			res.Channel = name
			return res, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return res, ctxErr
		}
		if ClassOf(err) == BadAddress {
			badMedium[medium] = name
		}
	}
	return res, nil
}

// unusable says why a channel of the given medium cannot take the message,
// or "" if it can.
func (c *Chain) unusable(m *Message, medium Medium, bad map[Medium]string) string {
	switch {
	case medium == MediumEmail && m.To.Email == "":
		return "patient has no e-mail address"
	case medium == MediumSMS && m.To.Phone == "":
		return "patient has no phone number"
	case bad[medium] != "":
		return "address refused as bad by " + bad[medium]
	}
	return ""
}

// try sends on one channel within its retry budget. It reports whether the
// channel accepted the message and, if not, the last error.
func (c *Chain) try(ctx context.Context, l Link, m *Message, res *Result) (bool, error) {
	start := c.Now()
	var err error
	for n := 1; ; n++ {
		err = l.Sender.Send(ctx, m)
		a := Attempt{Channel: l.Sender.Name(), At: c.Now(), Result: ResultAccepted}
		if err == nil {
			res.Trail = append(res.Trail, a)
			return true, nil
		}
		a.Result, a.Class, a.Reason = ResultFailed, ClassOf(err).String(), err.Error()
		var se *SendError
		if errors.As(err, &se) {
			a.Code, a.Enhanced = se.Code, se.Enhanced
		}
		res.Trail = append(res.Trail, a)
		if ClassOf(err) != Transient || n >= l.Retry.Attempts || ctx.Err() != nil {
			return false, err
		}
		wait := l.Retry.delay(n)
		if se != nil && se.RetryAfter > wait {
			wait = se.RetryAfter
		}
		if c.Now().Add(wait).Sub(start) > l.Retry.Budget {
			return false, err
		}
		select {
		case <-ctx.Done():
			return false, err
		case <-time.After(wait):
		}
	}
}
