package notifier

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"
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

// Link is one channel of the chain with its policy.
type Link struct {
	Sender Sender
	Retry  Retry
	// Limit, when set, paces sends on this channel so that a relay's or
	// gateway's rate limit is respected without errors.
	Limit *rate.Limiter
	// Breaker, when set, skips the channel at once while it is failing
	// and probes it again later (see NewBreaker).
	Breaker *gobreaker.CircuitBreaker[struct{}]

	// stats is what the status page shows of the channel beyond its
	// breaker; NewChain sets it, and copies of the link share it.
	stats *channelStats
}

// Circuit breaker defaults: open after this many failures in a row, for
// this long.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerOpenFor  = 30 * time.Second
)

// NewBreaker returns a circuit breaker for a channel: it opens after
// failures consecutive failures, stays open for openFor, then lets one probe
// through. A bad address is the recipient's fault, not the channel's, and
// counts as a success.
func NewBreaker(name string, failures int, openFor time.Duration) *gobreaker.CircuitBreaker[struct{}] {
	if failures <= 0 {
		failures = DefaultBreakerFailures
	}
	return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:    name,
		Timeout: openFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= uint32(failures)
		},
		IsSuccessful: func(err error) bool { return err == nil || ClassOf(err) == BadAddress },
		IsExcluded:   func(err error) bool { return errors.Is(err, context.Canceled) },
	})
}

// Policy is when a notice is urgent and how urgency changes its delivery.
type Policy struct {
	// UrgentWithin: a notice whose earliest appointment starts within this
	// time is urgent (default 48h).
	UrgentWithin time.Duration
	// UrgentDeadline: an urgent notice no channel accepted within this time
	// goes to the call list (default 15m).
	UrgentDeadline time.Duration
}

// Default policy values.
const (
	DefaultUrgentWithin   = 48 * time.Hour
	DefaultUrgentDeadline = 15 * time.Minute
)

func (p Policy) withDefaults() Policy {
	if p.UrgentWithin <= 0 {
		p.UrgentWithin = DefaultUrgentWithin
	}
	if p.UrgentDeadline <= 0 {
		p.UrgentDeadline = DefaultUrgentDeadline
	}
	return p
}

// Chain tries its channels in order until one accepts a message.
type Chain struct {
	links  []Link
	policy Policy
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// Observer, when set, is told of every attempt and rate-limit wait.
	Observer Observer
}

// NewChain returns a chain over links, tried in the order given.
func NewChain(p Policy, links ...Link) *Chain {
	for i := range links {
		links[i].Retry = links[i].Retry.withDefaults()
		links[i].stats = &channelStats{}
	}
	return &Chain{links: links, policy: p.withDefaults(), Now: time.Now, Observer: NopObserver{}}
}

// Policy is the chain's urgency policy, with its defaults.
func (c *Chain) Policy() Policy { return c.policy }

// Links returns the chain's channels in order.
func (c *Chain) Links() []Link { return c.links }

// Urgent reports whether a notice is urgent at now: its earliest
// appointment starts within the policy's UrgentWithin.
func (c *Chain) Urgent(n *Notice, now time.Time) bool {
	return c.policy.Urgent(n.Earliest(), now)
}

// Urgent reports whether an appointment starting at start is urgent at now.
func (p Policy) Urgent(start, now time.Time) bool {
	until := start.Sub(now)
	return until >= 0 && until <= p.withDefaults().UrgentWithin
}

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

// Deliver walks the patient's route: the configured order, filtered by the
// contact data the patient has, the patient's own preferred media first.
// Transient failures are retried within the channel's budget, then the next
// channel is tried; a permanent failure moves on at once; a bad address
// rules out every later channel of the same medium.
//
// An urgent notice is sent on every medium at once (e-mail and SMS), and if
// no channel accepted it within the policy's UrgentDeadline it is given up
// to the call list.
//
// Deliver returns an error only when ctx ends before an outcome: the notice
// must then be retried, not recorded as manual.
func (c *Chain) Deliver(ctx context.Context, m *Message) (*Result, error) {
	return c.DeliverExcept(ctx, m, nil)
}

// DeliverExcept is Deliver on the patient's route without the channels in
// tried: for a notice that a channel accepted and later reported it could
// not deliver (an SMS the carrier could not hand over), which goes on down
// the route from there.
func (c *Chain) DeliverExcept(ctx context.Context, m *Message, tried map[string]bool) (*Result, error) {
	res := &Result{}
	route := slices.DeleteFunc(c.route(m, res), func(l Link) bool { return tried[l.Sender.Name()] })
	if m.Notice == nil || !c.Urgent(m.Notice, c.Now()) {
		if err := c.walk(ctx, route, m, res); err != nil {
			return res, err
		}
		return res, nil
	}
	return c.deliverUrgent(ctx, route, m, res)
}

