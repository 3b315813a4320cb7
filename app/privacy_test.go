package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/relay"
)

// syncBuffer is a log sink the worker's goroutines can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoPatientDataInLogsMetricsOrErrors runs a whole flow with failures
// of every kind, logging at debug level, and scans the log, the metrics and
// every recorded error for the test patients' names, addresses, phone
// numbers and appointment details.
func TestNoPatientDataInLogsMetricsOrErrors(t *testing.T) {
	e := newEnv(t)
	var logs syncBuffer
	first := e.startRelay(relay.Options{Rcpt: func(to string) error {
		if strings.HasPrefix(to, "emily") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + "> Emily Clarke: no such user"}
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "greylisted " + to}
	}})
	second := e.startRelay(relay.Options{})
	sms := e.startGateway(accept)
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("hospital-relay", first.Addr()),
		smtpChannel("external-relay", second.Addr()), sms.channel(t, "sms"))
	m := e.startInstrumented(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	e.importCSV(fixture)
	e.publishRaw("appointments.ukd.A-99", `{"id":"A-99","facility":"ukd","start":"2020-10-22T09:00:00+02:00","patient":{"id":"P-99","name":"Eve\r\nBcc: x","email":"eve.secret@example.org"}}`)
	ev := sampleOutage(t, "evt-1")
	s := e.declare(ev)
	if s.Pending != 0 || s.Planned == 0 {
		t.Fatalf("summary %+v", s)
	}

	var everything strings.Builder
	everything.WriteString(logs.String())
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	everything.Write(body)
	rejects, _ := e.w.DB.Rejects(context.Background())
	for _, r := range rejects {
		everything.WriteString(r.Reason + "\n")
	}
	notices, _ := e.w.DB.OutageNotices(context.Background(), ev.Outage.OutageID)
	for _, n := range notices {
		trail, _ := e.w.DB.Trail(context.Background(), n.ID)
		for _, a := range trail {
			everything.WriteString(a.Reason + "\n")
		}
	}
	text := everything.String()
	if !strings.Contains(text, "notice delivered") {
		t.Fatal("the scan saw no log of deliveries: it would prove nothing")
	}
	for _, private := range []string{
		"Jana", "Müller", "Emily", "Clarke", "Ayşe", "Yılmaz", "Camille", "Martin", "Eve", "eve.secret",
		"jana@", "emily@", "ayse@", "camille@", "example.org", "5550101", "+49 211 555",
		"Building 13", "2020-10-24",
	} {
		if strings.Contains(text, private) {
			i := strings.Index(text, private)
			t.Errorf("%q appears in logs, metrics or errors: …%s…", private, text[max(0, i-80):min(len(text), i+80)])
		}
	}
}
