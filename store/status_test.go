package store

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// statusClock is the tests' now: 2020-10-21 10:00 UTC, during the outage.
var statusClock = time.Date(2020, 10, 21, 10, 0, 0, 0, time.UTC)

// putOutage records an outage of ukd as the PLANS view does once its
// event is planned.
func putOutage(t testing.TB, db *DB, id, state string, departments, kinds []string) {
	t.Helper()
	o := notifier.Outage{OutageID: id, Facility: "ukd", Departments: departments, Kinds: kinds,
		From:  time.Date(2020, 10, 21, 0, 0, 0, 0, time.UTC),
		Until: time.Date(2020, 10, 28, 0, 0, 0, 0, time.UTC), Action: notifier.ActionPostpone, Hotline: "+49 211 81-04444"}
	ev := &notifier.HandledEvent{Source: "/scheduling/ukd", ID: "evt-" + id + "-" + state, Type: "outage." + state, Outage: o, State: state}
	if err := db.ApplyPlans(context.Background(), []notifier.PlanChange{{Seq: 1, Record: &notifier.PlanRecord{Event: ev}}}); err != nil {
		t.Fatal(err)
	}
}

// planNotices records n notices of an outage as the PLANS view does, one
// appointment each, the i-th appointment starting i minutes after base.
func planNotices(t testing.TB, db *DB, outageID, kind string, n int, base, plannedAt time.Time) []*notifier.PlannedNotice {
	t.Helper()
	notices := make([]*notifier.PlannedNotice, n)
	changes := make([]notifier.PlanChange, n)
	for i := range notices {
		notices[i] = &notifier.PlannedNotice{ID: fmt.Sprintf("%s-%s-%d", outageID, kind, i), OutageID: outageID, Facility: "ukd",
			Kind: kind, Language: "de", PatientID: fmt.Sprintf("P-%d", i), PlannedAt: plannedAt,
			AppointmentIDs: []string{fmt.Sprintf("A-%d", i)}, Earliest: base.Add(time.Duration(i) * time.Minute)}
		changes[i] = notifier.PlanChange{Seq: uint64(i + 1), Record: &notifier.PlanRecord{Notice: notices[i]}}
	}
	for from := 0; from < n; from += 5000 {
		if err := db.ApplyPlans(context.Background(), changes[from:min(from+5000, n)]); err != nil {
			t.Fatal(err)
		}
	}
	return notices
}

