package smtp

import (
	"context"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/notifier"
)

func TestInternationalAddress(t *testing.T) {
	m := message("n-1")
	m.To.Email = "jürgen@müller.example"

	t.Run("goes out with SMTPUTF8", func(t *testing.T) {
		b := &backend{}
		r := startRelay(t, b, TLSNone)
		c := newChannel(t, r.addr, TLSNone, nil)

		if err := c.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if _, _, _, msgs := b.snapshot(); len(msgs) != 1 || msgs[0].to[0] != m.To.Email {
			t.Errorf("got %d messages, want one to the international address", len(msgs))
		}
	})

	t.Run("is permanent on a relay without SMTPUTF8, which stays usable", func(t *testing.T) {
		b := &backend{}
		r := startRelay(t, b, TLSNone, func(s *smtp.Server) { s.EnableSMTPUTF8 = false })
		c := newChannel(t, r.addr, TLSNone, nil)

		se := wantClass(t, c.Send(context.Background(), m), notifier.Permanent)
		if !strings.Contains(se.Reason, "SMTPUTF8") {
			t.Errorf("reason %q, want it to mention SMTPUTF8", se.Reason)
		}
		mustSend(t, c, "n-2")
		if sessions, _, mails, _ := b.snapshot(); sessions != 1 || mails != 1 {
			t.Errorf("got %d connections and %d MAIL commands, want 1 and 1", sessions, mails)
		}
	})
}
