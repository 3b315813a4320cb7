package app

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// bounceEnv is a running worker with an e-mail relay, then an SMS
// gateway, and a bounce secret (returned); change sets the rest of the
// bounces configuration first.
func bounceEnv(t *testing.T, change func(*config.Bounces)) (*env, *relay.Relay, []byte) {
	t.Helper()
	e := newEnv(t)
	gw := e.startGateway(accept)
	rec := e.startRelay(relay.Options{})
	secret := []byte("bounce-secret-of-some-length")
	e.cfg.Bounces.SecretFile = filepath.Join(t.TempDir(), "bounce-secret")
	if err := os.WriteFile(e.cfg.Bounces.SecretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	change(&e.cfg.Bounces)
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()), gw.channel(t, "sms"))
	e.startWorker()
	return e, rec, secret
}

// TestBouncesBySMTP: with bounces.domain set, every e-mail leaves with the
// notice's own envelope sender; a delivery status notification mailed
// back to it makes the notice bounced and sends it on by SMS; mail for any
// other address, or a forged bounce address, is refused with 550.
func TestBouncesBySMTP(t *testing.T) {
	e, rec, _ := bounceEnv(t, func(b *config.Bounces) { b.Domain, b.Addr = "bounces.example.org", "127.0.0.1:0" })
	addr, stop, err := ServeBounces(e.cfg, e.w, e.conn, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	e.importCSV(smsFixture)
	e.declare(sampleOutage(t, "evt-1"))
	ctx := context.Background()

	var verp, jana string
	for _, m := range rec.Messages() {
		if !strings.HasPrefix(m.From, "bounce+n-") || !strings.HasSuffix(m.From, "@bounces.example.org") {
			t.Errorf("envelope sender %q, want a bounce address of the notice", m.From)
		}
		if m.To[0] == "jana@example.org" {
			verp = m.From
			jana = strings.SplitN(strings.TrimPrefix(m.From, "bounce+"), ".", 2)[0]
		}
	}
	if verp == "" {
		t.Fatal("no e-mail to Jana")
	}
	send := func(rcpt, body string) error {
		c, err := smtp.Dial(addr)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Mail("", nil); err != nil {
			return err
		}
		if err := c.Rcpt(rcpt, nil); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		io.WriteString(w, body)
		return w.Close()
	}
	for _, bad := range []string{"postmaster@bounces.example.org", "someone@example.org", "bounce+" + jana + ".0123456789abcdef0123@bounces.example.org"} {
		var se *smtp.SMTPError
		if err := send(bad, "Subject: x\r\n\r\nx\r\n"); !errors.As(err, &se) || se.Code != 550 {
			t.Errorf("mail for %s: %v, want 550", bad, err)
		}
	}
	dsn := strings.ReplaceAll(`From: MAILER-DAEMON@mx.example.org
To: `+verp+`
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Your message could not be delivered.
--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; jana@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <jana@example.org>: Recipient address rejected

--b1--
`, "\n", "\r\n")
	if err := send(verp, dsn); err != nil {
		t.Fatalf("the DSN: %v", err)
	}
	waitUntil(t, "Jana's notice bounced and sent on by SMS", func() bool {
		_, d, _, _ := e.w.DB.NoticeOutcome(ctx, jana)
		return d != nil && d.Channel == "sms"
	})
	_, d, _, _ := e.w.DB.NoticeOutcome(ctx, jana)
	bounced := 0
	for _, a := range d.Trail {
		if a.Result == notifier.ResultBounced {
			bounced++
			if a.Enhanced != "5.1.1" || strings.Contains(a.Reason, "jana@") || !strings.Contains(a.Reason, "550 5.1.1") {
				t.Errorf("bounced attempt %+v: want 5.1.1, the reply code, no address", a)
			}
		}
	}
	if bounced != 1 {
		t.Errorf("trail %+v: want one bounced attempt", d.Trail)
	}
}
