package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

func openDB(t *testing.T) *DB {
	t.Helper()
	db := NewDB(filepath.Join(t.TempDir(), "notifier.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// randomAppointments makes n appointments over two facilities, a few
// departments, kinds and statuses, and a week of start times.
func randomAppointments(n int, seed uint64) []notifier.AppointmentChange {
	r := rand.New(rand.NewPCG(seed, seed))
	base := time.Date(2020, 9, 7, 0, 0, 0, 0, time.UTC)
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	changes := make([]notifier.AppointmentChange, n)
	for i := range changes {
		a := &notifier.Appointment{
			ID:         fmt.Sprintf("A-%d", i),
			Facility:   pick("ukd", "ukd", "other"),
			Department: pick("cardiology", "Cardiology", "oncology", "radiology"),
			Kind:       pick("outpatient", "elective", "inpatient", ""),
			Status:     pick("booked", "booked", "pending", "cancelled", "entered-in-error", "checked-in"),
			Start:      base.Add(time.Duration(r.IntN(14*24*60)) * time.Minute),
			Patient:    notifier.Patient{ID: fmt.Sprintf("P-%d", r.IntN(n/2+1)), Email: "p@example.org"},
		}
		changes[i] = notifier.AppointmentChange{Seq: uint64(i + 1), Appointment: a}
	}
	return changes
}

func TestAffectedMatchesTheDomainRule(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	changes := randomAppointments(2000, 1)
	if err := db.ApplyAppointments(ctx, changes); err != nil {
		t.Fatal(err)
	}
	outages := []notifier.Outage{
		{Facility: "ukd", Departments: []string{"*"}},
		{Facility: "ukd", Departments: []string{"cardiology", "radiology"}, Kinds: []string{"elective"}},
		{Facility: "other", Departments: []string{"oncology"}, Kinds: []string{"inpatient", "outpatient"}},
	}
	for i, o := range outages {
		o.From = time.Date(2020, 9, 10, 0, 0, 0, 0, time.UTC)
		o.Until = time.Date(2020, 9, 17, 0, 0, 0, 0, time.UTC)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var want []string
			for _, c := range changes {
				if o.Affects(c.Appointment) {
					want = append(want, c.Appointment.ID)
				}
			}
			var got []string
			var last notifier.AffectedAppointment
			seen := map[string]bool{}
			err := db.Affected(ctx, &o, func(a notifier.AffectedAppointment) error {
				got = append(got, a.ID)
				if a.Patient.ID != last.Patient.ID {
					if seen[a.Patient.ID] {
						t.Errorf("patient %s's appointments are not consecutive", a.Patient.ID)
					}
					seen[a.Patient.ID] = true
				} else if a.Start.Before(last.Start) {
					t.Errorf("patient %s's appointments are not in time order", a.Patient.ID)
				}
				last = a
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatal("the outage affects nothing: the test data is wrong")
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %d affected appointments, want %d", len(got), len(want))
			}
		})
	}
}

func TestAffectedUsesTheIndex(t *testing.T) {
	db := openDB(t)
	o := &notifier.Outage{Facility: "ukd", Departments: []string{"*"}, From: time.Now(), Until: time.Now().Add(time.Hour)}
	plan, err := db.ExplainAffected(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "appointments_active_start") {
		t.Errorf("query plan does not use the index:\n%s", plan)
	}
}

// TestAppointmentsByIDUseTheKey: reading appointments by id looks each up
// by its key, and does not read the facility's every appointment through
// another index (what made the first notice of an outage wait 0.3 s at
// 100,000 stored).
func TestAppointmentsByIDUseTheKey(t *testing.T) {
	db := openDB(t)
	rows, err := db.r.Query(`EXPLAIN QUERY PLAN `+byIDQuery, `["A-1","A-2"]`, "ukd")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(detail + "\n")
	}
	if !strings.Contains(plan.String(), "SEARCH a USING PRIMARY KEY (facility=? AND id=?)") || strings.Contains(plan.String(), "appointments_patient") {
		t.Errorf("appointments are not read by key:\n%s", plan.String())
	}
}

// TestActiveStatusesMatchTheIndex: the affected lookup's status list is
// notifier.ActiveStatuses, and the partial index is made for that list: a
// change to one without a migration of the other fails here.
func TestActiveStatusesMatchTheIndex(t *testing.T) {
	db := openDB(t)
	var def string
	if err := db.r.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'appointments_active_start'`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	if want := "WHERE status IN (" + activeStatuses + ")"; !strings.Contains(def, want) {
		t.Errorf("the index is %s, want it %s", def, want)
	}
	for _, st := range notifier.ActiveStatuses {
		if !strings.Contains(activeStatuses, "'"+st+"'") {
			t.Errorf("status %q missing from the lookup's list %s", st, activeStatuses)
		}
	}
}

func TestLatestRecordWins(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a := notifier.Appointment{ID: "A-1", Facility: "ukd", Status: "booked", Start: time.Date(2020, 9, 14, 8, 0, 0, 0, time.UTC),
		Patient: notifier.Patient{ID: "P-1"}}
	cancelled := a
	cancelled.Status = "cancelled"
	if err := db.ApplyAppointments(ctx, []notifier.AppointmentChange{{Seq: 5, Appointment: &cancelled}}); err != nil {
		t.Fatal(err)
	}
	// An older record applied late must not bring it back.
	if err := db.ApplyAppointments(ctx, []notifier.AppointmentChange{{Seq: 3, Appointment: &a}}); err != nil {
		t.Fatal(err)
	}
	o := &notifier.Outage{Facility: "ukd", Departments: []string{"*"}, From: a.Start.Add(-time.Hour), Until: a.Start.Add(time.Hour)}
	n := 0
	if err := db.Affected(ctx, o, func(notifier.AffectedAppointment) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("a cancelled appointment is affected")
	}
	if pos, _ := db.Position(ctx, StreamAppointments); pos != 3 {
		t.Errorf("position = %d, want the last applied, 3", pos)
	}
}

func TestNoticesAndOutcomes(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	n := &notifier.Notice{ID: "n-1", OutageID: "o-1", Facility: "ukd", Kind: notifier.KindPostponed, Language: "de",
		Patient: notifier.Patient{ID: "P-1"}, Appointments: []notifier.NoticeAppointment{{ID: "A-1", Start: time.Now()}, {ID: "A-2", Start: time.Now()}}}
	done, err := db.AddNotices(ctx, []*notifier.Notice{n})
	if err != nil || done[0] {
		t.Fatalf("AddNotices = %v, %v; want not done", done, err)
	}
	d := &notifier.Delivery{NoticeID: "n-1", OutageID: "o-1", Facility: "ukd", PatientID: "P-1", Outcome: notifier.OutcomeManual,
		Attempts: 2, At: time.Now(), Trail: []notifier.Attempt{
			{Channel: "relay", Result: notifier.ResultFailed, Class: "transient", Reason: "refused"},
			{Channel: "relay", Result: notifier.ResultFailed, Class: "permanent", Code: 554, Enhanced: "5.7.1", Reason: "policy"},
		}}
	if err := db.ApplyDeliveries(ctx, []notifier.DeliveryChange{{Seq: 9, Delivery: d}}); err != nil {
		t.Fatal(err)
	}
	if done, err = db.AddNotices(ctx, []*notifier.Notice{n}); err != nil || !done[0] {
		t.Fatalf("AddNotices after the outcome = %v, %v; want done", done, err)
	}
	s, err := db.Summarize(ctx, "o-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Planned != 1 || s.Manual != 1 || s.Pending != 0 || s.Appointments != 2 {
		t.Errorf("summary %+v, want one manual notice of two appointments", s)
	}
	manual, err := db.ManualNotices(ctx, "o-1")
	if err != nil || len(manual) != 1 || len(manual[0].Trail) != 2 || manual[0].Trail[1].Enhanced != "5.7.1" {
		t.Errorf("manual notices %+v, %v", manual, err)
	}
}

// TestAffectedInTwoStepsKeepsTheOrder checks that reading the soonest
// patients first and the rest after yields exactly the order of one query,
// including patients whose first appointments tie at the cut-off.
func TestAffectedInTwoStepsKeepsTheOrder(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	changes := randomAppointments(2000, 7)
	from := time.Date(2020, 9, 10, 0, 0, 0, 0, time.UTC)
	for i := range 3 * headRows {
		a := &notifier.Appointment{ID: fmt.Sprintf("T-%d", i), Facility: "ukd", Department: "cardiology", Status: "booked",
			Start: from.Add(time.Hour), Patient: notifier.Patient{ID: fmt.Sprintf("P-%d", i%100)}}
		changes = append(changes, notifier.AppointmentChange{Seq: uint64(len(changes) + 1), Appointment: a})
	}
	if err := db.ApplyAppointments(ctx, changes); err != nil {
		t.Fatal(err)
	}
	o := &notifier.Outage{Facility: "ukd", Departments: []string{"*"}, From: from, Until: from.Add(7 * 24 * time.Hour)}
	var want []string
	q, args := affectedQuery(o)
	err := queryAppointmentsOnce(ctx, db, o.Facility, q, args, func(a notifier.AffectedAppointment) error {
		want = append(want, a.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 4*headRows {
		t.Fatalf("only %d affected: the test needs more than the head", len(want))
	}
	var got []string
	if err := db.Affected(ctx, o, func(a notifier.AffectedAppointment) error { got = append(got, a.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("two-step order differs from one query: %d rows against %d", len(got), len(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("first difference at row %d: %s, want %s", i, got[i], want[i])
			}
		}
	}
}

func queryAppointmentsOnce(ctx context.Context, db *DB, facility, q string, args []any, fn func(notifier.AffectedAppointment) error) error {
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return queryAppointments(ctx, tx, facility, q, args, fn)
}

// TestAffectedStopsWhenTold checks that an error from fn, in the soonest
// patients or in the sorted rest, ends the lookup with that error.
func TestAffectedStopsWhenTold(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	if err := db.ApplyAppointments(ctx, randomAppointments(20000, 3)); err != nil {
		t.Fatal(err)
	}
	o := &notifier.Outage{Facility: "ukd", Departments: []string{"*"},
		From: time.Date(2020, 9, 10, 0, 0, 0, 0, time.UTC), Until: time.Date(2020, 9, 17, 0, 0, 0, 0, time.UTC)}
	stop := errors.New("stop")
	for _, at := range []int{1, headRows + 500} {
		n := 0
		err := db.Affected(ctx, o, func(notifier.AffectedAppointment) error {
			if n++; n == at {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != at {
			t.Errorf("stopping at row %d: got %v after %d rows", at, err, n)
		}
	}
	// The connections are back: another lookup runs to the end.
	if err := db.Affected(ctx, o, func(notifier.AffectedAppointment) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
