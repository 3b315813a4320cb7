package app

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/channel/webhook"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// TestSMSReceipts: an SMS the gateway accepted and the carrier then could
// not deliver is not counted as delivered: the notice goes on to the next
// channel (e-mail here) and its outcome is revised; a "delivered" receipt
// confirms the SMS attempt; the same receipt twice counts once; receipts
// without the channel's signature, or for unknown notices, are refused.
func TestSMSReceipts(t *testing.T) {
	e := newEnv(t)
	gw := e.startGateway(accept)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], gw.channel(t, "sms"), smtpChannel("relay", rec.Addr()))
	e.startWorker()
	h := e.handler()
	e.importCSV(smsFixture)
	ev := sampleOutage(t, "evt-1")
	e.declare(ev)
	ctx := context.Background()

	byPhone := map[string]string{}
	for _, p := range gw.sent() {
		byPhone[p.To] = p.NoticeID
	}
	jana, ayse := byPhone["+492115550101"], byPhone["+492115550103"]
	if jana == "" || ayse == "" || len(rec.Messages()) != 2 {
		t.Fatalf("SMS to %v and %d e-mails; want SMS for Jana and Ayşe, e-mail for the two without a phone", byPhone, len(rec.Messages()))
	}
	var retryAfter string
	post := func(secret []byte, body string) int {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, SMSStatusPath, strings.NewReader(body))
		if secret != nil {
			req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, time.Now(), []byte(body)))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		retryAfter = w.Header().Get("Retry-After")
		return w.Code
	}
	receipt := func(id, status string) string {
		return fmt.Sprintf(`{"notice_id":%q,"status":%q,"code":"30003","at":"2020-10-21T08:00:00Z"}`, id, status)
	}
	if code := post(nil, receipt(jana, "undeliverable")); code != http.StatusUnauthorized {
		t.Errorf("an unsigned receipt: %d, want 401", code)
	}
	if code := post([]byte("another secret, not the channel's"), receipt(jana, "undeliverable")); code != http.StatusUnauthorized {
		t.Errorf("a receipt signed with another secret: %d, want 401", code)
	}
	// A genuine receipt for a notice this worker's store does not know
	// (yet): the gateway is asked to send it again later.
	if code := post(gw.secret, receipt("n-00000000000000000000000000000000", "failed")); code != http.StatusServiceUnavailable || retryAfter == "" {
		t.Errorf("a receipt for a notice not known here: %d, Retry-After %q; want 503 with Retry-After", code, retryAfter)
	}
	if code := post(gw.secret, `{"notice_id":"`+jana+`","status":"maybe"}`); code != http.StatusBadRequest {
		t.Errorf("a receipt with an unknown status: %d, want 400", code)
	}
	for range 2 { // the same receipt twice counts once
		if code := post(gw.secret, receipt(jana, "undeliverable")); code != http.StatusAccepted {
			t.Fatalf("receipt: %d, want 202", code)
		}
	}
	if code := post(gw.secret, receipt(ayse, "delivered")); code != http.StatusAccepted {
		t.Fatalf("receipt: %d, want 202", code)
	}

	waitUntil(t, "Jana's notice sent on by e-mail", func() bool {
		trail, _ := e.w.DB.Trail(ctx, jana)
		return len(trail) > 0 && trail[len(trail)-1].Channel == "relay" && trail[len(trail)-1].Result == notifier.ResultAccepted
	})
	waitUntil(t, "Ayşe's SMS confirmed", func() bool {
		trail, _ := e.w.DB.Trail(ctx, ayse)
		return len(trail) > 0 && trail[len(trail)-1].Result == notifier.ResultConfirmed
	})
	e.settled()
	_, d, _, _ := e.w.DB.NoticeOutcome(ctx, jana)
	if d.Outcome != notifier.OutcomeDelivered || d.Channel != "relay" {
		t.Errorf("Jana's outcome %s via %s, want delivered via the relay", d.Outcome, d.Channel)
	}
	reported := 0
	for _, a := range d.Trail {
		if a.Result == notifier.ResultReported && strings.Contains(a.Reason, "undeliverable (30003)") {
			reported++
		}
	}
	if reported != 1 {
		t.Errorf("trail %+v: want the SMS reported undeliverable once", d.Trail)
	}
	jana2 := 0
	for _, m := range rec.Messages() {
		if bytes.Contains([]byte(strings.Join(m.To, ",")), []byte("jana@example.org")) {
			jana2++
		}
	}
	if jana2 != 1 {
		t.Errorf("Jana got %d e-mails, want exactly one", jana2)
	}

	// Every feedback and every revised outcome keeps to its schema.
	sc := schemas(t)
	for stream, schema := range map[string]string{engine.StreamFeedback: "feedback", engine.StreamDeliveries: "delivery"} {
		s, err := e.conn.JS.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := s.Info(ctx)
		n := 0
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if err != nil {
				continue
			}
			n++
			if err := validate(t, sc[schema], m.Subject, m.Data); err != nil {
				t.Errorf("%s #%d: %v\n%s", stream, seq, err, m.Data)
			}
		}
		if stream == engine.StreamFeedback && n != 2 {
			t.Errorf("%d feedback messages, want 2 (the repeated receipt stored once)", n)
		}
	}
}

