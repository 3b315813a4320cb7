package app

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/channel/webhook"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
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
	secret := e.bounceSecret()
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
	e, rec, secret := bounceEnv(t, func(b *config.Bounces) { b.Domain, b.Addr = "bounces.example.org", "127.0.0.1:0" })
	addr := serveBounces(t, e)
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
			jana = noticeOfVERP(m.From)
		}
	}
	if verp == "" {
		t.Fatal("no e-mail to Jana")
	}
	send := func(rcpt, body string) error { return relay.Send(addr, "", []string{rcpt}, body) }
	for _, bad := range []string{"postmaster@bounces.example.org", "someone@example.org", "bounce+" + jana + ".0123456789abcdef0123@bounces.example.org"} {
		var se *smtp.SMTPError
		if err := send(bad, "Subject: x\r\n\r\nx\r\n"); !errors.As(err, &se) || se.Code != 550 {
			t.Errorf("mail for %s: %v, want 550", bad, err)
		}
	}
	// A genuine bounce address of a notice this worker's store does not
	// know (yet): 451, so the sender tries again rather than the bounce
	// being lost.
	unknown := notifier.VERPAddress("n-00000000000000000000000000000000", "bounces.example.org", secret)
	if err := send(unknown, "Subject: x\r\n\r\nx\r\n"); !errors.As(err, new(*smtp.SMTPError)) || err.(*smtp.SMTPError).Code != 451 {
		t.Errorf("a bounce for a notice not in the store: %v, want 451", err)
	}
	byRecipient := map[string]string{}
	for _, m := range rec.Messages() {
		byRecipient[m.To[0]] = m.From
	}
	dsn := postfixBounce(t, verp, "jana@example.org", jana, "failed", "5.1.1")
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

	// Emily has no phone: her bounced notice goes on the call list. Tom's
	// mail is only delayed: his notice stays as it was.
	emilyVERP, tomVERP := byRecipient["emily@example.org"], byRecipient["tom@example.org"]
	emily, tom := noticeOfVERP(emilyVERP), noticeOfVERP(tomVERP)
	if err := send(emilyVERP, postfixBounce(t, emilyVERP, "emily@example.org", emily, "failed", "5.1.1")); err != nil {
		t.Fatal(err)
	}
	if err := send(tomVERP, postfixBounce(t, tomVERP, "tom@example.org", tom, "delayed", "4.4.1")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "Emily's bounced notice on the call list", func() bool {
		_, d, _, _ := e.w.DB.NoticeOutcome(ctx, emily)
		return d != nil && d.Outcome == notifier.OutcomeManual
	})
	e.settled()
	waitUntil(t, "the delayed bounce applied", func() bool {
		cons, err := e.conn.JS.Consumer(ctx, engine.StreamFeedback, engine.ConsumerFeedback)
		if err != nil {
			return false
		}
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
	if _, d, _, _ := e.w.DB.NoticeOutcome(ctx, tom); d.Outcome != notifier.OutcomeDelivered || d.Channel != "relay" || d.Revision != 1 {
		t.Errorf("Tom's notice after a delayed bounce: %s via %s, revision %d; want delivered via the relay, unrevised", d.Outcome, d.Channel, d.Revision)
	}
}

// serveBounces starts the worker's bounce listener, which must be one,
// until the test ends, and returns its address.
func serveBounces(t *testing.T, e *env) string {
	t.Helper()
	addrs, stop, err := ServeBounces(e.cfg, e.w, e.conn, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	if len(addrs) != 1 {
		t.Fatalf("bounce listeners on %v, want one", addrs)
	}
	return addrs[0]
}

// postfixBounce is the delivery status notification Postfix writes when a
// receiving server refuses the notice's recipient, mailed to the notice's
// bounce address, with the action and status given.
func postfixBounce(t *testing.T, verp, recipient, noticeID, action, status string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "postfix-bounce.eml"))
	if err != nil {
		t.Fatal(err)
	}
	dsn := strings.NewReplacer("VERP_ADDRESS", verp, "RECIPIENT", recipient, "NOTICE_ID", noticeID,
		"Action: failed", "Action: "+action, "Status: 5.1.1", "Status: "+status).Replace(string(b))
	return strings.ReplaceAll(dsn, "\n", "\r\n")
}

// noticeOfVERP is the notice a bounce address names.
func noticeOfVERP(addr string) string {
	return strings.SplitN(strings.TrimPrefix(addr, "bounce+"), ".", 2)[0]
}

