package smtp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/notifier"
)

func TestChannelIsAnEmailSender(t *testing.T) {
	c := newChannel(t, closedAddr(t), TLSNone, nil)
	if got, want := c.Name(), "relay"; got != want {
		t.Errorf("Name: got %q, want %q", got, want)
	}
	if got, want := c.Medium(), notifier.MediumEmail; got != want {
		t.Errorf("Medium: got %q, want %q", got, want)
	}
}

func TestSendDelivers(t *testing.T) {
	t.Run("several messages share one connection", func(t *testing.T) {
		b := &backend{}
		r := startRelay(t, b, TLSNone)
		c := newChannel(t, r.addr, TLSNone, nil)

		for i := range 5 {
			mustSend(t, c, fmt.Sprintf("n-%d", i))
		}

		sessions, _, _, msgs := b.snapshot()
		if sessions != 1 {
			t.Errorf("got %d connections, want 1", sessions)
		}
		if len(msgs) != 5 {
			t.Fatalf("got %d messages, want 5", len(msgs))
		}
		for i, m := range msgs {
			if m.from != "noreply@example.org" || len(m.to) != 1 || m.to[0] != patientEmail {
				t.Errorf("message %d: envelope %s -> %v, want noreply@example.org -> [%s]", i, m.from, m.to, patientEmail)
			}
			mr, err := mail.CreateReader(bytes.NewReader(m.data))
			if err != nil {
				t.Fatalf("message %d does not parse: %v", i, err)
			}
			want := fmt.Sprintf("n-%d@example.org", i)
			if got, _ := mr.Header.MessageID(); got != want {
				t.Errorf("message %d: Message-ID %q, want %q", i, got, want)
			}
		}
	})

	t.Run("concurrent sends stay within MaxConns", func(t *testing.T) {
		b := &backend{onData: func() error { time.Sleep(10 * time.Millisecond); return nil }}
		r := startRelay(t, b, TLSNone)
		const maxConns, n = 3, 24
		c := newChannel(t, r.addr, TLSNone, func(cfg *Config) { cfg.MaxConns = maxConns })

		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if err := send(t, c, fmt.Sprintf("n-%d", i)); err != nil {
					t.Errorf("Send %d: %v", i, err)
				}
			})
		}
		wg.Wait()

		sessions, maxActive, _, msgs := b.snapshot()
		if len(msgs) != n {
			t.Errorf("got %d messages, want %d", len(msgs), n)
		}
		if sessions > maxConns || maxActive > maxConns {
			t.Errorf("got %d connections, %d at once, want at most %d", sessions, maxActive, maxConns)
		}
		if maxActive < 2 {
			t.Errorf("got %d connections at once, want concurrent sends to use more than one", maxActive)
		}
	})

	t.Run("a refused recipient does not cost the connection", func(t *testing.T) {
		b := &backend{onRcpt: func(to string) error {
			if to == "nobody@example.org" {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		}}
		r := startRelay(t, b, TLSNone)
		c := newChannel(t, r.addr, TLSNone, nil)

		m := message("n-1")
		m.To.Email = "nobody@example.org"
		wantClass(t, c.Send(context.Background(), m), notifier.BadAddress)
		mustSend(t, c, "n-2")

		if sessions, _, _, msgs := b.snapshot(); sessions != 1 || len(msgs) != 1 {
			t.Errorf("got %d connections and %d messages, want 1 and 1", sessions, len(msgs))
		}
		if got := r.log.commands("RSET"); got != 1 {
			t.Errorf("got %d RSET, want 1", got)
		}
	})
}

func TestSendRedials(t *testing.T) {
	t.Run("421 on a reused connection is retried on a new one", func(t *testing.T) {
		var closing atomic.Bool
		b := &backend{onMail: func(string) error {
			if closing.CompareAndSwap(true, false) {
				return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down"}
			}
			return nil
		}}
		r := startRelay(t, b, TLSNone)
		c := newChannel(t, r.addr, TLSNone, nil)

		mustSend(t, c, "n-1")
		closing.Store(true)
		mustSend(t, c, "n-2")

		if sessions, _, _, msgs := b.snapshot(); sessions != 2 || len(msgs) != 2 {
			t.Errorf("got %d connections and %d messages, want 2 and 2", sessions, len(msgs))
		}
	})

	t.Run("421 on a new connection is transient and not retried", func(t *testing.T) {
		b := &backend{onMail: func(string) error {
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down"}
		}}
		r := startRelay(t, b, TLSNone)
		c := newChannel(t, r.addr, TLSNone, nil)

		se := wantClass(t, send(t, c, "n-1"), notifier.Transient)
		if se.Code != 421 {
			t.Errorf("code: got %d, want 421", se.Code)
		}
		if sessions, _, _, _ := b.snapshot(); sessions != 1 {
			t.Errorf("got %d connections, want 1", sessions)
		}
	})

	t.Run("a connection the relay dropped while idle is replaced", func(t *testing.T) {
		b := &backend{}
		r := startRelay(t, b, TLSNone)
		c := newChannel(t, r.addr, TLSNone, nil)

		mustSend(t, c, "n-1")
		b.dropConnections()
		mustSend(t, c, "n-2")

		if sessions, _, _, msgs := b.snapshot(); sessions != 2 || len(msgs) != 2 {
			t.Errorf("got %d connections and %d messages, want 2 and 2", sessions, len(msgs))
		}
	})

	t.Run("a long idle connection is checked with NOOP and kept", func(t *testing.T) {
		b := &backend{}
		r := startRelay(t, b, TLSNone)
		c := newChannel(t, r.addr, TLSNone, nil)
		clock := newClock(c)

		mustSend(t, c, "n-1")
		clock.advance(idleCheck + time.Second)
		mustSend(t, c, "n-2")

		if got := r.log.commands("NOOP"); got != 1 {
			t.Errorf("got %d NOOP, want 1", got)
		}
		if sessions, _, _, _ := b.snapshot(); sessions != 1 {
			t.Errorf("got %d connections, want 1", sessions)
		}
	})

	t.Run("a long idle connection that fails NOOP is replaced", func(t *testing.T) {
		b := &backend{}
		r := startRelay(t, b, TLSNone)
		c := newChannel(t, r.addr, TLSNone, nil)
		clock := newClock(c)

		mustSend(t, c, "n-1")
		b.dropConnections()
		clock.advance(idleCheck + time.Second)
		mustSend(t, c, "n-2")

		if sessions, _, _, msgs := b.snapshot(); sessions != 2 || len(msgs) != 2 {
			t.Errorf("got %d connections and %d messages, want 2 and 2", sessions, len(msgs))
		}
	})
}

func TestClose(t *testing.T) {
	b := &backend{}
	r := startRelay(t, b, TLSNone)
	c := newChannel(t, r.addr, TLSNone, nil)
	mustSend(t, c, "n-1")

	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	t.Run("idle connections say QUIT", func(t *testing.T) {
		if got := r.log.commands("QUIT"); got != 1 {
			t.Errorf("got %d QUIT, want 1", got)
		}
	})
	t.Run("later sends fail as transient", func(t *testing.T) {
		err := send(t, c, "n-2")
		wantClass(t, err, notifier.Transient)
		if !errors.Is(err, ErrClosed) {
			t.Errorf("got %v, want ErrClosed", err)
		}
	})
}

// clock is a settable clock for a channel's idle checks.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// newClock makes c read the time from a new clock.
func newClock(c *Channel) *clock {
	cl := &clock{now: time.Now()}
	c.now = func() time.Time {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		return cl.now
	}
	return cl
}

func (cl *clock) advance(d time.Duration) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.now = cl.now.Add(d)
}
