package notifier

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestGrouper(t *testing.T) {
	start := time.Date(2020, 10, 22, 8, 0, 0, 0, time.UTC)
	o := &Outage{OutageID: "o-1", Facility: "ukd", Hotline: "+49 211 1", Note: map[string]string{"de": "Hinweis", "tr": "Not"}}
	fac := Facility{ID: "ukd", Language: "de", SensitiveDepartments: []string{"Psychiatry"}}
	appt := func(id, patient string, seq uint64, lang, dept string, i int) AffectedAppointment {
		return AffectedAppointment{Seq: seq, Appointment: Appointment{ID: id, Facility: "ukd", Department: dept, Location: "Building 1",
			Start: start.Add(time.Duration(i) * time.Hour), Patient: Patient{ID: patient, Language: lang, Email: patient + "@example.org"}}}
	}
	g := Grouper{Outage: o, Facility: fac, Kind: KindPostponed, Languages: []string{"de", "en", "tr"}, EventKey: "/s#e", Now: start}
	var got []*Notice
	add, flush := g.Each(func(n *Notice) error { got = append(got, n); return nil })
	in := []AffectedAppointment{
		appt("A-1", "P-1", 5, "fr", "cardiology", 0), // French has no templates: the facility's German
		appt("A-2", "P-1", 9, "tr", "Psychiatry", 1), // a later record: Turkish wins; sensitive
		appt("A-3", "P-2", 3, "", "radiology", 2),
	}
	for i := range MaxNoticeAppointments + 3 {
		in = append(in, appt(fmt.Sprintf("B-%d", i), "P-3", 1, "en", "oncology", 3+i))
	}
	for _, a := range in {
		if err := add(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d notices, want one per patient", len(got))
	}
	p1, p2, p3 := got[0], got[1], got[2]
	if p1.Language != "tr" || p1.Note != "Not" || p1.Patient.Language != "tr" {
		t.Errorf("P-1: language %q note %q: the latest record's language should win", p1.Language, p1.Note)
	}
	if a := p1.Appointments[1]; !a.Neutral || a.Department != "" || a.Location != "" {
		t.Errorf("P-1's psychiatry appointment is not under the neutral label: %+v", a)
	}
	if p1.Appointments[0].Neutral || p1.Appointments[0].Department != "cardiology" {
		t.Errorf("P-1's cardiology appointment: %+v", p1.Appointments[0])
	}
	if p2.Language != "de" || p2.Note != "Hinweis" {
		t.Errorf("P-2 without a language: %q %q, want the facility's", p2.Language, p2.Note)
	}
	if len(p3.Appointments) != MaxNoticeAppointments || len(p3.MoreAppointmentIDs) != 3 || p3.MoreAppointmentIDs[0] != fmt.Sprintf("B-%d", MaxNoticeAppointments) {
		t.Errorf("P-3: %d listed, %v unlisted; want %d listed and the 3 latest unlisted", len(p3.Appointments), p3.MoreAppointmentIDs, MaxNoticeAppointments)
	}
	for _, n := range got {
		if n.ID != NoticeID("o-1", KindPostponed, n.Patient.ID, n.AppointmentIDs()) || n.EventKey != "/s#e" || !n.PlannedAt.Equal(start) {
			t.Errorf("notice %s: id, event key or planning time not as planned", n.ID)
		}
	}
	if ids := p3.AppointmentIDs(); len(ids) != MaxNoticeAppointments+3 || !slices.Contains(ids, "B-52") {
		t.Errorf("P-3's notice covers %d appointments, want all %d", len(ids), MaxNoticeAppointments+3)
	}
	g2 := Grouper{Outage: o, Facility: fac, Kind: KindPostponed, Base: "o-1/2"}
	g2.Add(appt("A-1", "P-1", 1, "", "", 0))
	if n := g2.Flush(); n.ID != NoticeID("o-1/2", KindPostponed, "P-1", []string{"A-1"}) {
		t.Error("the notice id does not use the grouper's base")
	}
	if g2.Flush() != nil {
		t.Error("a second flush returned a notice")
	}
}