// finish records outcomes for notices as the audit loop does: delivered by
// channel, or manual when channel is "".
func finish(t testing.TB, db *DB, notices []*notifier.PlannedNotice, channel string, at time.Time) {
	t.Helper()
	changes := make([]notifier.DeliveryChange, len(notices))
	for i, n := range notices {
		d := &notifier.Delivery{NoticeID: n.ID, OutageID: n.OutageID, Facility: n.Facility, PatientID: n.PatientID,
			AppointmentIDs: n.AppointmentIDs, Kind: n.Kind, Outcome: notifier.OutcomeDelivered, Channel: channel,
			Attempts: 1, At: at, Trail: []notifier.Attempt{{Channel: "relay", At: at, Result: notifier.ResultAccepted}}}
		if channel == "" {
			d.Outcome, d.Trail[0].Result, d.Trail[0].Reason = notifier.OutcomeManual, notifier.ResultFailed, "mailbox full"
		}
		changes[i] = notifier.DeliveryChange{Seq: uint64(i + 1), Delivery: d}
	}
	for from := 0; from < len(changes); from += 5000 {
		if err := db.ApplyDeliveries(context.Background(), changes[from:min(from+5000, len(changes))]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOutageStatusCountsNoticesByOutcome(t *testing.T) {
	ctx := context.Background()
	db := openTB(t)
	putOutage(t, db, "o-1", notifier.OutageDeclared, []string{"cardiology", "radiology"}, []string{"outpatient"})
	base := time.Date(2020, 10, 22, 8, 0, 0, 0, time.UTC)
	postponed := planNotices(t, db, "o-1", notifier.KindPostponed, 10, base, statusClock.Add(-time.Hour))
	cancelled := planNotices(t, db, "o-1", notifier.KindCancelled, 2, base.Add(-time.Hour), statusClock.Add(-time.Hour))
	// Outcomes, soonest appointments first as the dispatcher sends them:
	// three by the relay long ago, two by SMS and one manual recently.
	finish(t, db, postponed[0:3], "relay", statusClock.Add(-40*time.Minute))
	finish(t, db, postponed[3:5], "sms", statusClock.Add(-2*time.Minute))
	finish(t, db, postponed[5:6], "", statusClock.Add(-time.Minute))
	finish(t, db, cancelled[1:2], "relay", statusClock.Add(-30*time.Second))
	// Another outage's notices are not counted.
	finish(t, db, planNotices(t, db, "o-2", notifier.KindPostponed, 3, base, statusClock), "relay", statusClock)

	s, ok, err := db.OutageStatus(ctx, "o-1", statusClock.Add(-5*time.Minute))
	if err != nil || !ok {
		t.Fatalf("OutageStatus = %v, %v", ok, err)
	}
	t.Run("what the outage covers", func(t *testing.T) {
		o := s.Outage
		if o.OutageID != "o-1" || o.Facility != "ukd" || s.State != notifier.OutageDeclared ||
			!slices.Equal(o.Departments, []string{"cardiology", "radiology"}) || !slices.Equal(o.Kinds, []string{"outpatient"}) ||
			!o.From.Equal(time.Date(2020, 10, 21, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("outage %+v, state %q", o, s.State)
		}
		if s.DeclaredAt.IsZero() || s.UpdatedAt.IsZero() {
			t.Errorf("declared %v, updated %v; want both set", s.DeclaredAt, s.UpdatedAt)
		}
	})
	t.Run("counts", func(t *testing.T) {
		if s.Planned != 12 || s.Delivered != 6 || s.Manual != 1 || s.Pending != 5 {
			t.Errorf("planned %d, delivered %d, manual %d, pending %d; want 12, 6, 1, 5", s.Planned, s.Delivered, s.Manual, s.Pending)
		}
		if want := map[string]int{"relay": 4, "sms": 2}; !maps.Equal(s.ByChannel, want) {
			t.Errorf("by channel %v, want %v", s.ByChannel, want)
		}
		if want := map[string]int{notifier.KindPostponed: 10, notifier.KindCancelled: 2}; !maps.Equal(s.ByKind, want) {
			t.Errorf("by kind %v, want %v", s.ByKind, want)
		}
	})
	t.Run("outcome times and the recent ones", func(t *testing.T) {
		if want := statusClock.Add(-40 * time.Minute); !s.FirstOutcome.Equal(want) {
			t.Errorf("first outcome %v, want %v", s.FirstOutcome, want)
		}
		if want := statusClock.Add(-30 * time.Second); !s.LastOutcome.Equal(want) {
			t.Errorf("last outcome %v, want %v", s.LastOutcome, want)
		}
		if s.Recent != 4 {
			t.Errorf("recent %d, want the 4 outcomes of the last five minutes", s.Recent)
		}
	})
	t.Run("soonest appointments not reached", func(t *testing.T) {
		// cancelled[0] starts an hour before every postponed notice and
		// has no outcome.
		if want := base.Add(-time.Hour); !s.EarliestPending.Equal(want) {
			t.Errorf("earliest pending %v, want %v", s.EarliestPending, want)
		}
		if want := base.Add(5 * time.Minute); !s.EarliestManual.Equal(want) {
			t.Errorf("earliest manual %v, want %v", s.EarliestManual, want)
		}
	})
	t.Run("unknown outage", func(t *testing.T) {
		if _, ok, err := db.OutageStatus(ctx, "nope", statusClock); ok || err != nil {
			t.Errorf("OutageStatus(nope) = %v, %v; want not found", ok, err)
		}
	})
}

func TestOutageStatusOfAnOutageWithoutNotices(t *testing.T) {
	db := openTB(t)
	putOutage(t, db, "o-1", notifier.OutageDeclared, []string{"*"}, nil)
	s, ok, err := db.OutageStatus(context.Background(), "o-1", statusClock)
	if err != nil || !ok {
		t.Fatalf("OutageStatus = %v, %v", ok, err)
	}
	if s.Planned != 0 || !s.FirstOutcome.IsZero() || !s.LastOutcome.IsZero() || !s.EarliestPending.IsZero() ||
		!s.EarliestManual.IsZero() || s.ByChannel == nil {
		t.Errorf("status %+v, want zero counts and times and empty maps", s)
	}
}

func TestOutageStatusesListsOpenOutagesFirstNewestFirst(t *testing.T) {
	db := openTB(t)
	now := statusClock
	db.Now = func() time.Time { return now }
	for _, o := range []struct{ id, state string }{
		{"oldest", notifier.OutageDeclared},
		{"resolved", notifier.OutageResolved},
		{"updated", notifier.OutageUpdated},
		{"newest", notifier.OutageDeclared},
	} {
		putOutage(t, db, o.id, o.state, []string{"*"}, nil)
		now = now.Add(time.Hour)
	}
	list, err := db.OutageStatuses(context.Background(), statusClock)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range list {
		got = append(got, s.Outage.OutageID)
	}
	if want := []string{"newest", "updated", "oldest", "resolved"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestAnOutageBeingPlannedIsListedFirst(t *testing.T) {
	ctx := context.Background()
	db := openTB(t)
	putOutage(t, db, "old", notifier.OutageDeclared, []string{"*"}, nil)
	// The first event of "new" is being planned: its notices arrive before
	// the event is recorded.
	finish(t, db, planNotices(t, db, "new", notifier.KindPostponed, 3, statusClock, statusClock)[:1], "relay", statusClock)

	list, err := db.OutageStatuses(ctx, statusClock)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Outage.OutageID != "new" || list[1].Outage.OutageID != "old" {
		t.Fatalf("outages %+v, want new, then old", list)
	}
	one, ok, err := db.OutageStatus(ctx, "new", statusClock)
	if err != nil || !ok {
		t.Fatalf("OutageStatus(new) = %v, %v", ok, err)
	}
	for _, s := range []OutageStatus{list[0], one} {
		if s.State != StatePlanning || s.Outage.Facility != "ukd" || s.Planned != 3 || s.Delivered != 1 || s.Pending != 2 {
			t.Errorf("status %+v, want planning, ukd, 3 planned, 1 delivered", s)
		}
	}
}

func TestOutageStatusReadsIndexesOnly(t *testing.T) {
	db := openTB(t)
	for _, tc := range []struct {
		name, query string
		args        []any
		want        []string
	}{
		{"counts", countOutcomesQuery, []any{"o-1"}, []string{"COVERING INDEX notices_outage"}},
		// The outage ids come from an index on (outage_id, …) alone; one
		// row per outage is read for its facility.
		{"outages being planned", planningQuery, nil, []string{"USING COVERING INDEX notices_outage_outcome_at"}},
		{"outcome times", outcomeTimesQuery, []any{"o-1", statusClock.Format(time.RFC3339Nano)},
			[]string{"COVERING INDEX notices_outage_outcome_at"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := explain(t, db, tc.query, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan lacks %q:\n%s", w, plan)
				}
			}
			for _, bad := range []string{"SCAN notices", "TEMP B-TREE"} {
				if strings.Contains(plan, bad) {
					t.Errorf("plan has %q:\n%s", bad, plan)
				}
			}
		})
	}
}

// explain returns SQLite's plan for a query.
func explain(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

// openTB opens a fresh store for a test or a benchmark.
func openTB(tb testing.TB) *DB {
	tb.Helper()
	db := NewDB(filepath.Join(tb.TempDir(), "notifier.db"))
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// bigOutage fills a store with one outage of 100,000 notices: 60,000
// delivered over an hour, 5,000 manual, the rest pending.
func bigOutage(tb testing.TB) *DB {
	tb.Helper()
	db := openTB(tb)
	putOutage(tb, db, "big", notifier.OutageDeclared, []string{"*"}, nil)
	base := statusClock.Add(time.Hour)
	notices := planNotices(tb, db, "big", notifier.KindPostponed, 100_000, base, statusClock.Add(-time.Hour))
	for i := range 60 {
		finish(tb, db, notices[i*1000:(i+1)*1000], "relay", statusClock.Add(time.Duration(i-60)*time.Minute))
	}
	finish(tb, db, notices[60_000:65_000], "", statusClock.Add(-time.Minute))
	return db
}

func BenchmarkOutageStatusOf100000Notices(b *testing.B) {
	start := time.Now()
	db := bigOutage(b)
	b.Logf("filled in %v", time.Since(start))
	ctx := context.Background()
	s, _, err := db.OutageStatus(ctx, "big", statusClock.Add(-5*time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	if s.Planned != 100_000 || s.Delivered != 60_000 || s.Manual != 5_000 || s.Pending != 35_000 || s.Recent != 10_000 {
		b.Fatalf("status %+v", s)
	}
	for b.Loop() {
		if _, err := db.OutageStatuses(ctx, statusClock.Add(-5*time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}
