package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
	"github.com/postponement/notifier/store"
)

// testClock is the real time moved on by what the test skips.
type testClock struct{ skipped atomic.Int64 }

func (c *testClock) now() time.Time { return time.Now().Add(time.Duration(c.skipped.Load())) }

func (c *testClock) skip(d time.Duration) { c.skipped.Add(int64(d)) }

// callListEnv is two workers, each with its own store, on one NATS, whose
// relay refuses every address: every notice of the fixture ends on the
// call list, and staff work it from either worker.
func callListEnv(t *testing.T, policy config.CallList) (e *env, a, b *Worker, clock *testClock) {
	t.Helper()
	e = newEnv(t)
	rl := e.startRelay(relay.Options{Rcpt: func(string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unknown"}
	}})
	e.cfg.Channels = []config.Channel{smtpChannel("relay", rl.Addr())}
	e.cfg.CallList = policy
	clock = &testClock{}
	useClock := func(w *Worker) { w.Now, w.DB.Now = clock.now, clock.now }
	e.startWorkerWith(useClock)
	other := *e.cfg
	other.DataDir = filepath.Join(e.dir, "b")
	b = e.runWorker(&other, useClock)
	e.importCSV(fixture)
	if s := e.declare(sampleOutage(t, "evt-1")); s.Manual != 4 {
		t.Fatalf("summary %+v, want the 4 notices on the call list", s)
	}
	waitUntil(t, "the second worker's store has the call list", func() bool {
		c, err := b.DB.CallCounts(context.Background(), "ukd-it-2020-10")
		return err == nil && c.ToCall == 4
	})
	return e, e.w, b, clock
}

// row is the call list row of a notice in a worker's store.
func row(t *testing.T, w *Worker, noticeID string) store.CallEntry {
	t.Helper()
	entries, err := w.DB.CallEntries(context.Background(), "ukd-it-2020-10")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.NoticeID == noticeID {
			return e
		}
	}
	t.Fatalf("notice %s is not on the call list", noticeID)
	return store.CallEntry{}
}

// call records a call event on the row of noticeID through w, as a page
// showing the row as w's store has it does.
func call(t *testing.T, w *Worker, noticeID, action, outcome, by string) (notifier.CallEvent, error) {
	t.Helper()
	r := row(t, w, noticeID)
	return w.RecordCall(context.Background(), notifier.CallEvent{NoticeID: noticeID, OutageID: "ukd-it-2020-10", Facility: "ukd",
		Action: action, Outcome: outcome, By: by}, r.CallSeq)
}

