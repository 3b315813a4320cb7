package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/internal/sample"
	"github.com/postponement/notifier/natsd"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// messageIDs counts the messages a relay accepted per Message-ID.
func messageIDs(t *testing.T, r *relay.Relay) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, m := range r.Messages() {
		h := parse(t, m).header
		ids[h.Get("Message-Id")]++
	}
	return ids
}

// TestRefusingHospitalRelayCostsLittle: with the hospital relay refusing
// every connection from the start, everything arrives through the fallback
// relay, and the dead relay costs little: its breaker opens after a few
// failures and later notices skip it without waiting. The cost is counted
// in tries of the dead relay (timings are logged, not asserted: the
// machine may be busy).
func TestRefusingHospitalRelayCostsLittle(t *testing.T) {
	const n = 300
	run := func(t *testing.T, hospitalUp bool) (took time.Duration, viaFallback, deadTries int) {
		e := newEnv(t)
		fallback := e.startRelay(relay.Options{})
		hospital := closedAddr(t)
		if hospitalUp {
			hospital = e.startRelay(relay.Options{}).Addr()
		}
		first := smtpChannel("hospital-relay", hospital)
		first.Retry.Attempts = 3
		first.Retry.Backoff = 200 * time.Millisecond
		e.cfg.Channels = append(e.cfg.Channels[:0], first, smtpChannel("external-relay", fallback.Addr()))
		e.startWorker()
		e.importCSV(sample.CSV(n))
		start := time.Now()
		ev := sampleOutage(t, "evt-1")
		s := e.declare(ev)
		took = time.Since(start)
		if s.Delivered != n {
			t.Fatalf("summary %+v, want %d delivered", s, n)
		}
		notices, _ := e.w.DB.OutageNotices(context.Background(), ev.Outage.OutageID)
		for _, nt := range notices {
			trail, _ := e.w.DB.Trail(context.Background(), nt.ID)
			for _, a := range trail {
				if a.Channel == "hospital-relay" && a.Result == notifier.ResultFailed {
					deadTries++
				}
			}
		}
		return took, len(fallback.Messages()), deadTries
	}
	up, _, _ := run(t, true)
	down, viaFallback, tries := run(t, false)
	t.Logf("%d notices: %v with both relays up, %v with the hospital relay refusing (%d tries of the dead relay)",
		n, up.Round(time.Millisecond), down.Round(time.Millisecond), tries)
	if viaFallback != n {
		t.Errorf("fallback relay got %d messages, want all %d", viaFallback, n)
	}
	// The breaker opens after 5 failures in a row; the notices already on
	// their way to the relay (8 at a time, 3 tries each) fail first.
	if limit := 5 + 8*3; tries > limit {
		t.Errorf("the dead relay was tried %d times, want at most %d: the breaker should stop the chain asking it", tries, limit)
	}
}

