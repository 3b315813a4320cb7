package app

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// TestExportImportsBack: what export writes, the CSV importer reads back
// as the same appointments.
func TestExportImportsBack(t *testing.T) {
	ctx := context.Background()
	db := store.NewDB(t.TempDir() + "/notifier.db")
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	rows, err := importer.NewCSV(bytes.NewReader([]byte(fixture)), "ukd", berlin)
	if err != nil {
		t.Fatal(err)
	}
	var want []notifier.Appointment
	var changes []notifier.AppointmentChange
	for {
		r, err := rows.Next()
		if err != nil {
			break
		}
		a := r.Appointment
		want = append(want, a)
		changes = append(changes, notifier.AppointmentChange{Seq: uint64(len(changes) + 1), Appointment: &a})
	}
	if err := db.ApplyAppointments(ctx, changes); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := Export(ctx, db, "ukd", berlin, &out)
	if err != nil || n != len(want) {
		t.Fatalf("exported %d, %v; want %d", n, err, len(want))
	}
	back, err := importer.NewCSV(&out, "ukd", berlin)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]notifier.Appointment{}
	for {
		r, err := back.Next()
		if err != nil {
			break
		}
		if r.Err != nil {
			t.Fatalf("exported row does not import: %v", r.Err)
		}
		got[r.Appointment.ID] = r.Appointment
	}
	for _, w := range want {
		g, ok := got[w.ID]
		if !ok {
			t.Errorf("%s not exported", w.ID)
			continue
		}
		if !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Status != w.Status || g.Kind != w.Kind ||
			g.Department != w.Department || g.Location != w.Location || g.Patient.ID != w.Patient.ID ||
			g.Patient.Name != w.Patient.Name || g.Patient.Email != w.Patient.Email || g.Patient.Phone != w.Patient.Phone ||
			g.Patient.Language != w.Patient.Language {
			t.Errorf("%s came back as %+v, want %+v", w.ID, g, w)
		}
	}
}