func TestCallListWorkedFromTwoWorkers(t *testing.T) {
	e, a, b, clock := callListEnv(t, config.CallList{ClaimFor: time.Minute, RetryAfter: time.Hour, MaxAttempts: 2})
	entries, err := a.DB.CallEntries(context.Background(), "ukd-it-2020-10")
	if err != nil || len(entries) != 4 {
		t.Fatalf("%d entries, %v", len(entries), err)
	}
	n1, n2, n3, n4 := entries[0].NoticeID, entries[1].NoticeID, entries[2].NoticeID, entries[3].NoticeID

	t.Run("a claim on one worker holds the row on the other", func(t *testing.T) {
		if _, err := call(t, a, n1, notifier.CallClaim, "", "Anna Weiß"); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the claim reached the other store", func() bool { return row(t, b, n1).Call.ClaimedBy == "Anna Weiß" })
		var conflict *notifier.CallConflict
		if _, err := call(t, b, n1, notifier.CallClaim, "", "Ben Kaya"); !errors.As(err, &conflict) || conflict.By != "Anna Weiß" {
			t.Errorf("Ben's claim: %v, want refused as Anna's", err)
		}
		if _, err := call(t, b, n1, notifier.CallOutcome, notifier.CallReached, "Ben Kaya"); !errors.As(err, &conflict) {
			t.Errorf("Ben's outcome on Anna's row: %v, want refused", err)
		}
	})
	t.Run("the same person claiming again refreshes the claim", func(t *testing.T) {
		before := row(t, b, n1).Call.ClaimedUntil
		clock.skip(30 * time.Second)
		ev, err := call(t, b, n1, notifier.CallClaim, "", "anna  weiß")
		if err != nil {
			t.Fatal(err)
		}
		if !ev.State.ClaimedUntil.After(before) {
			t.Errorf("claim held until %v, before %v: not refreshed", ev.State.ClaimedUntil, before)
		}
	})
	t.Run("an expired claim is free again", func(t *testing.T) {
		clock.skip(2 * time.Minute)
		if c, _ := a.DB.CallCounts(context.Background(), "ukd-it-2020-10"); c.Claimed != 0 || c.ToCall != 4 {
			t.Errorf("counts %+v after the claim expired, want 4 to call", c)
		}
		if _, err := call(t, b, n1, notifier.CallClaim, "", "Ben Kaya"); err != nil {
			t.Errorf("Ben's claim after Anna's expired: %v", err)
		}
	})
	t.Run("no answer puts the row back after retry_after, twice makes it unreachable", func(t *testing.T) {
		r := row(t, b, n1)
		ev := notifier.CallEvent{NoticeID: n1, OutageID: "ukd-it-2020-10", Facility: "ukd", Action: notifier.CallOutcome, Outcome: notifier.CallNoAnswer, By: "Ben Kaya"}
		// The same form sent twice (a double tap) counts once.
		for range 2 {
			if _, err := b.RecordCall(context.Background(), ev, r.CallSeq); err != nil {
				t.Fatal(err)
			}
		}
		waitUntil(t, "the outcome reached the other store", func() bool { return row(t, a, n1).Call.Outcome == notifier.CallNoAnswer })
		if got := row(t, a, n1).Call; got.Attempts != 1 || got.Status(clock.now()) != notifier.CallLater || got.ClaimedBy != "" {
			t.Errorf("after no answer: %+v, want 1 attempt, later, claim ended", got)
		}
		if c, _ := a.DB.CallCounts(context.Background(), "ukd-it-2020-10"); c.Later != 1 || c.ToCall != 3 || c.Attempts != 1 {
			t.Errorf("counts %+v, want 1 later and 3 to call", c)
		}
		clock.skip(time.Hour + time.Second)
		if s := row(t, a, n1).Call.Status(clock.now()); s != notifier.CallToCall {
			t.Errorf("after retry_after the row is %s, want to-call", s)
		}
		if _, err := call(t, a, n1, notifier.CallOutcome, notifier.CallVoicemail, "Anna Weiß"); err != nil {
			t.Fatal(err)
		}
		if got := row(t, a, n1).Call; got.Attempts != 2 || got.Final != notifier.CallUnreachable {
			t.Errorf("after the second unsuccessful call: %+v, want unreachable after 2 attempts", got)
		}
	})
	t.Run("outcomes end the work", func(t *testing.T) {
		if _, err := call(t, a, n2, notifier.CallOutcome, notifier.CallWrongNumber, "Anna Weiß"); err != nil {
			t.Fatal(err)
		}
		if _, err := call(t, b, n3, notifier.CallOutcome, notifier.CallReached, "Ben Kaya"); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the outcome reached the other store", func() bool { return row(t, a, n3).Call.Final == notifier.CallReached })
		if _, err := call(t, a, n3, notifier.CallClaim, "", "Anna Weiß"); !errors.Is(err, notifier.ErrCallFinished) {
			t.Errorf("claim of a reached patient: %v, want refused", err)
		}
		if _, err := call(t, a, n2, notifier.CallOutcome, notifier.CallReached, "Anna Weiß"); err != nil {
			t.Errorf("a patient who rang back after a wrong number: %v", err)
		}
	})
	t.Run("a page older than the row is refused", func(t *testing.T) {
		r := row(t, a, n4)
		if _, err := call(t, b, n4, notifier.CallClaim, "", "Ben Kaya"); err != nil {
			t.Fatal(err)
		}
		clock.skip(2 * time.Minute)
		_, err := a.RecordCall(context.Background(), notifier.CallEvent{NoticeID: n4, OutageID: "ukd-it-2020-10", Facility: "ukd",
			Action: notifier.CallClaim, By: "Anna Weiß"}, r.CallSeq)
		if !errors.Is(err, engine.ErrCallChanged) {
			t.Errorf("claim from a stale page: %v, want ErrCallChanged", err)
		}
	})
	t.Run("of claims at once on both workers, one wins", func(t *testing.T) {
		clock.skip(2 * time.Minute)
		var wg sync.WaitGroup
		var won atomic.Int32
		for i, w := range []*Worker{a, b, a, b, a, b} {
			wg.Go(func() {
				_, err := w.RecordCall(context.Background(), notifier.CallEvent{NoticeID: n4, OutageID: "ukd-it-2020-10", Facility: "ukd",
					Action: notifier.CallClaim, By: []string{"Anna", "Ben", "Cem"}[i%3]}, engine.AnySeq)
				var conflict *notifier.CallConflict
				switch {
				case err == nil:
					won.Add(1)
				case !errors.As(err, &conflict) && !errors.Is(err, engine.ErrCallChanged):
					t.Errorf("claim: %v", err)
				}
			})
		}
		wg.Wait()
		// The same name may win twice (a refresh); two names never both.
		claimer := row(t, a, n4).Call.ClaimedBy
		if won.Load() == 0 || won.Load() > 2 || claimer == "" {
			t.Errorf("%d claims won, held by %q", won.Load(), claimer)
		}
	})
	t.Run("both stores agree", func(t *testing.T) {
		want := notifier.CallCounts{Claimed: 1, Reached: 2, Unreachable: 1, Attempts: 3}
		waitUntil(t, "both stores count the same", func() bool {
			ca, _ := a.DB.CallCounts(context.Background(), "ukd-it-2020-10")
			cb, _ := b.DB.CallCounts(context.Background(), "ukd-it-2020-10")
			return ca == want && cb == want
		})
	})
	t.Run("the status counts the rows, and a patient reached by phone as reached", func(t *testing.T) {
		st, ok, err := a.DB.OutageStatus(context.Background(), "ukd-it-2020-10", time.Time{})
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if want := (notifier.CallCounts{Claimed: 1, Reached: 2, Unreachable: 1, Attempts: 3}); st.Calls != want {
			t.Errorf("status call counts %+v, want %+v", st.Calls, want)
		}
		// n2 and n3 were reached: the soonest unreached is n1's or n4's.
		var want time.Time
		for _, en := range []store.CallEntry{entries[0], entries[3]} {
			if w := en.Appointments[0].Start; want.IsZero() || w.Before(want) {
				want = w
			}
		}
		s, _ := a.DB.Summarize(context.Background(), "ukd-it-2020-10")
		if !st.EarliestUnreached.Equal(want) || !s.SoonestUnreached.Equal(want) {
			t.Errorf("soonest unreached %v and %v, want %v (the reached ones left out)", st.EarliestUnreached, s.SoonestUnreached, want)
		}
	})
	t.Run("every call event keeps to its schema", func(t *testing.T) {
		s, err := e.conn.JS.Stream(context.Background(), engine.StreamCalls)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(context.Background())
		if err != nil || info.State.Msgs == 0 {
			t.Fatalf("stream %s: %v, %d messages", engine.StreamCalls, err, info.State.Msgs)
		}
		sc := schemas(t)["call-event"]
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
			m, err := s.GetMsg(context.Background(), seq)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, sc, m.Subject, m.Data); err != nil {
				t.Errorf("#%d on %s: %v\n%s", seq, m.Subject, err, m.Data)
			}
		}
	})
	t.Run("the report and the files show the calls", func(t *testing.T) {
		rep, err := BuildReport(context.Background(), b.DB, e.cfg, "ukd-it-2020-10")
		if err != nil {
			t.Fatal(err)
		}
		var table bytes.Buffer
		if err := rep.WriteTable(&table); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(table.String(), "0 to call, 0 later, 1 being called, 2 reached, 1 unreachable") {
			t.Errorf("report table:\n%s", table.String())
		}
		statuses := map[string]string{}
		for _, m := range rep.Outages[0].ManualNotices {
			statuses[m.NoticeID] = m.CallStatus
		}
		if statuses[n1] != notifier.CallUnreachable || statuses[n3] != notifier.CallReached {
			t.Errorf("report statuses %v", statuses)
		}
		path := filepath.Join(e.cfg.CallListDir(), "ukd-it-2020-10.csv")
		waitUntil(t, "the call list file shows the calls", func() bool {
			data, err := os.ReadFile(path)
			return err == nil && strings.Count(string(data), ",reached,,,") == 2 && strings.Contains(string(data), ",claimed,")
		})
	})
}
