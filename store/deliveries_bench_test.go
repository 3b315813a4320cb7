package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// BenchmarkApplyViews applies the PLANS and DELIVERIES streams as the plans
// view and the audit view do, for an outage of 100,000 notices, in batches
// of the sizes the views get: a handful when outcomes trickle in, a
// thousand and more when they pour in (a view takes up to 5,000 at once).
// One op is one batch; ns/record is per notice.
func BenchmarkApplyViews(b *testing.B) {
	const notices = 100_000
	ctx := context.Background()
	planned := make([]notifier.PlanChange, notices)
	deliveries := make([]notifier.DeliveryChange, notices)
	at := time.Date(2030, 3, 4, 18, 0, 0, 0, time.UTC)
	for i := range notices {
		id := notifier.NoticeID("bench", notifier.KindPostponed, fmt.Sprintf("P-%d", i), []string{fmt.Sprintf("A-%d", i)})
		planned[i] = notifier.PlanChange{Seq: uint64(i + 1), Record: &notifier.PlanRecord{Notice: &notifier.PlannedNotice{
			ID: id, Kind: notifier.KindPostponed, PatientID: fmt.Sprintf("P-%d", i), AppointmentIDs: []string{fmt.Sprintf("A-%d", i)},
			EventKey: "/bench#1", OutageID: "bench", Facility: "ukd", Language: "de", Earliest: at.Add(time.Duration(i) * time.Minute), PlannedAt: at}}}
		deliveries[i] = notifier.DeliveryChange{Seq: uint64(i + 1), Delivery: &notifier.Delivery{
			NoticeID: id, OutageID: "bench", Facility: "ukd", PatientID: fmt.Sprintf("P-%d", i), AppointmentIDs: []string{fmt.Sprintf("A-%d", i)},
			Kind: notifier.KindPostponed, Outcome: notifier.OutcomeDelivered, Channel: "relay", Attempts: 1, At: at,
			Trail: []notifier.Attempt{{Channel: "relay", At: at, Result: notifier.ResultAccepted}}}}
	}
	for _, size := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("plans/batch=%d", size), func(b *testing.B) {
			db := benchDB(b)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if n == notices {
					b.StopTimer()
					db = benchDB(b)
					n = 0
					b.StartTimer()
				}
				if err := db.ApplyPlans(ctx, planned[n:n+size]); err != nil {
					b.Fatal(err)
				}
				n += size
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/record")
		})
		b.Run(fmt.Sprintf("deliveries/batch=%d", size), func(b *testing.B) {
			db := benchDB(b)
			for i := 0; i < notices; i += 1000 {
				if err := db.ApplyPlans(ctx, planned[i:i+1000]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				// Outcomes again once all are in: updates of rows that
				// have one already, which the audit view also sees.
				chunk := deliveries[n%notices : n%notices+size]
				if err := db.ApplyDeliveries(ctx, chunk); err != nil {
					b.Fatal(err)
				}
				n += size
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/record")
		})
	}
}

func benchDB(b *testing.B) *DB {
	b.Helper()
	db := NewDB(filepath.Join(b.TempDir(), "notifier.db"))
	if err := db.Open(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}
