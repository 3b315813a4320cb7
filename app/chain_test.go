package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/channel/webhook"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// gateway is an SMS gateway in the test: it checks each request's
// signature, records it, and answers as reply says.
type gateway struct {
	srv      *httptest.Server
	secret   []byte
	mu       sync.Mutex
	requests []webhook.Payload
}

func (e *env) startGateway(reply func(n int, p webhook.Payload) (int, http.Header)) *gateway {
	e.t.Helper()
	g := &gateway{secret: []byte("a-secret-of-sufficient-length")}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(g.secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			e.t.Errorf("gateway got a badly signed request: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			e.t.Errorf("gateway got %q: %v", body, err)
		}
		g.mu.Lock()
		g.requests = append(g.requests, p)
		n := len(g.requests)
		g.mu.Unlock()
		status, h := reply(n, p)
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
	}))
	e.t.Cleanup(g.srv.Close)
	return g
}

// channel is the gateway as a configured webhook channel.
func (g *gateway) channel(t *testing.T, name string) config.Channel {
	t.Helper()
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, append(g.secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.Channel{Name: name, Type: config.TypeWebhook, URL: g.srv.URL, SecretFile: file,
		Timeout: 300 * time.Millisecond, Retry: config.Retry{Attempts: 3, Backoff: 10 * time.Millisecond, Budget: 5 * time.Second}}
}

func (g *gateway) sent() []webhook.Payload {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]webhook.Payload(nil), g.requests...)
}

func accept(int, webhook.Payload) (int, http.Header) { return http.StatusAccepted, nil }

const smsFixture = `id,department,start,status,kind,patient_id,patient_name,language,email,phone
A-1,cardiology,2020-10-22T09:00:00+02:00,booked,outpatient,P-1,Jana Müller,de,jana@example.org,+49 211 5550101
A-2,cardiology,2020-10-22T10:00:00+02:00,booked,outpatient,P-2,Emily Clarke,en,emily@example.org,
A-3,cardiology,2020-10-22T11:00:00+02:00,booked,outpatient,P-3,Ayşe Yılmaz,tr,ayse@example.org,0211 5550103
A-4,cardiology,2020-10-22T12:00:00+02:00,booked,outpatient,P-4,Tom Baker,en,tom@example.org,
`

// TestBadMailboxFallsThroughToSMSThenCallList: a recipient refused with
// 550 5.1.1 is not tried on another e-mail relay but by SMS; without a
// phone number the notice goes to the call list. 5.7.1 goes to the next
// relay.
func TestBadMailboxFallsThroughToSMSThenCallList(t *testing.T) {
	e := newEnv(t)
	first := e.startRelay(relay.Options{Rcpt: func(to string) error {
		switch to {
		case "jana@example.org", "emily@example.org":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case "ayse@example.org":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relaying denied"}
		}
		return nil
	}})
	second := e.startRelay(relay.Options{})
	sms := e.startGateway(accept)
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("hospital-relay", first.Addr()),
		smtpChannel("external-relay", second.Addr()), sms.channel(t, "sms"))
	e.startWorker()
	e.importCSV(smsFixture)
	ev := sampleOutage(t, "evt-1")
	s := e.declare(ev)
	if s.Delivered != 3 || s.Manual != 1 || s.ByChannel["sms"] != 1 || s.ByChannel["external-relay"] != 1 || s.ByChannel["hospital-relay"] != 1 {
		t.Errorf("summary %+v, want tom by the hospital relay, ayşe by the external relay, jana by SMS, emily on the call list", s)
	}
	for _, m := range second.Messages() {
		if m.To[0] != "ayse@example.org" {
			t.Errorf("the external relay was asked for %s, whose mailbox the first relay called bad", m.To[0])
		}
	}
	if got := sms.sent(); len(got) != 1 || got[0].To != "+492115550101" || got[0].Language != "de" || got[0].Text == "" {
		t.Errorf("SMS requests %+v, want one for Jana in E.164", got)
	}
	// Emily has no phone: the call list, with every reason.
	var list []byte
	waitUntil(t, "the call list is written", func() bool {
		list, _ = os.ReadFile(filepath.Join(e.dir, "calllist", ev.Outage.OutageID+".csv"))
		return strings.Contains(string(list), "P-2")
	})
	for _, want := range []string{"Emily Clarke", "5.1.1", "patient has no phone number"} {
		if !strings.Contains(string(list), want) {
			t.Errorf("call list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(string(list), "P-1") {
		t.Errorf("call list has Jana, whom the SMS reached:\n%s", list)
	}
}

// TestSMSGatewayRetryAfter: a gateway answering 429 with Retry-After: 1 is
// waited for, and the notice is delivered; none reaches the call list.
func TestSMSGatewayRetryAfter(t *testing.T) {
	e := newEnv(t)
	seen := map[string]bool{}
	var mu sync.Mutex
	sms := e.startGateway(func(_ int, p webhook.Payload) (int, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		if !seen[p.NoticeID] {
			seen[p.NoticeID] = true
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}
		}
		return http.StatusOK, nil
	})
	e.cfg.Channels = append(e.cfg.Channels[:0], sms.channel(t, "sms"))
	e.startWorker()
	e.importCSV(strings.NewReplacer("jana@example.org", "", "ayse@example.org", "").Replace(smsFixture))
	start := time.Now()
	s := e.declare(sampleOutage(t, "evt-1"))
	if s.Delivered != 2 || s.ByChannel["sms"] != 2 {
		t.Errorf("summary %+v, want Jana and Ayşe delivered by SMS", s)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("took %v: the gateway's Retry-After of 1s was not honoured", took)
	}
	if n := len(sms.sent()); n != 4 {
		t.Errorf("%d requests, want 2 per notice", n)
	}
}

