package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// TestNoticesMoveToPlanningOrder opens a store written before migration
// 0005 (notices by id, attempts in their own table) and checks that every
// notice and its trail of attempts, in order, are still there.
func TestNoticesMoveToPlanningOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notifier.db")
	raw := storeBefore(t, path, "migrations/0005")
	if _, err := raw.Exec(`
		INSERT INTO notices (id, outage_id, facility, patient_id, kind, language, earliest_ms, appointment_ids, planned_at, outcome, channel, attempts, outcome_at, event_key)
		VALUES ('n-b', 'o-1', 'ukd', 'P-2', 'postponed', 'de', 2000, '["A-2"]', '2030-01-01T10:00:00Z', 'manual', '', 2, '2030-01-01T10:05:00Z', 'src#1'),
		       ('n-a', 'o-1', 'ukd', 'P-1', 'postponed', 'en', 1000, '["A-1","A-3"]', '2030-01-01T10:00:00Z', 'delivered', 'relay', 1, '2030-01-01T10:01:00Z', 'src#1'),
		       ('n-c', 'o-1', 'ukd', 'P-3', 'postponed', 'tr', 3000, '["A-4"]', '2030-01-01T10:00:00Z', NULL, NULL, 0, NULL, 'src#1');
		INSERT INTO attempts (notice_id, n, channel, at, result, class, code, enhanced, reason)
		VALUES ('n-b', 2, 'sms', '2030-01-01T10:04:00Z', 'failed', 'permanent', 404, '', 'number refused'),
		       ('n-b', 1, 'relay', '2030-01-01T10:02:00.5Z', 'failed', 'temporary', 451, '4.3.0', 'try later'),
		       ('n-a', 1, 'relay', '2030-01-01T10:01:00Z', 'accepted', '', 250, '2.0.0', '');`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	trail, err := db.Trail(ctx, "n-b")
	if err != nil {
		t.Fatal(err)
	}
	want := []notifier.Attempt{
		{Channel: "relay", At: time.Date(2030, 1, 1, 10, 2, 0, 5e8, time.UTC), Result: "failed", Class: "temporary", Code: 451, Enhanced: "4.3.0", Reason: "try later"},
		{Channel: "sms", At: time.Date(2030, 1, 1, 10, 4, 0, 0, time.UTC), Result: "failed", Class: "permanent", Code: 404, Reason: "number refused"},
	}
	if len(trail) != len(want) {
		t.Fatalf("trail %+v, want %+v", trail, want)
	}
	for i := range want {
		if !trail[i].At.Equal(want[i].At) || trail[i].Channel != want[i].Channel || trail[i].Result != want[i].Result ||
			trail[i].Class != want[i].Class || trail[i].Code != want[i].Code || trail[i].Enhanced != want[i].Enhanced || trail[i].Reason != want[i].Reason {
			t.Errorf("attempt %d = %+v, want %+v", i+1, trail[i], want[i])
		}
	}
	if trail, err := db.Trail(ctx, "n-c"); err != nil || len(trail) != 0 {
		t.Errorf("a notice without attempts has trail %+v (%v)", trail, err)
	}
	s, err := db.Summarize(ctx, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Planned != 3 || s.Delivered != 1 || s.Manual != 1 || s.Pending != 1 || s.Appointments != 4 {
		t.Errorf("summary after the migration: %+v", s)
	}
	// Later outcomes still upsert by notice id.
	d := &notifier.Delivery{NoticeID: "n-c", OutageID: "o-1", Facility: "ukd", PatientID: "P-3", Kind: notifier.KindPostponed,
		Outcome: notifier.OutcomeDelivered, Channel: "relay", Attempts: 1, At: time.Date(2030, 1, 1, 11, 0, 0, 0, time.UTC),
		Trail: []notifier.Attempt{{Channel: "relay", At: time.Date(2030, 1, 1, 11, 0, 0, 0, time.UTC), Result: notifier.ResultAccepted}}}
	if err := db.ApplyDeliveries(ctx, []notifier.DeliveryChange{{Seq: 1, Delivery: d}}); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Summarize(ctx, "o-1"); s.Planned != 3 || s.Delivered != 2 {
		t.Errorf("summary after a new outcome: %+v", s)
	}
}

// storeBefore makes a store at path with the migrations before the one
// named, as an earlier version left it, and returns it open.
func storeBefore(t *testing.T, path, before string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE migrations (name TEXT PRIMARY KEY) WITHOUT ROWID`); err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	slices.Sort(names)
	for _, name := range names {
		if name >= before {
			break
		}
		body, _ := fs.ReadFile(migrations, name)
		if _, err := raw.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := raw.Exec(`INSERT INTO migrations (name) VALUES (?)`, name); err != nil {
			t.Fatal(err)
		}
	}
	return raw
}

func TestOpenTellsOfMigrationsOfAnOlderStore(t *testing.T) {
	var told []string
	db := NewDB(filepath.Join(t.TempDir(), "notifier.db"))
	db.Migrating = func(name string) { told = append(told, name) }
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if len(told) != 0 {
		t.Errorf("a new store told of %v", told)
	}

	path := filepath.Join(t.TempDir(), "notifier.db")
	storeBefore(t, path, "migrations/0005").Close()
	older := NewDB(path)
	older.Migrating = func(name string) { told = append(told, name) }
	if err := older.Open(); err != nil {
		t.Fatal(err)
	}
	older.Close()
	// Every migration from 0005 on, by name.
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range names {
		if n = strings.TrimSuffix(filepath.Base(n), ".sql"); n >= "0005" {
			want = append(want, n)
		}
	}
	if len(want) < 3 || want[0] != "0005_notices_in_planning_order" || !slices.Equal(told, want) {
		t.Errorf("told of %v, want %v", told, want)
	}
}

// TestMigrateEventsByFacility: events handled before the migration stay
// handled, for their facility alone, and another facility's event with the
// same source and id can be recorded beside them.
func TestMigrateEventsByFacility(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notifier.db")
	raw := storeBefore(t, path, "migrations/0006")
	if _, err := raw.Exec(`INSERT INTO events (source, id, type, outage_id, facility, received_at, data)
		VALUES ('/scheduling/ukd', 'e-1', 'outage.declared', 'o-1', 'ukd', '2020-10-21T00:00:00Z', '{}')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		facility string
		want     bool
	}{{"ukd", true}, {"other", false}} {
		if got, err := db.HasEvent(ctx, tc.facility, "/scheduling/ukd", "e-1"); err != nil || got != tc.want {
			t.Errorf("HasEvent(%s) = %v, %v; want %v", tc.facility, got, err, tc.want)
		}
	}
	if _, err := db.w.Exec(`INSERT INTO events (source, id, type, outage_id, facility, received_at, data)
		VALUES ('/scheduling/ukd', 'e-1', 'outage.declared', 'o-2', 'other', '2020-10-21T00:00:00Z', '{}')`); err != nil {
		t.Errorf("another facility's event with the same source and id: %v", err)
	}
}
