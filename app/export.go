package app

import (
	"context"
	"encoding/csv"
	"io"
	"time"

	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// exportColumns are the CSV import's columns, in the order export writes
// them.
var exportColumns = []string{"id", "department", "location", "start", "end", "status", "kind",
	"patient_id", "patient_name", "language", "email", "phone"}

// Export writes a facility's appointments from the local replica as CSV in
// the import format, times in the facility's zone with their offset, so
// that `notifier import` can load them into another NATS, such as the
// embedded server of a laptop when the cluster is lost. It returns how many
// appointments it wrote. Patients' channel preferences have no column and
// are not exported.
func Export(ctx context.Context, db *store.DB, facility string, loc *time.Location, w io.Writer) (int, error) {
	out := csv.NewWriter(w)
	if err := out.Write(exportColumns); err != nil {
		return 0, err
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	n := 0
	err := db.Appointments(ctx, facility, func(a notifier.AffectedAppointment) error {
		n++
		p := a.Patient
		return out.Write([]string{a.ID, a.Department, a.Location, stamp(a.Start), stamp(a.End), a.Status, a.Kind,
			p.ID, p.Name, p.Language, p.Email, p.Phone})
	})
	if err != nil {
		return n, err
	}
	out.Flush()
	return n, out.Error()
}
