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

// CSVWriter writes appointments as CSV in the import format, times in one
// zone with their offset.
type CSVWriter struct {
	w   *csv.Writer
	loc *time.Location
}

// NewCSVWriter writes the header row to w and returns the writer of the
// rows.
func NewCSVWriter(w io.Writer, loc *time.Location) (*CSVWriter, error) {
	c := &CSVWriter{w: csv.NewWriter(w), loc: loc}
	return c, c.w.Write(exportColumns)
}

// Write writes one appointment.
func (c *CSVWriter) Write(a *notifier.Appointment) error {
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(c.loc).Format(time.RFC3339)
	}
	p := a.Patient
	return c.w.Write([]string{a.ID, a.Department, a.Location, stamp(a.Start), stamp(a.End), a.Status, a.Kind,
		p.ID, p.Name, p.Language, p.Email, p.Phone})
}

// Flush writes what is buffered and reports any error of the writes.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// Export writes a facility's appointments from the local replica as CSV in
// the import format, times in the facility's zone with their offset, so
// that `notifier import` can load them into another NATS, such as the
// embedded server of a laptop when the cluster is lost. It returns how many
// appointments it wrote. Patients' channel preferences have no column and
// are not exported.
func Export(ctx context.Context, db *store.DB, facility string, loc *time.Location, w io.Writer) (int, error) {
	out, err := NewCSVWriter(w, loc)
	if err != nil {
		return 0, err
	}
	n := 0
	err = db.Appointments(ctx, facility, func(a notifier.AffectedAppointment) error {
		n++
		return out.Write(&a.Appointment)
	})
	if err != nil {
		return n, err
	}
	return n, out.Flush()
}
