package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/channel/webhook"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// feedbackEnv is a running worker with an e-mail relay and an SMS gateway,
// in the order given ("relay" or "sms" first), that takes bounces signed
// with the returned bounce secret and receipts signed with the gateway's.
type feedbackEnv struct {
	*env
	h            http.Handler
	bounceSecret []byte
	gw           *gateway
	rec          *relay.Relay
}

func newFeedbackEnv(t *testing.T, smsFirst bool) *feedbackEnv {
	t.Helper()
	e := newEnv(t)
	gw := e.startGateway(accept)
	rec := e.startRelay(relay.Options{})
	secret := []byte("bounce-secret-of-some-length")
	e.cfg.Bounces.SecretFile = filepath.Join(t.TempDir(), "bounce-secret")
	if err := os.WriteFile(e.cfg.Bounces.SecretFile, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()), gw.channel(t, "sms"))
	if smsFirst {
		e.cfg.Channels[0], e.cfg.Channels[1] = e.cfg.Channels[1], e.cfg.Channels[0]
	}
	e.startWorker()
	return &feedbackEnv{env: e, h: e.handler(), bounceSecret: secret, gw: gw, rec: rec}
}

// post posts a signed body to a hook and returns the status code.
func (e *feedbackEnv) post(path string, secret []byte, body string) int {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, time.Now(), []byte(body)))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w.Code
}

// bounce posts a hard bounce of the notice's e-mail.
func (e *feedbackEnv) bounce(id string) {
	e.t.Helper()
	if code := e.post(BouncePath, e.bounceSecret, `{"notice_id":"`+id+`","status":"5.1.1","action":"failed"}`); code != http.StatusAccepted {
		e.t.Fatalf("hard bounce: %d, want 202", code)
	}
}

// smsFailed posts the carrier's receipt that the notice's SMS failed.
func (e *feedbackEnv) smsFailed(id string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"notice_id":%q,"status":"undeliverable","code":"30003","at":"2020-10-21T08:00:00Z"}`, id)
	if code := e.post(SMSStatusPath, e.gw.secret, body); code != http.StatusAccepted {
		e.t.Fatalf("SMS receipt: %d, want 202", code)
	}
}

// outcome is the notice's current outcome in the worker's store.
func (e *feedbackEnv) outcome(id string) *notifier.Delivery {
	e.t.Helper()
	_, d, _, err := e.w.DB.NoticeOutcome(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// janasNotice is the notice to Jana, who has an e-mail address and a phone.
func (e *feedbackEnv) janasNotice() string {
	e.t.Helper()
	for _, m := range parseAll(e.t, e.rec.Messages()) {
		if m.to == "jana@example.org" {
			id, _ := m.header.MessageID()
			return strings.SplitN(id, "@", 2)[0]
		}
	}
	for _, p := range e.gw.sent() {
		if p.To == "+492115550101" {
			return p.NoticeID
		}
	}
	e.t.Fatal("nothing sent to Jana")
	return ""
}

// TestFailedChannelsNeverCountAsDelivered: a patient whose e-mail bounces
// and whose SMS the carrier then reports failed (or the other way round)
// was reached by neither: the notice ends on the call list, not as
// delivered by the channel that failed first.
func TestFailedChannelsNeverCountAsDelivered(t *testing.T) {
	for _, tc := range []struct {
		name     string
		smsFirst bool
	}{
		{"bounce, then the SMS fails", false},
		{"the SMS fails, then a bounce", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFeedbackEnv(t, tc.smsFirst)
			e.importCSV(smsFixture)
			ev := sampleOutage(t, "evt-1")
			e.declare(ev)
			jana := e.janasNotice()
			first, second, next := e.bounce, e.smsFailed, "sms"
			if tc.smsFirst {
				first, second, next = e.smsFailed, e.bounce, "relay"
			}
			first(jana)
			waitUntil(t, "Jana's notice sent on by "+next, func() bool {
				d := e.outcome(jana)
				return d != nil && d.Channel == next && d.Outcome == notifier.OutcomeDelivered
			})
			second(jana)
			waitUntil(t, "Jana's notice revised again", func() bool {
				d := e.outcome(jana)
				return d != nil && d.Revision >= 3
			})
			d := e.outcome(jana)
			if d.Outcome != notifier.OutcomeManual || d.Channel != engine.ChannelCallList {
				t.Errorf("after both channels failed: %s via %s, want manual on the call list; trail %+v", d.Outcome, d.Channel, d.Trail)
			}
			var list []byte
			waitUntil(t, "Jana on the call list", func() bool {
				list, _ = os.ReadFile(filepath.Join(e.dir, "calllist", ev.Outage.OutageID+".csv"))
				return strings.Contains(string(list), "P-1")
			})
		})
	}
}