// TestBounces: a hard bounce posted by the mail provider makes the e-mail
// attempt "bounced" and sends the notice on (SMS, else the call list); a
// soft bounce changes nothing; a bounce must be signed with
// bounces.secret_file and may name the notice by its Message-ID.
func TestBounces(t *testing.T) {
	e, rec, secret := bounceEnv(t, func(*config.Bounces) {})
	h := e.handler()
	e.importCSV(smsFixture)
	e.declare(sampleOutage(t, "evt-1"))
	ctx := context.Background()
	ids := map[string]string{}
	for _, m := range parseAll(t, rec.Messages()) {
		id, _ := m.header.MessageID()
		ids[m.to] = id
	}
	post := func(key []byte, body string) int {
		req := httptest.NewRequest(http.MethodPost, BouncePath, strings.NewReader(body))
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(key, time.Now(), []byte(body)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	jana := strings.SplitN(ids["jana@example.org"], "@", 2)[0]
	emily := strings.SplitN(ids["emily@example.org"], "@", 2)[0]
	if code := post([]byte("not the bounce secret at all"), `{"notice_id":"`+jana+`","status":"5.1.1","action":"failed"}`); code != http.StatusUnauthorized {
		t.Errorf("a bounce with another secret: %d, want 401", code)
	}
	if code := post(secret, `{"notice_id":"n-00000000000000000000000000000000","status":"5.1.1","action":"failed"}`); code != http.StatusServiceUnavailable {
		t.Errorf("a bounce for a notice not known here: %d, want 503", code)
	}
	hard := `{"message_id":"<` + ids["jana@example.org"] + `>","recipient":"jana@example.org","status":"5.1.1","action":"failed","reason":"550 5.1.1 <jana@example.org>: user unknown"}`
	if code := post(secret, hard); code != http.StatusAccepted {
		t.Fatalf("hard bounce: %d", code)
	}
	if code := post(secret, `{"notice_id":"`+emily+`","status":"4.2.2","action":"delayed","reason":"mailbox full"}`); code != http.StatusAccepted {
		t.Fatalf("soft bounce: %d", code)
	}
	waitUntil(t, "Jana's notice sent on by SMS", func() bool {
		_, d, _, _ := e.w.DB.NoticeOutcome(ctx, jana)
		return d != nil && d.Channel == "sms"
	})
	e.settled()
	_, d, _, _ := e.w.DB.NoticeOutcome(ctx, jana)
	bounced := false
	for _, a := range d.Trail {
		if a.Result == notifier.ResultBounced && a.Enhanced == "5.1.1" {
			bounced = true
			if strings.Contains(a.Reason, "jana@example.org") {
				t.Errorf("the trail repeats the address: %q", a.Reason)
			}
		}
	}
	if !bounced {
		t.Errorf("trail %+v: want the e-mail attempt bounced", d.Trail)
	}
	if _, d, _, _ := e.w.DB.NoticeOutcome(ctx, emily); d.Channel != "relay" || d.Outcome != notifier.OutcomeDelivered {
		t.Errorf("after a soft bounce: %s via %s, want still delivered via the relay", d.Outcome, d.Channel)
	}
}