// TestUrgentNoticeReachesTheCallListByTheDeadline: an appointment in a few
// hours whose e-mail relay and SMS gateway both hang is on the call list
// within the urgent deadline, with the reasons.
func TestUrgentNoticeReachesTheCallListByTheDeadline(t *testing.T) {
	e := newEnv(t)
	hang := e.startGateway(func(int, webhook.Payload) (int, http.Header) {
		time.Sleep(time.Second)
		return http.StatusOK, nil
	})
	mail := smtpChannel("relay", silentAddr(t))
	mail.Retry = config.Retry{Attempts: 1000, Backoff: 10 * time.Millisecond, Budget: time.Hour}
	sms := hang.channel(t, "sms")
	sms.Retry = mail.Retry
	e.cfg.Channels = append(e.cfg.Channels[:0], mail, sms)
	e.cfg.Dispatch.UrgentDeadline = 1500 * time.Millisecond
	e.startWorker()

	soon := time.Now().Add(3 * time.Hour).Truncate(time.Minute)
	e.importCSV(fmt.Sprintf("id,start,patient_id,patient_name,email,phone\nA-1,%s,P-1,Jana Müller,jana@example.org,+49 211 5550101\n",
		soon.Format(time.RFC3339)))
	ev, err := BuildEvent(EventOptions{Facility: "ukd", OutageID: "urgent", EventID: "evt-u", From: time.Now().Add(-time.Hour),
		Until: time.Now().Add(24 * time.Hour), Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s := e.declare(ev)
	took := time.Since(start)
	if s.Manual != 1 {
		t.Fatalf("summary %+v, want the urgent notice on the call list", s)
	}
	if took > e.cfg.Dispatch.UrgentDeadline+time.Second {
		t.Errorf("on the call list after %v, want within the deadline of %v", took, e.cfg.Dispatch.UrgentDeadline)
	}
	manual, err := e.w.DB.ManualNotices(context.Background(), "urgent")
	if err != nil || len(manual) != 1 {
		t.Fatalf("manual notices %v, %v", manual, err)
	}
	trail := fmt.Sprint(manual[0].Trail)
	for _, want := range []string{"relay", "sms", "deadline"} {
		if !strings.Contains(trail, want) {
			t.Errorf("trail %s lacks %q", trail, want)
		}
	}
}

// TestUrgentNoticesGoFirst: a notice for an appointment in a few hours,
// planned while a backlog of later appointments is being sent, is
// delivered before that backlog is through.
func TestUrgentNoticesGoFirst(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{Data: func([]string, []byte) error {
		time.Sleep(5 * time.Millisecond)
		return nil
	}})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.startWorker()
	// The backlog: 400 appointments in three weeks.
	later := time.Now().Add(21 * 24 * time.Hour).Truncate(time.Hour)
	var b strings.Builder
	b.WriteString("id,start,patient_id,email\n")
	for i := range 400 {
		fmt.Fprintf(&b, "B-%d,%s,P-%d,p%d@example.org\n", i, later.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i, i)
	}
	soon := time.Now().Add(3 * time.Hour).Truncate(time.Minute)
	fmt.Fprintf(&b, "U-1,%s,P-urgent,urgent@example.org\n", soon.Format(time.RFC3339))
	e.importCSV(b.String())

	backlog, err := BuildEvent(EventOptions{Facility: "ukd", OutageID: "later", EventID: "e-later", From: later.Add(-time.Hour),
		Until: later.Add(24 * time.Hour), Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	urgent, err := BuildEvent(EventOptions{Facility: "ukd", OutageID: "soon", EventID: "e-soon", From: soon.Add(-time.Hour),
		Until: soon.Add(time.Hour), Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.PublishEvent(context.Background(), e.conn.JS, backlog); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the backlog is being sent", func() bool { return len(rec.Messages()) > 20 })
	if err := engine.PublishEvent(context.Background(), e.conn.JS, urgent); err != nil {
		t.Fatal(err)
	}
	e.waitFor(urgent)
	s, _ := e.w.DB.Summarize(context.Background(), "later")
	t.Logf("urgent notice delivered while %d of %d backlog notices were still pending", s.Pending, s.Planned)
	if s.Pending == 0 {
		t.Errorf("the urgent notice waited for the whole backlog")
	}
	e.waitFor(backlog)
}

// TestRelaySilentAfterData: a relay that reads the whole message and then
// never answers may deliver it. The notice is not sent there again (it
// could arrive twice); it goes on to the call list, whose reasons say the
// patient may have the message.
func TestRelaySilentAfterData(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var calls atomic.Int64
	silent := e.startRelay(relay.Options{Data: func([]string, []byte) error {
		calls.Add(1)
		<-release
		return nil
	}})
	ch := smtpChannel("relay", silent.Addr())
	ch.CommandTimeout = 300 * time.Millisecond
	e.cfg.Channels = append(e.cfg.Channels[:0], ch)
	e.startWorker()
	e.importCSV(fixture)
	ev := sampleOutage(t, "evt-1")
	s := e.declare(ev)
	if s.Delivered != 0 || s.Manual == 0 {
		t.Fatalf("summary %+v, want every notice on the call list", s)
	}
	manual, err := e.w.DB.ManualNotices(context.Background(), ev.Outage.OutageID)
	if err != nil {
		t.Fatal(err)
	}
	unconfirmed := 0
	for _, m := range manual {
		for _, a := range m.Trail {
			if a.Result == notifier.ResultUnconfirmed && strings.Contains(a.Reason, "sent, unconfirmed") {
				unconfirmed++
			}
		}
	}
	if unconfirmed == 0 || int64(unconfirmed) != calls.Load() {
		t.Errorf("%d unconfirmed attempts for %d messages the relay read, want one each and at least one", unconfirmed, calls.Load())
	}
}
