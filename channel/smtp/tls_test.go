package smtp

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/postponement/notifier/notifier"
)

func TestTLS(t *testing.T) {
	for _, mode := range []string{TLSImplicit, TLSStartTLS} {
		t.Run(mode+" delivers over TLS", func(t *testing.T) {
			b := &backend{}
			r := startRelay(t, b, mode)
			c := newChannel(t, r.addr, mode, nil)

			mustSend(t, c, "n-1")
			mustSend(t, c, "n-2")

			b.mu.Lock()
			defer b.mu.Unlock()
			if len(b.msgs) != 2 {
				t.Errorf("got %d messages, want 2", len(b.msgs))
			}
			last := b.tlsSeen[len(b.tlsSeen)-1]
			if !last {
				t.Error("the session carrying the messages ran without TLS")
			}
		})

		t.Run(mode+" refuses an untrusted certificate", func(t *testing.T) {
			b := &backend{}
			r := startRelay(t, b, mode)
			c := newChannel(t, r.addr, mode, func(cfg *Config) { cfg.TLSConfig = nil })

			se := wantClass(t, send(t, c, "n-1"), notifier.Permanent)
			if !strings.Contains(se.Reason, "certificate") {
				t.Errorf("reason %q, want it to mention the certificate", se.Reason)
			}
			if _, _, mails, _ := b.snapshot(); mails != 0 {
				t.Errorf("relay got %d MAIL commands, want none", mails)
			}
		})
	}

	t.Run("starttls never falls back to plaintext", func(t *testing.T) {
		b := &backend{}
		r := startRelay(t, b, TLSNone) // offers no STARTTLS
		c := newChannel(t, r.addr, TLSStartTLS, nil)

		se := wantClass(t, send(t, c, "n-1"), notifier.Permanent)
		if !strings.Contains(se.Reason, "STARTTLS") {
			t.Errorf("reason %q, want it to mention STARTTLS", se.Reason)
		}
		if _, _, mails, msgs := b.snapshot(); mails != 0 || len(msgs) != 0 {
			t.Errorf("relay got %d MAIL commands and %d messages, want none", mails, len(msgs))
		}
	})

	t.Run("implicit tls against a plaintext relay fails permanently", func(t *testing.T) {
		r := startRelay(t, &backend{}, TLSNone)
		c := newChannel(t, r.addr, TLSImplicit, nil)

		wantClass(t, send(t, c, "n-1"), notifier.Permanent)
	})

	t.Run("TLS 1.2 is the least a client offers", func(t *testing.T) {
		c := newChannel(t, "relay.example.org:465", TLSImplicit, func(cfg *Config) {
			cfg.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS10}
		})
		if got := c.tls.MinVersion; got != tls.VersionTLS12 {
			t.Errorf("MinVersion: got %#x, want TLS 1.2", got)
		}
		if got := c.tls.ServerName; got != "relay.example.org" {
			t.Errorf("ServerName: got %q, want the relay's host", got)
		}
	})
}

func TestAuth(t *testing.T) {
	users := map[string]string{"notifier": "s3cret"}
	withUser := func(user, password string) func(*Config) {
		return func(cfg *Config) { cfg.Username, cfg.Password = user, password }
	}

	for _, mode := range []string{TLSImplicit, TLSStartTLS} {
		t.Run("PLAIN over "+mode, func(t *testing.T) {
			b := &backend{users: users}
			r := startRelay(t, b, mode)
			c := newChannel(t, r.addr, mode, withUser("notifier", "s3cret"))

			mustSend(t, c, "n-1")

			b.mu.Lock()
			defer b.mu.Unlock()
			if len(b.authed) != 1 || b.authed[0] != "notifier" {
				t.Errorf("authenticated users: got %v, want [notifier]", b.authed)
			}
		})
	}

	t.Run("a wrong password is permanent", func(t *testing.T) {
		r := startRelay(t, &backend{users: users}, TLSImplicit)
		c := newChannel(t, r.addr, TLSImplicit, withUser("notifier", "wrong"))

		se := wantClass(t, send(t, c, "n-1"), notifier.Permanent)
		if se.Code != 535 {
			t.Errorf("code: got %d, want 535", se.Code)
		}
	})

	t.Run("a relay without AUTH is permanent", func(t *testing.T) {
		r := startRelay(t, &backend{}, TLSImplicit)
		c := newChannel(t, r.addr, TLSImplicit, withUser("notifier", "s3cret"))

		se := wantClass(t, send(t, c, "n-1"), notifier.Permanent)
		if !strings.Contains(se.Reason, "AUTH") {
			t.Errorf("reason %q, want it to mention AUTH", se.Reason)
		}
	})

	t.Run("credentials without TLS are refused by New", func(t *testing.T) {
		for _, addr := range []string{"relay.example.org:25", "127.0.0.1:25"} {
			_, err := New(Config{Addr: addr, TLS: TLSNone, From: "noreply@example.org", Username: "notifier", Password: "s3cret"})
			if err == nil || !strings.Contains(err.Error(), "TLS") {
				t.Errorf("New with credentials over tls none to %s: got %v, want an error about TLS", addr, err)
			}
		}
	})
}
