package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
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
	secret := e.bounceSecret()
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()), gw.channel(t, "sms"))
	if smsFirst {
		e.cfg.Channels[0], e.cfg.Channels[1] = e.cfg.Channels[1], e.cfg.Channels[0]
	}
	e.startWorker()
	return &feedbackEnv{env: e, h: e.handler(), bounceSecret: secret, gw: gw, rec: rec}
}

// bounceSecret makes the worker to be started take bounces signed with the
// secret it returns.
func (e *env) bounceSecret() []byte {
	e.t.Helper()
	secret := []byte("bounce-secret-of-some-length")
	e.cfg.Bounces.SecretFile = filepath.Join(e.t.TempDir(), "bounce-secret")
	if err := os.WriteFile(e.cfg.Bounces.SecretFile, secret, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return secret
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

// TestBounceOfAnUrgentNoticeTheSMSTook: an urgent notice goes out by
// e-mail and SMS at once and counts delivered by the SMS, which accepted
// it first; the e-mail then bounces. The bounce enters the trail and the
// figure of notices failed after acceptance, and the notice stays
// delivered by SMS: nothing is sent again.
func TestBounceOfAnUrgentNoticeTheSMSTook(t *testing.T) {
	e := newEnv(t)
	gw := e.startGateway(accept)
	rec := e.startRelay(relay.Options{Data: func([]string, []byte) error {
		time.Sleep(300 * time.Millisecond) // the SMS gateway answers first
		return nil
	}})
	secret := e.bounceSecret()
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()), gw.channel(t, "sms"))
	e.startWorker()
	fe := &feedbackEnv{env: e, h: e.handler(), bounceSecret: secret, gw: gw, rec: rec}
	now := time.Now().Truncate(time.Minute)
	e.importCSV("id,department,start,status,kind,patient_id,patient_name,language,email,phone\n" +
		"A-1,cardiology," + now.Add(3*time.Hour).Format(time.RFC3339) + ",booked,outpatient,P-1,Jana Müller,de,jana@example.org,+49 211 5550101\n")
	ev, err := BuildEvent(EventOptions{Facility: "ukd", OutageID: "ukd-now", EventID: "evt-now", Source: "/scheduling/ukd",
		From: now.Add(-time.Hour), Until: now.Add(24 * time.Hour), Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	e.declare(ev)
	jana := fe.janasNotice()
	waitUntil(t, "both channels took the notice", func() bool { return len(rec.Messages()) == 1 && len(gw.sent()) == 1 })
	d := fe.outcome(jana)
	if d.Channel != "sms" {
		t.Fatalf("the urgent notice delivered via %s, want via the SMS, which answered first; trail %+v", d.Channel, d.Trail)
	}
	fe.bounce(jana)
	waitUntil(t, "the bounce in the trail", func() bool { return fe.outcome(jana).Revision == 2 })
	d = fe.outcome(jana)
	if d.Outcome != notifier.OutcomeDelivered || d.Channel != "sms" {
		t.Errorf("after the e-mail bounced: %s via %s, want still delivered via the SMS", d.Outcome, d.Channel)
	}
	if last := d.Trail[len(d.Trail)-1]; last.Channel != "relay" || last.Result != notifier.ResultBounced {
		t.Errorf("last attempt %+v, want the e-mail bounced", last)
	}
	s, err := e.w.DB.Summarize(context.Background(), ev.Outage.OutageID)
	if err != nil || s.FailedAfterAccept != 1 || s.Delivered != 1 {
		t.Errorf("summary %+v, %v; want one delivered, one failed after acceptance", s, err)
	}
	e.settled()
	if len(rec.Messages()) != 1 || len(gw.sent()) != 1 {
		t.Errorf("%d e-mails and %d SMS, want the notice sent once on each", len(rec.Messages()), len(gw.sent()))
	}
}

// TestTwoReportsForOneNoticeAtOnce: a bounce and the patient's
// confirmation of one notice arrive together and are handled at the same
// time. Each revises the notice once, one after the other: the last
// revision holds both, and the notice is sent on by SMS once.
func TestTwoReportsForOneNoticeAtOnce(t *testing.T) {
	e := newFeedbackEnv(t, false)
	e.importCSV(smsFixture)
	e.declare(sampleOutage(t, "evt-1"))
	jana := e.janasNotice()
	ctx := context.Background()
	bounce := notifier.NewFeedback(notifier.FeedbackBounce, jana, "ukd", "relay", "5.1.1", "", time.Now())
	bounce.Action = notifier.BounceFailed
	confirmed := engine.ConfirmationFeedback(jana, "ukd", time.Now())
	for _, f := range []*notifier.Feedback{bounce, confirmed} {
		if err := engine.PublishFeedback(ctx, e.conn.JS, f); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "both reports applied", func() bool { return e.outcome(jana).Revision >= 3 })
	waitUntil(t, "no report left", func() bool { return feedbackDone(t, e.env) })
	d := e.outcome(jana)
	bounced := slices.ContainsFunc(d.Trail, func(a notifier.Attempt) bool { return a.Result == notifier.ResultBounced })
	if d.Revision != 3 || !d.Confirmed() || !bounced {
		t.Errorf("revision %d, confirmed %v, bounced %v; want revision 3 with both reports; trail %+v", d.Revision, d.Confirmed(), bounced, d.Trail)
	}
	if d.Outcome != notifier.OutcomeDelivered || d.Channel != "sms" {
		t.Errorf("%s via %s, want delivered via the SMS", d.Outcome, d.Channel)
	}
	if n := len(e.gw.sent()); n != 1 {
		t.Errorf("%d SMS, want Jana's notice sent on once", n)
	}
}

// feedbackDone reports whether the feedback consumer has nothing pending.
func feedbackDone(t *testing.T, e *env) bool {
	t.Helper()
	cons, err := e.conn.JS.Consumer(context.Background(), engine.StreamFeedback, engine.ConsumerFeedback)
	if err != nil {
		return false
	}
	info, err := cons.Info(context.Background())
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0
}

// TestFeedbackWaitsForTheStore: another worker revised a notice (its
// e-mail bounced, it went on by SMS) and the carrier's report that this
// SMS failed follows at once. The worker applying the report waits until
// its store has that revision instead of reading the outcome before it and
// dropping the report as changing nothing: the notice goes on the call
// list.
func TestFeedbackWaitsForTheStore(t *testing.T) {
	e := newFeedbackEnv(t, false)
	e.importCSV(smsFixture)
	e.declare(sampleOutage(t, "evt-1"))
	jana := e.janasNotice()
	ctx := context.Background()
	d := e.outcome(jana)
	at := time.Now().UTC()
	rev := *d
	rev.Revision, rev.Channel, rev.At = 2, "sms", at
	rev.Trail = append(slices.Clone(d.Trail),
		notifier.Attempt{Channel: "relay", At: at, Result: notifier.ResultBounced, Enhanced: "5.1.1", Reason: "bounced"},
		notifier.Attempt{Channel: "sms", At: at, Result: notifier.ResultAccepted})
	data, err := notifier.EncodeJSON(&rev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.conn.JS.Publish(ctx, engine.SubjectDeliveries+".ukd", data); err != nil {
		t.Fatal(err)
	}
	failed := notifier.NewFeedback(notifier.FeedbackSMSStatus, jana, "ukd", "sms", notifier.SMSUndeliverable, "30003", time.Now())
	if err := engine.PublishFeedback(ctx, e.conn.JS, failed); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the report applied", func() bool { return e.outcome(jana).Revision >= 3 })
	d = e.outcome(jana)
	if d.Revision != 3 || d.Outcome != notifier.OutcomeManual || d.Channel != engine.ChannelCallList {
		t.Errorf("revision %d, %s via %s; want revision 3, manual on the call list; trail %+v", d.Revision, d.Outcome, d.Channel, d.Trail)
	}
}

// TestBounceOfABadAddressSkipsTheOtherRelays: a hard bounce saying the
// mailbox does not exist (5.1.1) rules the address out on every e-mail relay,
// as that refusal does while sending: the notice goes on to SMS. A bounce for
// another reason (5.7.1, refused by policy) goes on to the next relay.
func TestBounceOfABadAddressSkipsTheOtherRelays(t *testing.T) {
	for _, tc := range []struct {
		status, next string
	}{
		{"5.1.1", "sms"},
		{"5.7.1", "relay-2"},
	} {
		t.Run(tc.status, func(t *testing.T) {
			e := newEnv(t)
			gw := e.startGateway(accept)
			first, second := e.startRelay(relay.Options{}), e.startRelay(relay.Options{})
			secret := e.bounceSecret()
			e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay-1", first.Addr()),
				smtpChannel("relay-2", second.Addr()), gw.channel(t, "sms"))
			e.startWorker()
			fe := &feedbackEnv{env: e, h: e.handler(), bounceSecret: secret, gw: gw, rec: first}
			e.importCSV(smsFixture)
			e.declare(sampleOutage(t, "evt-1"))
			jana := fe.janasNotice()
			body := `{"notice_id":"` + jana + `","status":"` + tc.status + `","action":"failed"}`
			if code := fe.post(BouncePath, secret, body); code != http.StatusAccepted {
				t.Fatalf("bounce: %d, want 202", code)
			}
			waitUntil(t, "Jana's notice sent on", func() bool {
				d := fe.outcome(jana)
				return d != nil && d.Revision >= 2
			})
			if d := fe.outcome(jana); d.Outcome != notifier.OutcomeDelivered || d.Channel != tc.next {
				t.Errorf("after a %s bounce: %s via %s, want delivered via %s; trail %+v", tc.status, d.Outcome, d.Channel, tc.next, d.Trail)
			}
			toJana := 0
			for _, m := range parseAll(t, second.Messages()) {
				if m.to == "jana@example.org" {
					toJana++
				}
			}
			if want := map[string]int{"sms": 0, "relay-2": 1}[tc.next]; toJana != want {
				t.Errorf("the second relay got %d messages to Jana, want %d", toJana, want)
			}
		})
	}
}
