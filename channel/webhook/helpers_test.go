package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// Test settings: a fixed clock, which the gateways verify signatures
// against, and a short timeout, so that hanging gateways fail fast.
var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef")
	testNow     = time.Date(2020, 9, 13, 20, 0, 0, 0, time.UTC)
	testTimeout = 200 * time.Millisecond
)

// The patient's number as the scheduling system has it, and in E.164.
const (
	patientPhone = "0211 5550101"
	patientE164  = "+492115550101"
	shortText    = "UKD: Ihr Termin am 14.09.2020 um 09:30 ist verschoben. Bitte kommen Sie nicht, wir melden uns. Fragen: +49 211 81-0"
)

// request is what a test gateway received.
type request struct {
	method    string
	header    http.Header
	body      []byte
	payload   Payload
	verifyErr error
}

// gateway is a test SMS gateway: a real HTTP server on 127.0.0.1 that
// checks each request's signature with Verify, records it and answers as
// respond says, or 202 Accepted if respond is nil.
type gateway struct {
	srv     *httptest.Server
	respond func(w http.ResponseWriter, r *http.Request)
	// release, closed at the end of the test, frees handlers that block.
	release chan struct{}

	mu        sync.Mutex
	reqs      []request
	active    int
	maxActive int
}

// startGateway starts a plain-HTTP gateway for the test.
func startGateway(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *gateway {
	t.Helper()
	g := &gateway{respond: respond, release: make(chan struct{})}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	t.Cleanup(func() { close(g.release) })
	return g
}

// serve records the request and answers it.
func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := request{method: r.Method, header: r.Header.Clone(), body: body}
	req.verifyErr = Verify(testSecret, r.Header.Get(SignatureHeader), body, testNow, time.Minute)
	if err := json.Unmarshal(body, &req.payload); err != nil && req.verifyErr == nil {
		req.verifyErr = err
	}
	g.mu.Lock()
	g.reqs = append(g.reqs, req)
	g.active++
	g.maxActive = max(g.maxActive, g.active)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.active--
		g.mu.Unlock()
	}()
	if g.respond == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	g.respond(w, r)
}

// hang blocks until the client gives up or the test ends.
func (g *gateway) hang(_ http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-g.release:
	}
}

// requests returns a copy of what the gateway received.
func (g *gateway) requests() []request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]request(nil), g.reqs...)
}

// only returns the one request the gateway received, or stops the test.
func (g *gateway) only(t *testing.T) request {
	t.Helper()
	reqs := g.requests()
	if len(reqs) != 1 {
		t.Fatalf("gateway got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// reply answers with status, the header pairs and body.
func reply(status int, body string, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// newChannel returns a channel to url with the test settings, changed by
// change if it is not nil, closed at the end of the test.
func newChannel(t *testing.T, url string, change func(*Config)) *Channel {
	t.Helper()
	cfg := Config{
		Name:          "sms-test",
		URL:           url,
		Secret:        testSecret,
		Timeout:       testTimeout,
		DefaultRegion: "DE",
		Now:           func() time.Time { return testNow },
	}
	if change != nil {
		change(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// message is a postponement for a patient in Germany, as the renderer
// makes it.
func message(id string) *notifier.Message {
	return &notifier.Message{
		NoticeID: id,
		Language: "de",
		To:       notifier.Recipient{Name: "Erika Mustermann", Email: "erika@example.org", Phone: patientPhone},
		Subject:  "Ihr Termin am 14.09.2020 findet nicht statt – UKD",
		Text:     "Guten Tag Erika Mustermann, …",
		Short:    shortText,
		Notice:   &notifier.Notice{ID: id, Kind: notifier.KindPostponed, Country: "DE"},
	}
}

// send sends m on c with a context the test bounds.
func send(t *testing.T, c *Channel, m *notifier.Message) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Send(ctx, m)
}

// wantClass asserts that err is a *notifier.SendError of class want and
// returns it.
func wantClass(t *testing.T, err error, want notifier.Class) *notifier.SendError {
	t.Helper()
	var se *notifier.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want a *notifier.SendError", err)
	}
	if se.Class != want {
		t.Fatalf("class = %v (%v), want %v", se.Class, se, want)
	}
	if se.Reason == "" {
		t.Error("reason is empty")
	}
	return se
}

// wantNoPatientData asserts that nothing err says quotes the phone number,
// in any format, or the text.
func wantNoPatientData(t *testing.T, err error) {
	t.Helper()
	texts := []string{err.Error()}
	if inner := errors.Unwrap(err); inner != nil {
		texts = append(texts, inner.Error())
	}
	for _, text := range texts {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, text)
		for _, secret := range []string{"5550101", "555 0101", "2115550101"} {
			if strings.Contains(text, secret) || strings.Contains(digits, secret) {
				t.Errorf("%q quotes the phone number (%q)", text, secret)
			}
		}
		for _, secret := range []string{"14.09.2020", "Ihr Termin", "Bitte kommen"} {
			if strings.Contains(text, secret) {
				t.Errorf("%q quotes the text (%q)", text, secret)
			}
		}
	}
}
