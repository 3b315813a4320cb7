package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/natsd"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
	"github.com/postponement/notifier/store"
)

// env is one test's world: an embedded NATS server, a worker with its
// SQLite file, and whatever relays the test starts.
type env struct {
	t    *testing.T
	dir  string
	conn *Conn
	cfg  *config.Config
	w    *Worker
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	srv, err := natsd.Start(natsd.Options{Port: -1, StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := Connect(srv.ClientURL(), testLogger(t))
	if err != nil {
		srv.Shutdown()
		t.Fatal(err)
	}
	conn.Server = srv
	t.Cleanup(conn.Close)
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Dispatch.Parallel = 8
	cfg.Dispatch.ShutdownGrace = 2 * time.Second
	return &env{t: t, dir: dir, conn: conn, cfg: cfg}
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	return slog.New(slog.DiscardHandler)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// smtpChannel is a channel to a loopback relay with short timeouts and
// retries, so fault tests stay fast.
func smtpChannel(name, addr string) config.Channel {
	return config.Channel{Name: name, Type: config.TypeSMTP, Addr: addr, TLS: "none",
		From: "UKD <noreply@ukd.example.org>", DialTimeout: time.Second, CommandTimeout: time.Second,
		Retry: config.Retry{Attempts: 2, Backoff: 10 * time.Millisecond, Budget: time.Second}}
}

// startWorker builds the worker from e.cfg and runs it until the test ends.
func (e *env) startWorker() {
	e.t.Helper()
	e.startWorkerWith(func(*Worker) {})
}

// startWorkerWith is startWorker with a change to the worker before it runs.
func (e *env) startWorkerWith(change func(*Worker)) {
	e.t.Helper()
	e.w = e.runWorker(e.cfg, change)
}

// runWorker builds a worker from cfg on the test's NATS and runs it until
// the test ends.
func (e *env) runWorker(cfg *config.Config, change func(*Worker)) *Worker {
	e.t.Helper()
	w, err := NewWorker(cfg, e.conn.JS, testLogger(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	w.AckWait = 3 * time.Second // fault tests recover quickly
	change(w)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("worker: %v", err)
		}
		w.Close()
	})
	select {
	case <-w.Ready():
	case err := <-done:
		e.t.Fatalf("worker did not start: %v", err)
	case <-time.After(10 * time.Second):
		e.t.Fatal("worker did not start")
	}
	return w
}

func (e *env) startRelay(o relay.Options) *relay.Relay {
	e.t.Helper()
	r, err := relay.Start(o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { r.Close() })
	return r
}

// importCSV imports a CSV text for facility ukd and fails on broken rows.
func (e *env) importCSV(text string) ImportResult {
	e.t.Helper()
	loc, _ := time.LoadLocation("Europe/Berlin")
	rows, err := importer.NewCSV(strings.NewReader(text), "ukd", loc)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := Import(context.Background(), e.conn.JS, rows, func(line int, err error) {
		e.t.Errorf("row rejected: %v", err)
	}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// declare publishes an outage event and waits until every notice of it has
// an outcome.
func (e *env) declare(ev *notifier.Event) store.Summary {
	e.t.Helper()
	if err := engine.PublishEvent(context.Background(), e.conn.JS, ev); err != nil {
		e.t.Fatal(err)
	}
	return e.waitFor(ev)
}

func (e *env) waitFor(ev *notifier.Event) store.Summary {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := WaitForOutcomes(ctx, e.w.DB, ev, nil)
	if err != nil {
		e.t.Fatalf("waiting for outcomes: %v (so far %+v)", err, s)
	}
	return s
}

// publishRaw publishes data on subject as any NATS client would: no message
// id, no checks.
func (e *env) publishRaw(subject, data string) {
	e.t.Helper()
	if _, err := e.conn.JS.Publish(context.Background(), subject, []byte(data)); err != nil {
		e.t.Fatal(err)
	}
}

// sampleOutage is an outage of ukd from Wednesday 2020-10-21 to Wednesday
// 2020-10-28, across the end of daylight-saving time on 2020-10-25.
func sampleOutage(t *testing.T, eventID string) *notifier.Event {
	t.Helper()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ev, err := BuildEvent(EventOptions{
		Facility: "ukd", OutageID: "ukd-it-2020-10", EventID: eventID, Source: "/scheduling/ukd",
		From: time.Date(2020, 10, 21, 0, 0, 0, 0, berlin), Until: time.Date(2020, 10, 28, 0, 0, 0, 0, berlin),
		Departments: []string{"*"}, Kinds: []string{"outpatient", "elective"},
		Hotline: "+49 211 81-04444", InfoURL: "https://example.org/outage",
		Note: map[string]string{"de": "Bitte bringen Sie Ihre Unterlagen zum neuen Termin mit."},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// closedAddr is a loopback address where connections are refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	addr, err := closedPort()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// silentAddr is a loopback address that accepts connections and never says
// a word: a hanging relay.
func silentAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// parsed is a received message, parsed with go-message.
type parsed struct {
	to      string
	header  gomail.Header
	text    string
	html    string
	rawHead string
}

// parseAll parses the relay's messages by recipient and checks there is
// one message per recipient.
func parseAll(t *testing.T, msgs []relay.Received) map[string]parsed {
	t.Helper()
	out := map[string]parsed{}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Errorf("message to %d recipients, want 1", len(m.To))
		}
		if _, dup := out[m.To[0]]; dup {
			t.Errorf("a recipient got two messages")
		}
		out[m.To[0]] = parse(t, m)
	}
	return out
}

func parse(t *testing.T, m relay.Received) parsed {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("received message does not parse: %v", err)
	}
	head, _, _ := strings.Cut(string(m.Data), "\r\n\r\n")
	p := parsed{to: m.To[0], header: r.Header, rawHead: head}
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("received message part: %v", err)
		}
		ct, _, _ := part.Header.(*gomail.InlineHeader).ContentType()
		body, _ := io.ReadAll(part.Body)
		switch ct {
		case "text/plain":
			p.text = string(body)
		case "text/html":
			p.html = string(body)
		}
	}
	return p
}

// waitUntil polls cond for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settled waits until the planner of every facility and both dispatchers
// have nothing delivered or waiting: every event is planned and every
// notice that can be sent has been handled. A test that asserts something
// was not sent waits for this instead of sleeping.
func (e *env) settled() {
	e.t.Helper()
	names := []string{engine.ConsumerDispatcher, engine.ConsumerDispatcherUrgent, engine.ConsumerPlanner}
	for id := range e.cfg.Facilities {
		names = append(names, engine.ConsumerPlanner+"-"+id)
	}
	waitUntil(e.t, "the planners and dispatchers have nothing pending", func() bool {
		for _, name := range names {
			stream := engine.StreamNotices
			if strings.HasPrefix(name, engine.ConsumerPlanner) {
				stream = engine.StreamOutages
			}
			cons, err := e.conn.JS.Consumer(context.Background(), stream, name)
			if err != nil {
				return false
			}
			info, err := cons.Info(context.Background())
			if err != nil || info.NumPending > 0 || info.NumAckPending > 0 {
				return false
			}
		}
		return true
	})
}

// hold publishes an outage event of a facility with an approval threshold
// and waits until the outage is held for approval.
func (e *env) hold(ev *notifier.Event) {
	e.t.Helper()
	if err := engine.PublishEvent(context.Background(), e.conn.JS, ev); err != nil {
		e.t.Fatal(err)
	}
	waitUntil(e.t, "the outage held", func() bool {
		_, state, _, _ := e.w.DB.Outage(context.Background(), ev.Outage.OutageID)
		return state == notifier.OutageHeld
	})
}