// TestAutoRepliesAreNoBounces: an out-of-office reply mailed to a notice's
// bounce address, whatever marks it as automatic, is taken and ignored; a
// bounce stays a bounce, even one a mail server marks auto-replied.
func TestAutoRepliesAreNoBounces(t *testing.T) {
	ooo := "From: Jana <jana@example.org>\r\nTo: x\r\n"
	for _, tc := range []struct {
		name, mail string
		auto       bool
	}{
		{"Auto-Submitted", ooo + "Auto-Submitted: auto-replied (vacation)\r\nSubject: Re: Ihr Termin\r\n\r\nIch bin bis Montag nicht im Haus.\r\n", true},
		{"Precedence auto_reply", ooo + "Precedence: auto_reply\r\nSubject: Re: Ihr Termin\r\n\r\naway\r\n", true},
		{"Precedence bulk", ooo + "Precedence: bulk\r\nSubject: Re: Ihr Termin\r\n\r\naway\r\n", true},
		{"X-Autoreply", ooo + "X-Autoreply: yes\r\nSubject: Re: Ihr Termin\r\n\r\naway\r\n", true},
		{"subject only", ooo + "Subject: Out of Office: Ihr Termin\r\n\r\naway\r\n", true},
		{"encoded subject only", ooo + "Subject: =?UTF-8?Q?Automatische_Antwort:_Ihr_Termin?=\r\n\r\naway\r\n", true},
		{"as HTML", ooo + "Subject: Automatic reply: Ihr Termin\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\naway\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>away</p>\r\n--b--\r\n", true},
		{"a plain bounce", "From: MAILER-DAEMON@mail.example.org\r\nSubject: failure notice\r\n\r\nSorry, no mailbox here by that name.\r\n", false},
		{"a plain bounce marked auto-replied", "From: Mail Delivery System <MAILER-DAEMON@mail.example.org>\r\nAuto-Submitted: auto-replied\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nuser unknown\r\n", false},
		{"a reply", ooo + "Subject: Re: Ihr Termin\r\n\r\nDanke\r\n", false},
		{"Postfix's DSN", postfixBounce(t, "bounce+n-1.x@b.example.org", "jana@example.org", "n-1", "failed", "5.1.1"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			action, status, _, auto := readDSN(strings.NewReader(tc.mail))
			if auto != tc.auto {
				t.Errorf("auto-reply %v, want %v (action %s, status %s)", auto, tc.auto, action, status)
			}
		})
	}

	e, rec, _ := bounceEnv(t, func(b *config.Bounces) { b.Domain, b.Addr = "bounces.example.org", "127.0.0.1:0" })
	addr := serveBounces(t, e)
	e.importCSV(smsFixture)
	e.declare(sampleOutage(t, "evt-1"))
	var verp string
	for _, m := range rec.Messages() {
		if m.To[0] == "jana@example.org" {
			verp = m.From
		}
	}
	reply := "From: Jana <jana@example.org>\r\nTo: " + verp + "\r\nAuto-Submitted: auto-replied\r\nSubject: Abwesenheitsnotiz\r\n\r\nIch bin nicht im Haus.\r\n"
	if err := relay.Send(addr, "", []string{verp}, reply); err != nil {
		t.Fatalf("the out-of-office reply: %v, want it taken", err)
	}
	e.settled()
	if n := len(streamMsgs(t, e.conn.JS, engine.StreamFeedback)); n != 0 {
		t.Errorf("%d feedback messages, want none for an auto-reply", n)
	}
	jana := noticeOfVERP(verp)
	if _, d, _, _ := e.w.DB.NoticeOutcome(context.Background(), jana); d.Channel != "relay" || d.Revision != 1 {
		t.Errorf("Jana's notice after an auto-reply: via %s, revision %d; want via the relay, unrevised", d.Channel, d.Revision)
	}
}

// TestBounceListenerCapsConnections: the bounce listener serves at most
// maxBounceConns connections at once; one more waits for its greeting until
// another closes.
func TestBounceListenerCapsConnections(t *testing.T) {
	e, _, _ := bounceEnv(t, func(b *config.Bounces) { b.Domain, b.Addr = "bounces.example.org", "127.0.0.1:0" })
	addr := serveBounces(t, e)
	greeted := func(c net.Conn, within time.Duration) bool {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(within))
		line, err := bufio.NewReader(c).ReadString('\n')
		return err == nil && strings.HasPrefix(line, "220")
	}
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var held []net.Conn
	for range maxBounceConns {
		c := dial()
		if !greeted(c, 5*time.Second) {
			t.Fatalf("connection %d not greeted", len(held)+1)
		}
		held = append(held, c)
	}
	extra := dial()
	if greeted(extra, 300*time.Millisecond) {
		t.Fatalf("connection %d greeted, want it to wait", maxBounceConns+1)
	}
	held[0].Close()
	if !greeted(extra, 5*time.Second) {
		t.Error("the waiting connection was not greeted once another closed")
	}
}

