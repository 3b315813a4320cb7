package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/postponement/notifier/bench/synth"
	"github.com/postponement/notifier/notifier"
)

// benchFrom is the outage window's start in the benchmarks.
var benchFrom = time.Date(2030, 3, 4, 0, 0, 0, 0, time.FixedZone("CET", 3600))

// benchSet is a synthetic replica of n appointments of which a tenth are
// affected, a tenth of the affected patients with two.
func benchSet(b *testing.B, n int) *synth.Set {
	b.Helper()
	s, err := synth.New(synth.Options{Appointments: n, Affected: n / 10, PatientsWithTwo: 0.1, Seed: 1, From: benchFrom})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// changes turns the set's records into replica changes, seq from 1.
func changes(s *synth.Set) []notifier.AppointmentChange {
	out := make([]notifier.AppointmentChange, 0, s.Len())
	for r := s.Records(); ; {
		a, ok := r.Next()
		if !ok {
			return out
		}
		out = append(out, notifier.AppointmentChange{Seq: uint64(len(out) + 1), Appointment: &a})
	}
}

// BenchmarkApplyAppointments applies batches of 1000 records, as the
// replica does with a full batch from the stream: new appointments into a
// replica that holds 100,000, and the same appointments again (updates).
func BenchmarkApplyAppointments(b *testing.B) {
	const batch = 1000
	ctx := context.Background()
	all := changes(benchSet(b, 400_000))
	for _, mode := range []string{"insert", "update"} {
		b.Run(mode, func(b *testing.B) {
			db := NewDB(filepath.Join(b.TempDir(), "notifier.db"))
			if err := db.Open(); err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for i := 0; i < 100_000; i += batch {
				if err := db.ApplyAppointments(ctx, all[i:i+batch]); err != nil {
					b.Fatal(err)
				}
			}
			seq := uint64(len(all))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				var chunk []notifier.AppointmentChange
				if mode == "insert" {
					start := 100_000 + i*batch%(len(all)-100_000-batch)
					chunk = all[start : start+batch]
				} else {
					chunk = all[:batch]
				}
				for j := range chunk {
					seq++
					chunk[j].Seq = seq // later than any before: the update wins
				}
				if err := db.ApplyAppointments(ctx, chunk); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// replica builds a SQLite replica of the synthetic set of n appointments.
func replica(b *testing.B, n int) (*DB, *synth.Set) {
	b.Helper()
	set := benchSet(b, n)
	db := NewDB(filepath.Join(b.TempDir(), "notifier.db"))
	if err := db.Open(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	all := changes(set)
	for i := 0; i < len(all); i += 1000 {
		if err := db.ApplyAppointments(context.Background(), all[i:min(i+1000, len(all))]); err != nil {
			b.Fatal(err)
		}
	}
	return db, set
}

// BenchmarkPlanning runs the planner's store work for an outage that
// affects a tenth of the replica: the affected query and the grouping of
// its rows into one notice per patient with its id, as the planner does
// before it publishes them.
func BenchmarkPlanning(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("the replica takes a while to build")
			}
			db, set := replica(b, n)
			o := set.Outage("bench", "+49 211 81-0")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				notices, err := group(ctx, db, &o)
				if err != nil {
					b.Fatal(err)
				}
				if notices != set.Notices() {
					b.Fatalf("%d notices, want %d", notices, set.Notices())
				}
			}
			b.ReportMetric(float64(set.Notices()), "notices/op")
		})
	}
}

// group is the planner's grouping: consecutive rows of one patient make a
// notice, whose id is derived from its appointments.
func group(ctx context.Context, db *DB, o *notifier.Outage) (int, error) {
	n := 0
	g := notifier.Grouper{Outage: o, Kind: notifier.KindPostponed}
	add, flush := g.Each(func(*notifier.Notice) error { n++; return nil })
	if err := db.Affected(ctx, o, add); err != nil {
		return n, err
	}
	return n, flush()
}

// errFirst stops a lookup at its first row.
var errFirst = errors.New("first row")

// BenchmarkFirstAffected is how long the planner waits for the first
// affected appointment: the soonest patients are read before the whole
// scope is sorted.
func BenchmarkFirstAffected(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("the replica takes a while to build")
			}
			db, set := replica(b, n)
			o := set.Outage("bench", "+49 211 81-0")
			ctx := context.Background()
			for b.Loop() {
				err := db.Affected(ctx, &o, func(notifier.AffectedAppointment) error { return errFirst })
				if !errors.Is(err, errFirst) {
					b.Fatal(err)
				}
			}
		})
	}
}
