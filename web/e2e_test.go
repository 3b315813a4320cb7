package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/internal/sample"
	"github.com/postponement/notifier/natsd"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// run is a real worker, as `notifier run` wires it: an embedded NATS
// server, the SQLite store, two SMTP channels (a relay that is down, then
// an in-process relay), metrics as its observer, and the web handler on an
// httptest server.
type run struct {
	t     *testing.T
	conn  *app.Conn
	w     *app.Worker
	relay *relay.Relay
	srv   *httptest.Server
}

// unknownMailbox tells the relay's refusals: every patient whose number
// ends in 3 has a mailbox the relay does not know. They have no phone
// number either, so they end on the call list.
func unknownMailbox(to string) bool {
	local, _, _ := strings.Cut(to, "@")
	return strings.HasSuffix(local, "3")
}

func startRun(t *testing.T) *run {
	t.Helper()
	return startRunWith(t, nil, func(*config.Config) {})
}

// startRunWith is startRun with a change to the configuration, on the
// NATS of conn when it is not nil: then it is a second worker beside the
// first, with its own store.
func startRunWith(t *testing.T, conn *app.Conn, change func(*config.Config)) *run {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	if conn == nil {
		ns, err := natsd.Start(natsd.Options{Port: -1, StoreDir: filepath.Join(dir, "nats")})
		if err != nil {
			t.Fatal(err)
		}
		if conn, err = app.Connect(ns.ClientURL(), log); err != nil {
			ns.Shutdown()
			t.Fatal(err)
		}
		conn.Server = ns
		t.Cleanup(conn.Close)
	}

	rl, err := relay.Start(relay.Options{Rcpt: func(to string) error {
		if unknownMailbox(to) {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unknown"}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rl.Close() })

	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Dispatch.Parallel = 8
	cfg.Dispatch.ShutdownGrace = 2 * time.Second
	// The first relay is down: its breaker opens and the second takes over.
	cfg.Channels = []config.Channel{
		{Name: "relay-down", Type: config.TypeSMTP, Addr: closedAddr(t), TLS: "none", From: "UKD <noreply@ukd.example.org>",
			DialTimeout: time.Second, CommandTimeout: time.Second, Retry: config.Retry{Attempts: 1}},
		{Name: "relay", Type: config.TypeSMTP, Addr: rl.Addr(), TLS: "none", From: "UKD <noreply@ukd.example.org>",
			DialTimeout: time.Second, CommandTimeout: time.Second},
	}
	change(cfg)
	w, err := app.NewWorker(cfg, conn.JS, log)
	if err != nil {
		t.Fatal(err)
	}
	m := app.Instrument(w)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
		w.Close()
	})
	select {
	case <-w.Ready():
	case err := <-done:
		t.Fatalf("worker did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("worker did not start")
	}

	h, err := app.Handler(cfg, w, conn, m, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &run{t: t, conn: conn, w: w, relay: rl, srv: srv}
}

// closedAddr is a loopback address where connections are refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// importSample imports n sample appointments of n patients into ukd.
func (r *run) importSample(n int) {
	r.t.Helper()
	rows, err := importer.NewCSV(strings.NewReader(sample.CSV(n)), "ukd", berlin(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	res, err := app.Import(context.Background(), r.conn.JS, rows, func(line int, err error) { r.t.Errorf("line %d: %v", line, err) }, nil)
	if err != nil || res.Accepted != n {
		r.t.Fatalf("import: %+v, %v", res, err)
	}
}

// declare publishes an outage of every department of ukd over the sample's
// window.
func (r *run) declare(outageID string) *notifier.Event {
	r.t.Helper()
	ev, err := app.BuildEvent(app.EventOptions{Facility: "ukd", OutageID: outageID, EventID: "evt-" + outageID,
		Source: "/scheduling/ukd", From: sample.OutageStart, Until: sample.OutageEnd,
		Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := engine.PublishEvent(context.Background(), r.conn.JS, ev); err != nil {
		r.t.Fatal(err)
	}
	return ev
}

// wait waits until every notice of the event has an outcome.
func (r *run) wait(ev *notifier.Event) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s, err := app.WaitForOutcomes(ctx, r.w.DB, ev, nil); err != nil {
		r.t.Fatalf("waiting for outcomes: %v (so far %+v)", err, s)
	}
}

// fetch gets a path from the run's server.
func (r *run) fetch(path string) response {
	r.t.Helper()
	return getURL(r.t, r.srv.URL+path)
}

func TestEndToEndTheAPIAgreesWithTheDatabase(t *testing.T) {
	const patients = 200
	r := startRun(t)
	r.importSample(patients)
	ev := r.declare("ukd-e2e")

	// While the worker sends, every answer adds up and none goes back.
	var last apiOutage
	for deadline := time.Now().Add(30 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatalf("outcomes did not all arrive: %+v", last)
		}
		var list apiStatus
		decode(t, r.fetch("/api/outages"), &list)
		if len(list.Outages) == 1 {
			o := list.Outages[0]
			if o.Planned != o.Delivered+o.Manual+o.Pending {
				t.Errorf("planned %d ≠ delivered %d + manual %d + pending %d", o.Planned, o.Delivered, o.Manual, o.Pending)
			}
			if o.Delivered < last.Delivered || o.Manual < last.Manual {
				t.Errorf("outcomes went back from %+v to %+v", last, o)
			}
			last = o
			if o.State == notifier.OutageDeclared && o.Pending == 0 {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.wait(ev)

	sum, err := r.w.DB.Summarize(context.Background(), "ukd-e2e")
	if err != nil {
		t.Fatal(err)
	}
	var o apiOutage
	decode(t, r.fetch("/api/outages/ukd-e2e"), &o)
	t.Run("the counts are the database's", func(t *testing.T) {
		if o.Planned != sum.Planned || o.Delivered != sum.Delivered || o.Manual != sum.Manual || o.Pending != sum.Pending ||
			o.DeliveredByChannel["relay"] != sum.ByChannel["relay"] {
			t.Errorf("API %+v, database %+v", o, sum)
		}
	})
	t.Run("and the world's", func(t *testing.T) {
		wantManual := patients / 10
		if o.Planned != patients || o.Manual != wantManual || o.Delivered != len(r.relay.Messages()) || o.Phase != "done" {
			t.Errorf("planned %d, manual %d, delivered %d, phase %q; want %d planned, %d manual, %d delivered as the relay received, done",
				o.Planned, o.Manual, o.Delivered, o.Phase, patients, wantManual, len(r.relay.Messages()))
		}
		if o.EarliestPendingAppointment != nil || o.EarliestManualAppointment == nil || o.LastOutcomeAt == nil {
			t.Errorf("earliest pending %v, earliest manual %v, last outcome %v", o.EarliestPendingAppointment, o.EarliestManualAppointment, o.LastOutcomeAt)
		}
	})
	t.Run("the call list holds the manual ones", func(t *testing.T) {
		records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.fetch(o.Links.CallListCSV).body, "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(records)-1 != sum.Manual {
			t.Errorf("%d rows on the call list, want %d", len(records)-1, sum.Manual)
		}
	})
	t.Run("the metrics count the same", func(t *testing.T) {
		body := r.fetch("/metrics").body
		for _, want := range []string{
			fmt.Sprintf(`notifier_notices_finished_total{channel="relay",outcome="delivered"} %d`, sum.Delivered),
			fmt.Sprintf(`notifier_notices_planned_total{kind="postponed"} %d`, sum.Planned),
			`notifier_channel_breaker_state{channel="relay"} 0`,
			`notifier_channel_breaker_state{channel="relay-down"} 2`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
	t.Run("probes", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			if got := r.fetch(path); got.StatusCode != 200 {
				t.Errorf("GET %s = %s: %s", path, got.Status, got.body)
			}
		}
	})
}
