package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// TestKilledBetweenBounceAndReroute: a worker process takes a bounce by
// SMTP (stored on NATS before it answers 250) and is killed with SIGKILL
// while it sends the notice on by SMS; the worker started after it sends
// the SMS and revises the outcome once: the bounce is not lost, and not
// applied twice.
func TestKilledBetweenBounceAndReroute(t *testing.T) {
	dir := t.TempDir()
	srv, conn := startEmbeddedNATS(t, dir)
	rec, err := relay.Start(relay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })

	// The SMS gateway holds the first request until the test is done with
	// it (the worker dies meanwhile) and accepts every later one.
	var requests atomic.Int32
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if requests.Add(1) == 1 {
			arrived <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(gw.Close)
	t.Cleanup(func() { close(release) })

	for name, secret := range map[string]string{"bounce.key": "a bounce secret of some length", "sms.key": "an sms secret of some length"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(secret), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	bouncePort := freePort(t)
	bounceAddr := fmt.Sprintf("127.0.0.1:%d", bouncePort)
	cfg := filepath.Join(dir, "notifier.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
nats: {url: %q}
facilities:
  ukd: {name: "Universitätsklinikum Düsseldorf", timezone: Europe/Berlin, language: de}
channels:
  - {name: relay, type: smtp, addr: %q, tls: none, from: "UKD <noreply@ukd.example.org>"}
  - {name: sms, type: webhook, url: %q, secret_file: %q, timeout: 60s}
bounces: {domain: bounces.example.org, addr: %q, secret_file: %q}
dispatch: {shutdown_grace: 1s, ack_wait: 2s}
http: {addr: "off"}
`, filepath.Join(dir, "data"), srv.ClientURL(), rec.Addr(), gw.URL, filepath.Join(dir, "sms.key"),
		bounceAddr, filepath.Join(dir, "bounce.key"))), 0o600)

	loc, _ := time.LoadLocation("Europe/Berlin")
	rows, err := importer.NewCSV(strings.NewReader(`id,department,start,patient_id,patient_name,language,email,phone
A-1,cardiology,2020-10-22T09:00:00+02:00,P-1,Jana Müller,de,jana@example.org,+49 211 5550101
`), "ukd", loc)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := app.Import(context.Background(), conn.JS, rows, func(int, error) {}, nil); err != nil || res.Accepted != 1 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	if err := engine.EnsureStreams(context.Background(), conn.JS, 1); err != nil {
		t.Fatal(err)
	}
	out := followOutcomes(t, conn.JS)
	start := func() *exec.Cmd {
		cmd := exec.Command(binary, "run", "--config", cfg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	first := start()
	ev, err := app.BuildEvent(app.EventOptions{Facility: "ukd", OutageID: "bounce-crash",
		From: time.Date(2020, 10, 21, 0, 0, 0, 0, loc), Until: time.Date(2020, 10, 28, 0, 0, 0, 0, loc),
		Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.PublishEvent(context.Background(), conn.JS, ev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the e-mail at the relay", func() bool { return len(rec.Messages()) == 1 })
	verp := rec.Messages()[0].From
	id := strings.SplitN(strings.TrimPrefix(verp, "bounce+"), ".", 2)[0]
	waitFor(t, "the notice's outcome", func() bool { return out.has(id) })
	waitFor(t, "the bounce listener", listening(bouncePort))

	dsn, err := os.ReadFile(filepath.Join("..", "..", "app", "testdata", "postfix-bounce.eml"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.NewReplacer("VERP_ADDRESS", verp, "RECIPIENT", "jana@example.org", "NOTICE_ID", id, "\n", "\r\n").Replace(string(dsn))
	// As a receiving server does, it tries again while the listener says
	// 451 (the worker's store has not caught up with the outcome yet).
	waitFor(t, "the bounce taken", func() bool { return relay.Send(bounceAddr, "", []string{verp}, body) == nil })
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the bounced notice was not sent on by SMS")
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	if d, n := out.latest(id); n != 1 || d.Revision > 1 {
		t.Fatalf("before the restart: %d outcomes, revision %d; want the first alone", n, d.Revision)
	}

	start()
	waitFor(t, "the revised outcome", func() bool { d, _ := out.latest(id); return d.Revision > 1 })
	time.Sleep(3 * time.Second) // longer than ack_wait: a second revision would show by now
	d, n := out.latest(id)
	bounced := 0
	for _, a := range d.Trail {
		if a.Result == notifier.ResultBounced {
			bounced++
		}
	}
	if n != 2 || d.Revision != 2 || d.Outcome != notifier.OutcomeDelivered || d.Channel != "sms" || bounced != 1 {
		t.Errorf("%d outcomes; the latest %s via %s, revision %d, %d bounced attempts; want one revision: delivered by SMS, bounced once",
			n, d.Outcome, d.Channel, d.Revision, bounced)
	}
	if got := requests.Load(); got != 2 {
		t.Errorf("the gateway got %d requests, want 2: the one cut off by the kill and the one that took the SMS", got)
	}
}
