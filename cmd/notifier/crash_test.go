package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/internal/sample"
	"github.com/postponement/notifier/natsd"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// startEmbeddedNATS starts a NATS server with JetStream in dir/nats, and a
// connection to it, until the test ends.
func startEmbeddedNATS(t *testing.T, dir string) (*natsd.Server, *app.Conn) {
	t.Helper()
	srv, err := natsd.Start(natsd.Options{Port: -1, StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	conn, err := app.Connect(srv.ClientURL(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return srv, conn
}

// outcomes follows the DELIVERIES stream: notice id → outcomes seen.
type outcomes struct {
	mu   sync.Mutex
	seen map[string]int
	// last is each notice's latest outcome (its highest revision).
	last map[string]notifier.Delivery
}

func (o *outcomes) count() (distinct, total int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range o.seen {
		total += n
	}
	return len(o.seen), total
}

// latest is the notice's latest outcome and how many were published.
func (o *outcomes) latest(id string) (notifier.Delivery, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last[id], o.seen[id]
}

func (o *outcomes) has(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[id] > 0
}

func followOutcomes(t *testing.T, js jetstream.JetStream) *outcomes {
	t.Helper()
	o := &outcomes{seen: map[string]int{}, last: map[string]notifier.Delivery{}}
	cons, err := js.OrderedConsumer(context.Background(), engine.StreamDeliveries, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		var d notifier.Delivery
		if json.Unmarshal(m.Data(), &d) == nil {
			o.mu.Lock()
			o.seen[d.NoticeID]++
			if d.Revision >= o.last[d.NoticeID].Revision {
				o.last[d.NoticeID] = d
			}
			o.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cc.Stop)
	return o
}

// noticeID reads the notice id back from a message's Message-ID.
func noticeID(t *testing.T, m relay.Received) string {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := r.Header.MessageID()
	before, _, _ := strings.Cut(id, "@")
	return before
}

// TestCrashesLoseNothing kills a worker process with SIGKILL at random
// moments of a run of 2,000 notices, five times over, restarting it each
// time: every notice ends with exactly one outcome, and the duplicates at
// the relay are no more than the sends in flight at the kills.
func TestCrashesLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	const n, kills = 2000, 5
	dir := t.TempDir()
	srv, conn := startEmbeddedNATS(t, dir)
	rec, err := relay.Start(relay.Options{Data: func([]string, []byte) error {
		time.Sleep(2 * time.Millisecond) // a relay of realistic speed, so kills land mid-run
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })

	cfg := filepath.Join(dir, "notifier.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
nats: {url: %q}
facilities:
  ukd: {name: "Universitätsklinikum Düsseldorf", timezone: Europe/Berlin, language: de}
channels:
  - {name: relay, type: smtp, addr: %q, tls: none, from: "UKD <noreply@ukd.example.org>", max_conns: 8}
dispatch: {parallel: 8, shutdown_grace: 1s, ack_wait: 3s}
plan: {ack_wait: 3s}
http: {addr: "off"}
`, filepath.Join(dir, "data"), srv.ClientURL(), rec.Addr())), 0o600)

	loc, _ := time.LoadLocation("Europe/Berlin")
	rows, err := importer.NewCSV(strings.NewReader(sample.CSV(n)), "ukd", loc)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := app.Import(context.Background(), conn.JS, rows, func(int, error) {}, nil); err != nil || res.Accepted != n {
		t.Fatalf("import: %+v, %v", res, err)
	}
	ev, err := app.BuildEvent(app.EventOptions{Facility: "ukd", OutageID: "crash", From: sample.OutageStart, Until: sample.OutageEnd,
		Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.EnsureStreams(context.Background(), conn.JS, 1); err != nil {
		t.Fatal(err)
	}
	if err := engine.PublishEvent(context.Background(), conn.JS, ev); err != nil {
		t.Fatal(err)
	}
	out := followOutcomes(t, conn.JS)

	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(binary, "run", "--config", cfg)
		var log bytes.Buffer
		cmd.Stderr = &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &log
	}
	inFlight := 0
	notices, err := conn.JS.Stream(context.Background(), engine.StreamNotices)
	if err != nil {
		t.Fatal(err)
	}
	planned := func() uint64 {
		info, err := notices.Info(context.Background())
		if err != nil {
			return 0
		}
		return info.State.LastSeq
	}
	for k := range kills {
		w, _ := start()
		if k == 0 {
			// The first kill lands in the middle of planning: as soon as the
			// first notices are stored, before the rest are.
			for began := time.Now(); planned() == 0 && time.Since(began) < 30*time.Second; {
				time.Sleep(time.Millisecond)
			}
		} else {
			time.Sleep(time.Duration(150+rand.IntN(350)) * time.Millisecond)
		}
		w.Process.Signal(syscall.SIGKILL)
		w.Wait()
		time.Sleep(50 * time.Millisecond)
		// Accepted by the relay but without an outcome: these will be sent
		// again by the next worker.
		accepted := map[string]bool{}
		for _, m := range rec.Messages() {
			accepted[noticeID(t, m)] = true
		}
		pending := 0
		for id := range accepted {
			if !out.has(id) {
				pending++
			}
		}
		inFlight += pending
		done, _ := out.count()
		t.Logf("kill %d: %d of %d notices planned, %d outcomes, %d messages at the relay, %d accepted without an outcome", k+1, planned(), n, done, len(rec.Messages()), pending)
	}
	w, log := start()
	deadline := time.Now().Add(120 * time.Second)
	for {
		if done, _ := out.count(); done == n {
			break
		}
		if time.Now().After(deadline) {
			done, _ := out.count()
			w.Process.Kill()
			t.Fatalf("only %d of %d notices have an outcome; log:\n%s", done, n, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.Process.Signal(syscall.SIGTERM)
	if err := w.Wait(); err != nil {
		t.Errorf("worker exit after SIGTERM: %v", err)
	}

	distinct, total := out.count()
	if distinct != n || total != n {
		t.Errorf("%d outcomes for %d notices, want exactly one each for %d", total, distinct, n)
	}
	perNotice := map[string]int{}
	for _, m := range rec.Messages() {
		perNotice[noticeID(t, m)]++
	}
	dups := len(rec.Messages()) - len(perNotice)
	t.Logf("%d kills: %d messages at the relay for %d notices, %d duplicates, at most %d were in flight at the kills",
		kills, len(rec.Messages()), len(perNotice), dups, inFlight)
	if len(perNotice) != n {
		t.Errorf("relay got %d distinct notices, want %d", len(perNotice), n)
	}
	if dups > inFlight {
		t.Errorf("%d duplicates, more than the %d sends in flight at the kills", dups, inFlight)
	}
	info, err := conn.JS.Stream(context.Background(), engine.StreamNotices)
	if err == nil {
		if si, err := info.Info(context.Background()); err == nil && si.State.Msgs != 0 {
			t.Errorf("%d notices left in the work queue", si.State.Msgs)
		}
	}
}