// TestFacilityBounces: a facility with bounces of its own sends its
// e-mails from its own bounce domain, with addresses made with its own
// secret, which the listener takes and the global secret cannot forge; a
// bounce posted for its notices must be signed with its secret.
func TestFacilityBounces(t *testing.T) {
	e := newEnv(t)
	gw := e.startGateway(accept)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()), gw.channel(t, "sms"))
	global, own := []byte("bounce-secret-of-some-length"), []byte("kln-bounce-secret-of-some-length")
	globalFile, ownFile := filepath.Join(t.TempDir(), "bounce-secret"), filepath.Join(t.TempDir(), "kln-bounce-secret")
	for file, secret := range map[string][]byte{globalFile: global, ownFile: own} {
		if err := os.WriteFile(file, secret, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.cfg.Bounces = config.Bounces{Domain: "bounces.example.org", Addr: "127.0.0.1:0", SecretFile: globalFile}
	kln := e.cfg.Facilities["ukd"]
	kln.Name, kln.ShortName = "Klinik Nord", "KLN"
	kln.Bounces = &config.Bounces{Domain: "bounces.kln.example.org", SecretFile: ownFile}
	e.cfg.Facilities["kln"] = kln
	if err := e.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e.startWorker()
	addr := serveBounces(t, e)
	loc, _ := time.LoadLocation("Europe/Berlin")
	rows, err := importer.NewCSV(strings.NewReader("id,department,start,status,kind,patient_id,patient_name,language,email,phone\n"+
		"K-1,cardiology,2020-10-22T09:00:00+02:00,booked,outpatient,Q-1,Karl Nord,de,karl@example.org,+49 211 5550199\n"), "kln", loc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Import(context.Background(), e.conn.JS, rows, func(_ int, err error) { t.Errorf("row rejected: %v", err) }, nil); err != nil {
		t.Fatal(err)
	}
	e.importCSV(smsFixture)
	ev, err := BuildEvent(EventOptions{Facility: "kln", OutageID: "kln-it", EventID: "evt-kln", Source: "/scheduling/kln",
		From: time.Date(2020, 10, 21, 0, 0, 0, 0, loc), Until: time.Date(2020, 10, 28, 0, 0, 0, 0, loc), Departments: []string{"*"},
		Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	e.declare(ev)
	e.declare(sampleOutage(t, "evt-1"))

	from := map[string]string{}
	for _, m := range rec.Messages() {
		from[m.To[0]] = m.From
	}
	karl, jana := from["karl@example.org"], from["jana@example.org"]
	if !strings.HasSuffix(karl, "@bounces.kln.example.org") || !strings.HasSuffix(jana, "@bounces.example.org") {
		t.Fatalf("envelope senders %q (kln) and %q (ukd), want each facility's bounce domain", karl, jana)
	}
	karlID := noticeOfVERP(karl)
	forged := notifier.VERPAddress(karlID, "bounces.kln.example.org", global)
	var se *smtp.SMTPError
	if err := relay.Send(addr, "", []string{forged}, "Subject: x\r\n\r\nx\r\n"); !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("a kln bounce address made with the global secret: %v, want 550", err)
	}

	h := e.handler()
	post := func(key []byte) int {
		body := `{"notice_id":"` + karlID + `","status":"5.1.1","action":"failed"}`
		req := httptest.NewRequest(http.MethodPost, BouncePath, strings.NewReader(body))
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(key, time.Now(), []byte(body)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if code := post(global); code != http.StatusForbidden {
		t.Errorf("a bounce of a kln notice signed with the global secret: %d, want 403", code)
	}
	if err := relay.Send(addr, "", []string{karl}, postfixBounce(t, karl, "karl@example.org", karlID, "failed", "5.1.1")); err != nil {
		t.Fatalf("Karl's DSN: %v", err)
	}
	waitUntil(t, "Karl's notice bounced and sent on by SMS", func() bool {
		_, d, _, _ := e.w.DB.NoticeOutcome(context.Background(), karlID)
		return d != nil && d.Channel == "sms"
	})
	if code := post(own); code != http.StatusAccepted {
		t.Errorf("a bounce of a kln notice signed with its own secret: %d, want 202", code)
	}
}
