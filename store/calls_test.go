package store

import (
	"context"
	"testing"
	"time"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
)

func TestApplyCalls(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	now := time.Date(2020, 10, 21, 10, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	putOutage(t, db, "o-1", notifier.OutageDeclared, []string{"*"}, nil)
	notices := planNotices(t, db, "o-1", notifier.KindPostponed, 5, now.Add(24*time.Hour), now)
	finish(t, db, notices, "", now)

	event := func(id string, n int, s notifier.CallState) *notifier.CallEvent {
		return &notifier.CallEvent{ID: id, NoticeID: notices[n].ID, OutageID: "o-1", Facility: "ukd", Action: notifier.CallOutcome,
			Outcome: s.Outcome, By: "Anna", At: now, State: s}
	}
	noAnswer := notifier.CallState{Attempts: 1, Outcome: notifier.CallNoAnswer, NextTry: now.Add(time.Hour)}
	reached := notifier.CallState{Attempts: 1, Outcome: notifier.CallReached, Final: notifier.CallReached}
	changes := []notifier.CallChange{
		{Seq: 1, Event: event("e-1", 0, noAnswer)},
		{Seq: 2, Event: event("e-2", 1, notifier.CallState{ClaimedBy: "Ben", ClaimedUntil: now.Add(time.Minute)})},
		{Seq: 3, Event: event("e-3", 2, reached)},
		{Seq: 4, Event: event("e-4", 3, notifier.CallState{Outcome: notifier.CallWrongNumber, Attempts: 1, Final: notifier.CallUnreachable})},
		{Seq: 5},
	}
	if err := db.ApplyCalls(ctx, changes); err != nil {
		t.Fatal(err)
	}
	t.Run("the counts", func(t *testing.T) {
		got, err := db.CallCounts(ctx, "o-1")
		want := CallCounts{ToCall: 1, Later: 1, Claimed: 1, Reached: 1, Unreachable: 1, Attempts: 3}
		if err != nil || got != want || got.Total() != 5 {
			t.Errorf("got %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("the same event again counts once, and an older one changes nothing", func(t *testing.T) {
		again := []notifier.CallChange{
			{Seq: 6, Event: event("e-1", 0, notifier.CallState{Attempts: 2, Outcome: notifier.CallNoAnswer})},
			{Seq: 7, Event: event("e-3", 2, notifier.CallState{})},
		}
		if err := db.ApplyCalls(ctx, again); err != nil {
			t.Fatal(err)
		}
		got, _ := db.CallCounts(ctx, "o-1")
		if got.Attempts != 3 || got.Reached != 1 {
			t.Errorf("counts %+v after the same events again", got)
		}
		var n int
		if err := db.r.QueryRow(`SELECT count(*) FROM call_events`).Scan(&n); err != nil || n != 4 {
			t.Errorf("%d events recorded, want 4", n)
		}
		if pos, _ := db.Position(ctx, engine.StreamCalls); pos != 7 {
			t.Errorf("position %d, want 7", pos)
		}
	})
	t.Run("the call list entries carry the state and its sequence", func(t *testing.T) {
		entries, err := db.CallEntries(ctx, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.NoticeID == notices[2].ID && (e.Call.Final != notifier.CallReached || e.CallSeq != 3) {
				t.Errorf("entry %+v, want reached at sequence 3", e)
			}
		}
	})
	t.Run("as time passes", func(t *testing.T) {
		now = now.Add(2 * time.Hour)
		got, _ := db.CallCounts(ctx, "o-1")
		if want := (CallCounts{ToCall: 3, Reached: 1, Unreachable: 1, Attempts: 3}); got != want {
			t.Errorf("got %+v two hours later, want %+v", got, want)
		}
	})
}
