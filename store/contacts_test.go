package store

import (
	"context"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// TestContactsUpdateThePatientsAppointments: a contact record sets what it
// gives and clears what it names on every appointment of its patient in
// its facility whose record is not newer than it; other patients, other
// facilities and fields not given keep their values.
func TestContactsUpdateThePatientsAppointments(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	start := time.Date(2020, 9, 14, 8, 0, 0, 0, time.UTC)
	old := notifier.Patient{ID: "P-1", Name: "Jana Müller", Language: "de", Email: "jana@example.org", Phone: "+491701234567"}
	appt := func(facility, id string, p notifier.Patient) *notifier.Appointment {
		return &notifier.Appointment{ID: id, Facility: facility, Status: "booked", Start: start, Patient: p}
	}
	other := notifier.Patient{ID: "P-2", Email: "emily@example.org"}
	if err := db.ApplyAppointments(ctx, []notifier.AppointmentChange{
		{Seq: 1, Appointment: appt("ukd", "A-1", old)}, {Seq: 2, Appointment: appt("ukd", "A-2", old)},
		{Seq: 3, Appointment: appt("other", "A-3", old)}, {Seq: 4, Appointment: appt("ukd", "A-4", other)},
		{Seq: 5, Appointment: appt("ukd", "A-5", old)},
	}); err != nil {
		t.Fatal(err)
	}
	rec := &notifier.ContactRecord{Facility: "ukd", Patient: notifier.Patient{ID: "P-1", Email: "jana.neu@example.org"}, Clear: []string{"phone"}}
	if err := db.ApplyContacts(ctx, []notifier.ContactChange{
		{Seq: 7, Before: 4, Record: rec},
		{Seq: 8, Reject: &notifier.Reject{Stream: StreamPatients, Subject: "patients.x.P-1", Seq: 8, Reason: "unknown facility"}},
	}); err != nil {
		t.Fatal(err)
	}
	got := map[string]notifier.Patient{}
	for _, f := range []string{"ukd", "other"} {
		if err := db.AppointmentsByID(ctx, f, []string{"A-1", "A-2", "A-3", "A-4", "A-5"}, func(a notifier.AffectedAppointment) error {
			got[a.ID] = a.Patient
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	updated := old
	updated.Email, updated.Phone = "jana.neu@example.org", ""
	for id, want := range map[string]notifier.Patient{"A-1": updated, "A-2": updated, "A-3": old, "A-4": other, "A-5": old} {
		if g := got[id]; g.Name != want.Name || g.Language != want.Language || g.Email != want.Email || g.Phone != want.Phone {
			t.Errorf("%s: %+v, want %+v", id, g, want)
		}
	}
	if pos, _ := db.Position(ctx, StreamPatients); pos != 8 {
		t.Errorf("position = %d, want 8", pos)
	}
	rejects, _ := db.Rejects(ctx)
	if len(rejects) != 1 || rejects[0].Stream != StreamPatients {
		t.Errorf("rejects %+v, want the refused record", rejects)
	}
}
