package smtp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/notifier"
)

// wantNoPatientData asserts that nothing a SendError says names the patient:
// neither the address nor its local part, nor a word of the name.
func wantNoPatientData(t *testing.T, err error) {
	t.Helper()
	texts := []string{err.Error()}
	if inner := errors.Unwrap(err); inner != nil {
		texts = append(texts, inner.Error())
	}
	for _, text := range texts {
		for _, secret := range []string{patientEmail, "jane.doe"} {
			if strings.Contains(strings.ToLower(text), secret) {
				t.Errorf("%q contains %q", text, secret)
			}
		}
		for _, word := range words(text) {
			for _, secret := range words(patientName) {
				if strings.EqualFold(word, secret) {
					t.Errorf("%q contains the word %q", text, secret)
				}
			}
		}
	}
}

func TestSendClassifiesReplies(t *testing.T) {
	for _, tc := range []struct {
		name         string
		backend      *backend
		wantClass    notifier.Class
		wantCode     int
		wantEnhanced string
	}{
		{
			name:      "451 on RCPT is transient",
			backend:   &backend{onRcpt: func(string) error { return reply(451, smtp.EnhancedCode{4, 3, 0}, "try again later") }},
			wantClass: notifier.Transient, wantCode: 451, wantEnhanced: "4.3.0",
		},
		{
			name:      "550 5.1.1 on RCPT is a bad address",
			backend:   &backend{onRcpt: func(string) error { return reply(550, smtp.EnhancedCode{5, 1, 1}, "mailbox unknown") }},
			wantClass: notifier.BadAddress, wantCode: 550, wantEnhanced: "5.1.1",
		},
		{
			name:      "553 5.1.3 on RCPT is a bad address",
			backend:   &backend{onRcpt: func(string) error { return reply(553, smtp.EnhancedCode{5, 1, 3}, "bad address syntax") }},
			wantClass: notifier.BadAddress, wantCode: 553, wantEnhanced: "5.1.3",
		},
		{
			name:      "554 5.7.1 on RCPT (relaying denied) is permanent",
			backend:   &backend{onRcpt: func(string) error { return reply(554, smtp.EnhancedCode{5, 7, 1}, "relaying denied") }},
			wantClass: notifier.Permanent, wantCode: 554, wantEnhanced: "5.7.1",
		},
		{
			name:      "550 without a specific enhanced code on RCPT is permanent",
			backend:   &backend{onRcpt: func(string) error { return reply(550, smtp.EnhancedCodeNotSet, "rejected") }},
			wantClass: notifier.Permanent, wantCode: 550, wantEnhanced: "5.0.0",
		},
		{
			name:      "5.1.8 on MAIL is about the sender, so permanent",
			backend:   &backend{onMail: func(string) error { return reply(553, smtp.EnhancedCode{5, 1, 8}, "sender domain unknown") }},
			wantClass: notifier.Permanent, wantCode: 553, wantEnhanced: "5.1.8",
		},
		{
			name:      "554 5.7.1 after the data is permanent",
			backend:   &backend{onData: func() error { return reply(554, smtp.EnhancedCode{5, 7, 1}, "message refused") }},
			wantClass: notifier.Permanent, wantCode: 554, wantEnhanced: "5.7.1",
		},
		{
			name:      "550 5.1.1 after the data is a bad address",
			backend:   &backend{onData: func() error { return reply(550, smtp.EnhancedCode{5, 1, 1}, "mailbox unknown") }},
			wantClass: notifier.BadAddress, wantCode: 550, wantEnhanced: "5.1.1",
		},
		{
			name:      "452 4.2.2 after the data is transient",
			backend:   &backend{onData: func() error { return reply(452, smtp.EnhancedCode{4, 2, 2}, "mailbox full") }},
			wantClass: notifier.Transient, wantCode: 452, wantEnhanced: "4.2.2",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRelay(t, tc.backend, TLSNone)
			c := newChannel(t, r.addr, TLSNone, nil)

			err := send(t, c, "n-1")

			se := wantClass(t, err, tc.wantClass)
			if se.Code != tc.wantCode || se.Enhanced != tc.wantEnhanced {
				t.Errorf("got %d %s, want %d %s", se.Code, se.Enhanced, tc.wantCode, tc.wantEnhanced)
			}
			if se.Reason == "" {
				t.Error("reason is empty")
			}
			wantNoPatientData(t, err)
		})
	}
}

