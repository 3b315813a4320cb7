// Package smtp is a channel that hands messages to an SMTP relay with
// github.com/emersion/go-smtp.
//
// A Channel keeps up to Config.MaxConns connections open and reuses them for
// many messages, as relays throttle clients that reconnect for every message.
// Every failure comes back as a *notifier.SendError: 4xx replies, timeouts
// and network errors are Transient, 5xx replies that reject the recipient's
// address (enhanced status 5.1.x) are BadAddress, and other 5xx replies, TLS
// failures and a missing STARTTLS are Permanent. A reason never contains the
// recipient's address or name, even when the relay's reply echoes them.
package smtp

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/postponement/notifier/channel/email"
	"github.com/postponement/notifier/notifier"
)

var _ notifier.Sender = (*Channel)(nil)

// ErrClosed is returned, inside a Transient SendError, by Send after Close.
var ErrClosed = errors.New("smtp channel closed")

// idleCheck is how long a connection may sit idle before it is checked with
// NOOP; relays commonly drop idle clients after a minute or more.
const idleCheck = 30 * time.Second

// Channel sends messages through one SMTP relay. It is safe for concurrent
// use; at most Config.MaxConns messages are in flight at once.
type Channel struct {
	cfg  Config
	from *email.Sender
	tls  *tls.Config
	// slots holds a token per message in flight; a connection is only
	// open, idle or busy, while it fits in a slot.
	slots chan struct{}
	// now is the clock for Date headers and idle checks.
	now func() time.Time

	mu     sync.Mutex
	idle   []*conn
	closed bool
}

// New checks cfg and returns a channel for its relay. It does not connect:
// the first Send does.
func New(cfg Config) (*Channel, error) {
	host, err := cfg.normalize()
	if err != nil {
		return nil, fmt.Errorf("smtp %s: %w", cfg.Name, err)
	}
	addr, err := email.ParseFrom(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp %s: %w", cfg.Name, err)
	}
	from, err := email.NewSender(addr)
	if err != nil {
		return nil, fmt.Errorf("smtp %s: from: %w", cfg.Name, err)
	}
	return &Channel{
		cfg:   cfg,
		from:  from,
		tls:   cfg.clientTLS(host),
		slots: make(chan struct{}, cfg.MaxConns),
		now:   time.Now,
	}, nil
}

// Name is the channel's configured name.
func (c *Channel) Name() string { return c.cfg.Name }

// Medium is email.
func (c *Channel) Medium() notifier.Medium { return notifier.MediumEmail }

// Send hands m to the relay and returns nil once the relay has accepted it.
//
// It waits for a free slot, then uses an idle connection or dials one. If a
// reused connection turns out dead or the relay says 421 before the message
// data was complete, the relay has not taken the message, so Send tries once
// more on a fresh connection. When ctx ends, Send closes the connection it
// is using and returns promptly.
func (c *Channel) Send(ctx context.Context, m *notifier.Message) error {
	if err := ctx.Err(); err != nil {
		return cancelled(err)
	}
	var body bytes.Buffer
	if err := c.from.Compose(&body, m, c.now()); err != nil {
		if errors.Is(err, email.ErrBadAddress) {
			return &notifier.SendError{Class: notifier.BadAddress, Reason: "recipient address unusable", Err: err}
		}
		return &notifier.SendError{Class: notifier.Permanent, Reason: "message cannot be composed", Err: err}
	}

	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return cancelled(ctx.Err())
	}
	defer func() { <-c.slots }()

	envelope := c.from.Address()
	if c.cfg.EnvelopeFrom != nil {
		envelope = cmp.Or(c.cfg.EnvelopeFrom(m), envelope)
	}
	cn, err := c.get(ctx)
	if err != nil {
		return c.fail(ctx, m, err)
	}
	err = cn.send(ctx, envelope, m.To.Email, body.Bytes())
	if err != nil && cn.reused && ctx.Err() == nil && retryable(err) {
		cn.close()
		c.cfg.Logger.Debug("smtp: reused connection failed, redialling",
			"channel", c.cfg.Name, "notice", m.NoticeID, "stage", stageOf(err).String())
		if cn, err = c.dial(ctx); err != nil {
			return c.fail(ctx, m, err)
		}
		err = cn.send(ctx, envelope, m.To.Email, body.Bytes())
	}
	if err != nil {
		c.recycle(ctx, cn, err)
		return c.fail(ctx, m, err)
	}
	c.put(cn)
	return nil
}

// Close closes the idle connections with QUIT. Sends in flight finish and
// close their connections; later Sends fail with ErrClosed.
func (c *Channel) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, cn := range idle {
		cn.quit()
	}
	return nil
}

// get returns an idle connection, checked with NOOP if it idled long, or a
// new one.
func (c *Channel) get(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		var cn *conn
		if n := len(c.idle); n > 0 {
			cn, c.idle = c.idle[n-1], c.idle[:n-1]
		}
		c.mu.Unlock()

		if cn == nil {
			return c.dial(ctx)
		}
		if c.now().Sub(cn.lastUsed) < idleCheck {
			cn.reused = true
			return cn, nil
		}
		if err := cn.noop(ctx); err == nil {
			cn.reused = true
			return cn, nil
		}
		cn.close()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.cfg.Logger.Debug("smtp: dropped a stale idle connection", "channel", c.cfg.Name)
	}
}

// put returns a healthy connection to the idle list, or quits it when the
// channel has been closed meanwhile.
func (c *Channel) put(cn *conn) {
	if cn.dead {
		cn.close()
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cn.quit()
		return
	}
	cn.lastUsed = c.now()
	c.idle = append(c.idle, cn)
	c.mu.Unlock()
}

// recycle keeps a connection after a transaction the relay refused, once
// RSET has put it back into a clean state, and closes it otherwise.
func (c *Channel) recycle(ctx context.Context, cn *conn, err error) {
	if refusedOnLiveConn(err) && cn.reset(ctx) == nil {
		c.put(cn)
		return
	}
	cn.close()
}

// fail turns err into the SendError Send returns.
func (c *Channel) fail(ctx context.Context, m *notifier.Message, err error) *notifier.SendError {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return cancelled(ctxErr)
	}
	if errors.Is(err, ErrClosed) {
		return &notifier.SendError{Class: notifier.Transient, Reason: "channel closed", Err: err}
	}
	return classify(err, m.To)
}

// cancelled is the error of a Send whose context ended.
func cancelled(err error) *notifier.SendError {
	return &notifier.SendError{Class: notifier.Transient, Reason: "cancelled: " + err.Error(), Err: err}
}