// TestFlakyRelayDeliversEachNoticeOnce: a relay that drops a third of the
// connections mid-DATA and answers 451 to another third still gets every
// notice exactly once.
func TestFlakyRelayDeliversEachNoticeOnce(t *testing.T) {
	const n = 200
	e := newEnv(t)
	var count atomic.Int64
	flaky := e.startRelay(relay.Options{Data: func([]string, []byte) error {
		switch count.Add(1) % 3 {
		case 0:
			return relay.ErrDrop
		case 1:
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	}})
	ch := smtpChannel("relay", flaky.Addr())
	// Enough tries that a notice never runs out of them by bad luck (each
	// fails with probability 2/3), on a machine that may be busy.
	ch.Retry = config.Retry{Attempts: 60, Backoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Budget: time.Minute}
	ch.CommandTimeout = 5 * time.Second
	ch.Breaker.Failures = 1000
	e.cfg.Channels = append(e.cfg.Channels[:0], ch)
	e.startWorker()
	e.importCSV(sample.CSV(n))
	ev := sampleOutage(t, "evt-1")
	s := e.declare(ev)
	if s.Delivered != n || s.Manual != 0 {
		t.Errorf("summary %+v, want all %d delivered", s, n)
		manual, _ := e.w.DB.ManualNotices(context.Background(), ev.Outage.OutageID)
		for _, m := range manual {
			t.Logf("manual notice %s: %v", m.NoticeID, m.Trail)
		}
	}
	ids := messageIDs(t, flaky)
	if len(ids) != n {
		t.Errorf("relay accepted %d distinct notices, want %d", len(ids), n)
	}
	for id, k := range ids {
		if k != 1 {
			t.Errorf("notice %s accepted %d times", id, k)
		}
	}
	t.Logf("%d transactions for %d notices", count.Load(), n)
}

// TestNATSRestartMidRun: the NATS server restarts (same store folder, same
// port) while notices are being sent; the worker reconnects and finishes,
// and nothing is lost.
func TestNATSRestartMidRun(t *testing.T) {
	const n = 400
	e := newEnv(t)
	var slow sync.Once
	gate := make(chan struct{})
	rec := e.startRelay(relay.Options{Data: func([]string, []byte) error {
		slow.Do(func() { <-gate }) // hold the first send until NATS has restarted
		return nil
	}})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.cfg.Channels[0].CommandTimeout = 10 * time.Second
	e.startWorker()
	e.importCSV(sample.CSV(n))
	ev := sampleOutage(t, "evt-1")
	if err := engine.PublishEvent(context.Background(), e.conn.JS, ev); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a notice is being sent", func() bool { return rec.Sessions() > 0 })

	url := e.conn.Server.ClientURL()
	port := 0
	fmt.Sscanf(url[strings.LastIndex(url, ":")+1:], "%d", &port)
	e.conn.Server.Shutdown()
	time.Sleep(300 * time.Millisecond)
	srv, err := natsd.Start(natsd.Options{Port: port, StoreDir: e.dir + "/nats"})
	if err != nil {
		t.Fatal(err)
	}
	e.conn.Server = srv
	close(gate)

	// Notices pulled just before the restart may be lost on the way; they
	// come back after the ack wait.
	s := e.waitFor(ev)
	if s.Planned != n || s.Delivered != n {
		t.Errorf("summary %+v, want %d delivered", s, n)
	}
	ids := messageIDs(t, rec)
	if len(ids) != n {
		t.Errorf("relay got %d distinct notices, want %d", len(ids), n)
	}
	dups := 0
	for _, k := range ids {
		dups += k - 1
	}
	t.Logf("duplicates at the relay after the restart: %d", dups)
	if dups > e.cfg.Dispatch.Parallel*2 {
		t.Errorf("%d duplicates, more than the %d sends that can be in flight", dups, e.cfg.Dispatch.Parallel*2)
	}
}

// TestNoticeBackAfterItsOutcomeIsNotSentAgain: a notice whose sender
// stored its outcome and died before acknowledging it comes back to the
// next worker, which finds the outcome and acknowledges it without a second
// send.
func TestNoticeBackAfterItsOutcomeIsNotSentAgain(t *testing.T) {
	const n = 3
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	// What the planner publishes, as any subscriber of notices.> sees it.
	sent := make(chan *nats.Msg, 16)
	sub, err := e.conn.NC.ChanSubscribe(engine.SubjectNotices+".>", sent)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	// The first worker sends every notice, then stops.
	first, err := NewWorker(e.cfg, e.conn.JS, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	<-first.Ready()
	e.w = first
	e.importCSV(sample.CSV(n))
	if s := e.declare(sampleOutage(t, "evt-1")); s.Delivered != n {
		t.Fatalf("summary %+v, want %d delivered", s, n)
	}
	e.settled()
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	first.Close()

	// One notice is back in the stream as if its acknowledgement had been
	// lost: delivered once already, to a dispatcher that did not ack it.
	notice := <-sent
	again := nats.NewMsg(notice.Subject)
	again.Data = notice.Data
	again.Header.Set(jetstream.MsgIDHeader, "again-"+notice.Header.Get(jetstream.MsgIDHeader))
	if _, err := e.conn.JS.PublishMsg(context.Background(), again); err != nil {
		t.Fatal(err)
	}
	name := engine.ConsumerDispatcher
	if strings.HasSuffix(notice.Subject, ".urgent") {
		name = engine.ConsumerDispatcherUrgent
	}
	cons, err := e.conn.JS.Consumer(context.Background(), engine.StreamNotices, name)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.Nak(); err != nil {
			t.Fatal(err)
		}
	}

	// The next worker, on the same store, takes it.
	e.startWorker()
	e.settled()
	if got := len(rec.Messages()); got != n {
		t.Errorf("relay got %d messages, want %d: the notice that came back was sent again", got, n)
	}
	for id, k := range messageIDs(t, rec) {
		if k != 1 {
			t.Errorf("notice %s accepted %d times", id, k)
		}
	}
}