func TestSendFailsFast(t *testing.T) {
	// Every case must fail within a bound, not wait for the relay for
	// ever; the bound is loose, as the machine may be busy.
	const limit = 10 * (testDialTimeout + testCommandTimeout)

	for _, tc := range []struct {
		name       string
		mode       string
		addr       func(t *testing.T) string
		wantReason string
	}{
		{
			name:       "a closed port is transient",
			mode:       TLSNone,
			addr:       closedAddr,
			wantReason: "refused the connection",
		},
		{
			name:       "a relay that never greets is transient",
			mode:       TLSNone,
			addr:       startSilentRelay,
			wantReason: "timed out (setup)",
		},
		{
			name:       "a relay that never greets before STARTTLS is transient",
			mode:       TLSStartTLS,
			addr:       startSilentRelay,
			wantReason: "timed out (setup)",
		},
		{
			name:       "a relay that never completes the TLS handshake is transient",
			mode:       TLSImplicit,
			addr:       startSilentRelay,
			wantReason: "timed out (setup)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChannel(t, tc.addr(t), tc.mode, nil)

			start := time.Now()
			err := send(t, c, "n-1")
			elapsed := time.Since(start)

			se := wantClass(t, err, notifier.Transient)
			if !strings.Contains(se.Reason, tc.wantReason) {
				t.Errorf("reason %q, want it to contain %q", se.Reason, tc.wantReason)
			}
			if elapsed > limit {
				t.Errorf("took %v, want under %v", elapsed, limit)
			}
		})
	}
}

// TestSendUnconfirmed: a relay that stores the data and then never
// answers leaves the message possibly delivered. The send fails at once on
// this channel (a retry could deliver it twice) and says so.
func TestSendUnconfirmed(t *testing.T) {
	release := make(chan struct{})
	r := startRelay(t, &backend{onData: func() error { <-release; return nil }}, TLSNone)
	t.Cleanup(func() { close(release) })
	c := newChannel(t, r.addr, TLSNone, nil)

	err := send(t, c, "n-1")

	se := wantClass(t, err, notifier.Permanent)
	if !se.Unconfirmed || !strings.Contains(se.Reason, "sent, unconfirmed") {
		t.Errorf("got %+v, want an unconfirmed send", se)
	}
	wantNoPatientData(t, err)
}

func TestSendHonoursContext(t *testing.T) {
	// Timeouts far beyond the test's patience: only ctx can end these sends.
	patient := func(cfg *Config) {
		cfg.DialTimeout, cfg.CommandTimeout = 10*time.Second, 10*time.Second
		cfg.MaxConns = 1
	}
	stalling := func(t *testing.T) string {
		release := make(chan struct{})
		r := startRelay(t, &backend{onData: func() error { <-release; return nil }}, TLSNone)
		t.Cleanup(func() { close(release) })
		return r.addr
	}

	t.Run("a cancelled send returns promptly", func(t *testing.T) {
		c := newChannel(t, stalling(t), TLSNone, patient)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)

		start := time.Now()
		err := c.Send(ctx, message("n-1"))

		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		wantClass(t, err, notifier.Transient)
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("took %v, want about 50ms", elapsed)
		}
	})

	t.Run("a send waiting for a free connection gives up with its context", func(t *testing.T) {
		entered, release := make(chan struct{}, 1), make(chan struct{})
		r := startRelay(t, &backend{onData: func() error { entered <- struct{}{}; <-release; return nil }}, TLSNone)
		t.Cleanup(func() { close(release) })
		c := newChannel(t, r.addr, TLSNone, patient)
		busy, cancelBusy := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { c.Send(busy, message("n-1")); close(done) }()
		t.Cleanup(func() { cancelBusy(); <-done })
		<-entered // n-1 holds the only slot, its data at the relay

		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := c.Send(ctx, message("n-2"))

		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("a cancelled context sends nothing and spoils nothing", func(t *testing.T) {
		b := &backend{}
		r := startRelay(t, b, TLSNone)
		c := newChannel(t, r.addr, TLSNone, nil)
		mustSend(t, c, "n-1")

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := c.Send(ctx, message("n-2")); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		mustSend(t, c, "n-3")
		if _, _, _, msgs := b.snapshot(); len(msgs) != 2 {
			t.Errorf("got %d messages, want 2", len(msgs))
		}
	})
}

func TestSendRefusesBadAddressesBeforeConnecting(t *testing.T) {
	b := &backend{}
	r := startRelay(t, b, TLSNone)
	c := newChannel(t, r.addr, TLSNone, nil)

	for _, addr := range []string{"", "jane.doe@example.org\r\nBcc: eve@evil.example", "Jane <jane.doe@example.org>"} {
		m := message("n-1")
		m.To.Email = addr
		wantClass(t, c.Send(context.Background(), m), notifier.BadAddress)
	}
	if sessions, _, _, _ := b.snapshot(); sessions != 0 {
		t.Errorf("got %d connections, want none", sessions)
	}
}