// deliverUrgent walks each medium's channels at the same time.
func (c *Chain) deliverUrgent(ctx context.Context, route []Link, m *Message, res *Result) (*Result, error) {
	dctx, cancel := context.WithTimeout(ctx, c.policy.UrgentDeadline)
	defer cancel()
	var (
		media   []Medium
		byMedia = map[Medium][]Link{}
	)
	for _, l := range route {
		md := l.Sender.Medium()
		if _, ok := byMedia[md]; !ok {
			media = append(media, md)
		}
		byMedia[md] = append(byMedia[md], l)
	}
	results := make([]*Result, len(media))
	var wg sync.WaitGroup
	for i, md := range media {
		results[i] = &Result{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.walk(dctx, byMedia[md], m, results[i])
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	var first time.Time
	for _, r := range results {
		res.Trail = append(res.Trail, r.Trail...)
		if r.Channel == "" {
			continue
		}
		at := r.Trail[len(r.Trail)-1].At
		if res.Channel == "" || at.Before(first) {
			res.Channel, first = r.Channel, at
		}
	}
	slices.SortStableFunc(res.Trail, func(a, b Attempt) int { return a.At.Compare(b.At) })
	if res.Channel == "" && dctx.Err() != nil {
		res.Trail = append(res.Trail, Attempt{Channel: "deadline", At: c.Now(), Result: ResultFailed, Class: Transient.String(),
			Reason: "no channel accepted the urgent notice within " + c.policy.UrgentDeadline.String()})
	}
	return res, nil
}

// route orders the links for this message and records the channels it
// cannot use at all in res.
func (c *Chain) route(m *Message, res *Result) []Link {
	var p Patient
	if m.Notice != nil {
		p = m.Notice.Patient
	}
	p.Email, p.Phone = m.To.Email, m.To.Phone
	media := make([]Medium, len(c.links))
	for i, l := range c.links {
		media[i] = l.Sender.Medium()
		if reason := noContact(p, media[i]); reason != "" {
			res.Trail = append(res.Trail, Attempt{Channel: l.Sender.Name(), At: c.Now(), Result: ResultSkipped, Reason: reason})
		}
	}
	order := Route(media, p)
	route := make([]Link, len(order))
	for i, j := range order {
		route[i] = c.links[j]
	}
	return route
}

// Route is a patient's route through channels of the given media, as
// indexes into media: the configured order without the channels whose
// contact data the patient lacks, the patient's own preferred media first.
func Route(media []Medium, p Patient) []int {
	rank := func(md Medium) int {
		if i := slices.Index(p.Channels, string(md)); i >= 0 {
			return i
		}
		return len(p.Channels)
	}
	var order []int
	for i, md := range media {
		if noContact(p, md) == "" {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rank(media[a]), rank(media[b])) })
	return order
}

// noContact says why a channel of the given medium cannot reach the
// patient, or "" if it can.
func noContact(p Patient, medium Medium) string {
	switch {
	case medium == MediumEmail && p.Email == "":
		return "patient has no e-mail address"
	case medium == MediumSMS && p.Phone == "":
		return "patient has no phone number"
	}
	return ""
}

// walk tries the links in order until one accepts. It returns an error
// only when ctx ended first.
func (c *Chain) walk(ctx context.Context, route []Link, m *Message, res *Result) error {
	badMedium := map[Medium]string{}
	for _, l := range route {
		name, medium := l.Sender.Name(), l.Sender.Medium()
		if by := badMedium[medium]; by != "" {
			res.Trail = append(res.Trail, Attempt{Channel: name, At: c.Now(), Result: ResultSkipped, Reason: "address refused as bad by " + by})
			continue
		}
		ok, err := c.try(ctx, l, m, res)
		if ok {
			res.Channel = name
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if ClassOf(err) == BadAddress {
			badMedium[medium] = name
		}
	}
	return nil
}

// errBreakerOpen is the reason a channel was skipped while its breaker is
// open.
var errBreakerOpen = &SendError{Class: Permanent, Reason: "circuit breaker open: the channel failed repeatedly and is not tried for now"}

// try sends on one channel within its retry budget. It reports whether the
// channel accepted the message and, if not, the last error.
func (c *Chain) try(ctx context.Context, l Link, m *Message, res *Result) (bool, error) {
	start := c.Now()
	for n := 1; ; n++ {
		a, se, err := c.attempt(ctx, l, m)
		res.Trail = append(res.Trail, a)
		if err == nil {
			return true, nil
		}
		if se == errBreakerOpen || ClassOf(err) != Transient || n >= l.Retry.Attempts || ctx.Err() != nil {
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

// attempt makes one send and records it: the trail entry, the channel's
// health and the observer.
func (c *Chain) attempt(ctx context.Context, l Link, m *Message) (Attempt, *SendError, error) {
	began := c.Now()
	err := c.send(ctx, l, m)
	a := Attempt{Channel: l.Sender.Name(), At: c.Now(), Result: ResultAccepted}
	var se *SendError
	switch {
	case err == nil:
		a.Link = m.CarriesLink(l.Sender.Medium())
	case errors.As(err, &se) && se == errBreakerOpen:
		a.Result, a.Reason = ResultSkipped, se.Reason
	default:
		a.Result, a.Class, a.Reason = ResultFailed, ClassOf(err).String(), err.Error()
		if se != nil {
			a.Code, a.Enhanced = se.Code, se.Enhanced
			if se.Unconfirmed {
				a.Result = ResultUnconfirmed
			}
		}
		if ClassOf(err) != BadAddress {
			l.stats.failed(a.At, a.Reason)
		}
	}
	c.Observer.Attempted(a.Channel, a.Result, a.Class, a.At.Sub(began))
	return a, se, err
}

// send makes one try through the channel's rate limit and breaker.
func (c *Chain) send(ctx context.Context, l Link, m *Message) error {
	if l.Limit != nil {
		began := c.Now()
		if err := l.Limit.Wait(ctx); err != nil {
			return &SendError{Class: Transient, Reason: "rate limit: " + err.Error(), Err: err}
		}
		if waited := c.Now().Sub(began); waited > time.Millisecond {
			l.stats.limited(c.Now())
			c.Observer.RateLimited(l.Sender.Name(), waited)
		}
	}
	if l.Breaker == nil {
		return l.Sender.Send(ctx, m)
	}
	_, err := l.Breaker.Execute(func() (struct{}, error) { return struct{}{}, l.Sender.Send(ctx, m) })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return errBreakerOpen
	}
	return err
}
