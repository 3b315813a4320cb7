package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/internal/sample"
	"github.com/postponement/notifier/natsd"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
	"github.com/postponement/notifier/store"
)

// clusterRun is a three-node NATS cluster, a relay, and worker processes
// sharing them, each with its own data folder.
type clusterRun struct {
	t       *testing.T
	dir     string
	cluster *natsd.LocalCluster
	conn    *app.Conn
	relay   *relay.Relay
	out     *outcomes
}

func newClusterRun(t *testing.T, n int) *clusterRun {
	t.Helper()
	if testing.Short() {
		t.Skip("cluster test skipped in -short mode")
	}
	dir := t.TempDir()
	c, err := natsd.StartLocalCluster(filepath.Join(dir, "nats"), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	conn, err := app.Connect(c.URL(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if err := engine.EnsureStreams(context.Background(), conn.JS, 3); err != nil {
		t.Fatal(err)
	}
	rec, err := relay.Start(relay.Options{Data: func([]string, []byte) error {
		time.Sleep(time.Millisecond)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	r := &clusterRun{t: t, dir: dir, cluster: c, conn: conn, relay: rec, out: followOutcomes(t, conn.JS)}
	loc, _ := time.LoadLocation("Europe/Berlin")
	rows, err := importer.NewCSV(strings.NewReader(sample.CSV(n)), "ukd", loc)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := app.Import(context.Background(), conn.JS, rows, func(int, error) {}, nil); err != nil || res.Accepted != n {
		t.Fatalf("import: %+v, %v", res, err)
	}
	return r
}

// worker is one worker process.
type worker struct {
	name string
	data string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan error
}

// start starts the worker called name, on its data folder.
func (r *clusterRun) start(name string) *worker {
	r.t.Helper()
	w := &worker{name: name, data: filepath.Join(r.dir, name), log: &bytes.Buffer{}, done: make(chan error, 1)}
	cfg := filepath.Join(r.dir, name+".yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
nats: {url: %q, replicas: 3}
facilities:
  ukd: {name: "Universitätsklinikum Düsseldorf", timezone: Europe/Berlin, language: de}
channels:
  - {name: relay, type: smtp, addr: %q, tls: none, from: "UKD <noreply@ukd.example.org>", max_conns: 8}
dispatch: {parallel: 8, shutdown_grace: 2s, ack_wait: 3s}
http: {addr: "off"}
`, w.data, r.cluster.URL(), r.relay.Addr())), 0o600)
	w.cmd = exec.Command(binary, "run", "--config", cfg)
	w.cmd.Stderr = w.log
	if err := w.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	go func() { w.done <- w.cmd.Wait() }()
	r.t.Cleanup(func() {
		w.cmd.Process.Kill()
	})
	return w
}

// stop sends SIGTERM and waits for a clean exit.
func (w *worker) stop(t *testing.T) {
	t.Helper()
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.done:
		if err != nil {
			t.Errorf("worker %s exited with %v (%d bytes of log); log:\n%s", w.name, err, w.log.Len(), tail(w.log.String(), 30))
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("worker %s did not stop", w.name)
	}
}

func (w *worker) kill() {
	w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.done
}

// summary reads a worker's store; the worker may be running.
func (w *worker) summary(t *testing.T, outage string) store.Summary {
	t.Helper()
	db, err := store.OpenReadOnly(filepath.Join(w.data, "notifier.db"))
	if err != nil {
		return store.Summary{}
	}
	defer db.Close()
	s, _ := db.Summarize(context.Background(), outage)
	return s
}

// converge waits until a running worker's store has every outcome.
func (w *worker) converge(t *testing.T, outage string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := w.summary(t, outage)
		if s.Delivered+s.Manual == n {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("worker %s's store has %+v, want %d outcomes; log:\n%s", w.name, s, n, tail(w.log.String(), 20))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *clusterRun) declare(id string) *notifier.Event {
	r.t.Helper()
	ev, err := app.BuildEvent(app.EventOptions{Facility: "ukd", OutageID: id, EventID: "evt-" + id, From: sample.OutageStart,
		Until: sample.OutageEnd, Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := engine.PublishEvent(context.Background(), r.conn.JS, ev); err != nil {
		r.t.Fatal(err)
	}
	return ev
}

// waitForOutcomes waits until n notices have an outcome on DELIVERIES.
func (r *clusterRun) waitForOutcomes(n int, workers ...*worker) {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if done, _ := r.out.count(); done >= n {
			return
		}
		if time.Now().After(deadline) {
			done, _ := r.out.count()
			var logs strings.Builder
			for _, w := range workers {
				fmt.Fprintf(&logs, "--- %s\n%s", w.name, tail(w.log.String(), 20))
			}
			r.t.Fatalf("only %d of %d notices have an outcome\n%s", done, n, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// checkOnce checks every notice has exactly one outcome and returns the
// duplicates the relay got.
func (r *clusterRun) checkOnce(n int) int {
	r.t.Helper()
	distinct, total := r.out.count()
	if distinct != n || total != n {
		r.t.Errorf("%d outcomes for %d notices, want exactly one each for %d", total, distinct, n)
	}
	per := map[string]int{}
	for _, m := range r.relay.Messages() {
		per[noticeID(r.t, m)]++
	}
	if len(per) != n {
		r.t.Errorf("relay got %d distinct notices, want %d", len(per), n)
	}
	return len(r.relay.Messages()) - len(per)
}

// TestClusterWorkerKilledAndNewWorkerJoins: three workers share 5,000
// notices; one is killed with SIGKILL mid-run, and a fourth with an empty
// data folder joins mid-run. Every notice gets exactly one outcome, the
// duplicates are bounded by the dead worker's sends in flight, and the new
// worker's store converges to the same totals as the others'.
func TestClusterWorkerKilledAndNewWorkerJoins(t *testing.T) {
	const n = 5000
	r := newClusterRun(t, n)
	a, b, c := r.start("a"), r.start("b"), r.start("c")
	r.declare("cluster")
	r.waitForOutcomes(n/5, a, b, c)
	a.kill()
	// What a had sent that has no outcome yet is what it had in flight.
	time.Sleep(500 * time.Millisecond)
	inFlight := 0
	for _, m := range r.relay.Messages() {
		if !r.out.has(noticeID(t, m)) {
			inFlight++
		}
	}
	d := r.start("d")
	r.waitForOutcomes(n, b, c, d)
	for _, w := range []*worker{b, c, d} {
		w.converge(t, "cluster", n)
		w.stop(t)
	}
	dups := r.checkOnce(n)
	t.Logf("worker a killed with at most %d sends in flight; %d duplicates at the relay", inFlight, dups)
	if dups > inFlight {
		t.Errorf("%d duplicates, more than the %d sends in flight when a died", dups, inFlight)
		per := map[string]int{}
		for _, m := range r.relay.Messages() {
			per[noticeID(t, m)]++
		}
		for id, k := range per {
			if k > 1 {
				for _, w := range []*worker{a, b, c, d} {
					for _, line := range strings.Split(w.log.String(), "\n") {
						if strings.Contains(line, id) {
							t.Logf("duplicate %s in the log of %s: %s", id, w.name, line)
						}
					}
				}
			}
		}
	}
	want := store.Summary{Planned: n, Appointments: n, Delivered: n, ByChannel: map[string]int{"relay": n}}
	for _, w := range []*worker{b, c, d} {
		got := w.summary(t, "cluster")
		if got.SoonestUnreached.IsZero() {
			t.Errorf("worker %s: no soonest unreached appointment, though nobody confirmed", w.name)
		}
		got.SoonestUnreached = time.Time{} // nobody confirmed: the sample's first appointment
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("worker %s's store: %+v, want %+v", w.name, got, want)
		}
	}
}

// TestClusterNodeStopsMidRun: one NATS node stops in the middle of a run
// and starts again later; the run finishes and nothing is lost.
func TestClusterNodeStopsMidRun(t *testing.T) {
	const n = 3000
	r := newClusterRun(t, n)
	a, b := r.start("a"), r.start("b")
	r.declare("node")
	r.waitForOutcomes(n/5, a, b)
	r.cluster.Stop(1)
	r.waitForOutcomes(n/2, a, b)
	if err := r.cluster.Restart(1); err != nil {
		t.Fatal(err)
	}
	r.waitForOutcomes(n, a, b)
	a.stop(t)
	b.stop(t)
	if dups := r.checkOnce(n); dups > 0 {
		t.Logf("%d duplicates at the relay", dups)
	}
}

// TestClusterOutagePublishedWhileAWorkerIsDown: another worker plans and
// sends it; when the first returns it catches up and agrees.
func TestClusterOutagePublishedWhileAWorkerIsDown(t *testing.T) {
	const n = 1000
	r := newClusterRun(t, n)
	a, b := r.start("a"), r.start("b")
	waitFor(t, "worker a to be up", func() bool { return strings.Contains(a.log.String(), "caught up") })
	a.stop(t)
	r.declare("while-down")
	r.waitForOutcomes(n, b)
	a = r.start("a")
	a.converge(t, "while-down", n)
	b.converge(t, "while-down", n)
	a.stop(t)
	b.stop(t)
	r.checkOnce(n)
	if sa, sb := a.summary(t, "while-down"), b.summary(t, "while-down"); fmt.Sprint(sa) != fmt.Sprint(sb) || sa.Delivered != n {
		t.Errorf("worker a's store %+v, worker b's %+v: want both with %d delivered", sa, sb, n)
	}
}
