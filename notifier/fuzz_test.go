package notifier_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/postponement/notifier/channel/email"
	"github.com/postponement/notifier/notifier"
)

// The fuzz tests feed the decoders what an attacker inside the hospital
// network could publish. They hold the decoders to the contract the rest of
// the worker relies on: nothing accepted can carry a line break into a mail
// header, name the wrong facility or fail to survive a round trip through
// the streams. The seeds under testdata/fuzz run as regression tests with
// every go test: the README's example event and broken ones, appointment
// records good and broken, and what the fuzzers found.

// outageIDForm is the form DecodeEvent promises for an outage id.
var outageIDForm = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// FuzzDecodeEvent decodes arbitrary bytes as an outage event on a facility.
// An accepted event must meet the contract and decode again, to the same
// event, from its own encoding and from its outage as decoded.
func FuzzDecodeEvent(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "examples", "outage.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example, "ukd")
	f.Fuzz(func(t *testing.T, data []byte, facility string) {
		ev, err := notifier.DecodeEvent(data, facility)
		if err != nil {
			if ev != nil {
				t.Errorf("DecodeEvent returned an event with the error %v", err)
			}
			return
		}
		checkEvent(t, ev, facility)

		// The event as the worker stores and republishes it.
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("re-encoding the accepted event: %v", err)
		}
		ev2, err := notifier.DecodeEvent(again, facility)
		if err != nil {
			t.Fatalf("the re-encoded event is refused: %v\n%s", err, again)
		}
		equalEvents(t, ev2, ev)

		// The decoded outage, normalized, as the data of a new event.
		data2, err := json.Marshal(ev.Outage)
		if err != nil {
			t.Fatalf("re-encoding the accepted outage: %v", err)
		}
		ev3 := *ev
		ev3.Data = data2
		again, err = json.Marshal(&ev3)
		if err != nil {
			t.Fatalf("re-encoding the accepted event with its outage: %v", err)
		}
		ev4, err := notifier.DecodeEvent(again, facility)
		if err != nil {
			t.Fatalf("the event with its decoded outage is refused: %v\n%s", err, again)
		}
		equalEvents(t, ev4, ev)
	})
}

// checkEvent checks the invariants of an accepted event.
func checkEvent(t *testing.T, ev *notifier.Event, facility string) {
	t.Helper()
	o := &ev.Outage
	if o.Facility != facility {
		t.Errorf("facility: got %q, want %q", o.Facility, facility)
	}
	if !outageIDForm.MatchString(o.OutageID) {
		t.Errorf("outage id %q is not of the form [A-Za-z0-9_.-]{1,128}", o.OutageID)
	}
	if ev.SpecVersion != "1.0" {
		t.Errorf("specversion %q", ev.SpecVersion)
	}
	for field, s := range map[string]string{"id": ev.ID, "source": ev.Source} {
		if s == "" {
			t.Errorf("%s: empty", field)
		}
		checkHeaderSafe(t, field, s)
	}
	switch ev.Type {
	case notifier.EventDeclared, notifier.EventUpdated:
	case notifier.EventResolved, notifier.EventApproved:
		// Only the outage id of these is read; the rest of the outage is
		// the stored one.
		return
	default:
		t.Fatalf("type %q accepted", ev.Type)
	}
	if !o.Until.After(o.From) {
		t.Errorf("until %v is not after from %v", o.Until, o.From)
	}
	if n := len(o.Departments); n == 0 || n > notifier.MaxDepartments {
		t.Errorf("%d departments accepted", n)
	}
	if o.AllDepartments() != slices.Contains(o.Departments, notifier.AllDepartments) {
		t.Errorf("departments %q: \"*\" does not stand alone", o.Departments)
	}
	if len(o.Kinds) > notifier.MaxKinds {
		t.Errorf("%d kinds accepted", len(o.Kinds))
	}
	if o.Action != notifier.ActionPostpone && o.Action != notifier.ActionCancel {
		t.Errorf("action %q accepted", o.Action)
	}
	if o.Hotline == "" {
		t.Error("hotline: empty")
	}
	for i, d := range o.Departments {
		if d == "" {
			t.Errorf("departments[%d]: empty", i)
		}
		checkHeaderSafe(t, "department", d)
	}
	for _, k := range o.Kinds {
		checkHeaderSafe(t, "kind", k)
	}
	checkHeaderSafe(t, "hotline", o.Hotline)
	checkHeaderSafe(t, "info_url", o.InfoURL)
	for lang, note := range o.Note {
		checkHeaderSafe(t, "note language", lang)
		checkHeaderSafe(t, "note."+lang, note)
		if n := utf8.RuneCountInString(note); n > notifier.MaxNoteLength {
			t.Errorf("note.%s: %d characters accepted", lang, n)
		}
	}
}

// checkHeaderSafe fails when s could not go into a mail header or an SMS as
// it is: every text the worker accepts is UTF-8 without control characters.
func checkHeaderSafe(t *testing.T, field, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: %q is not UTF-8", field, s)
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		t.Errorf("%s: %q has a control character at byte %d", field, s, i)
	}
}

// equalEvents fails unless got says what want says.
func equalEvents(t *testing.T, got, want *notifier.Event) {
	t.Helper()
	if got.SpecVersion != want.SpecVersion || got.ID != want.ID || got.Source != want.Source ||
		got.Type != want.Type || got.Time != want.Time || got.DataContentType != want.DataContentType || got.Sig != want.Sig {
		t.Errorf("envelope: got %+v, want %+v", got, want)
	}
	g, w := got.Outage, want.Outage
	if g.OutageID != w.OutageID || g.Facility != w.Facility || !g.From.Equal(w.From) || !g.Until.Equal(w.Until) ||
		!slices.Equal(g.Departments, w.Departments) || !slices.Equal(g.Kinds, w.Kinds) || g.Action != w.Action ||
		g.Hotline != w.Hotline || g.InfoURL != w.InfoURL || !maps.Equal(g.Note, w.Note) || g.Notify != w.Notify {
		t.Errorf("outage:\ngot  %+v\nwant %+v", g, w)
	}
}

// fhirStatusCodes are the codes of FHIR R4 Appointment.status.
var fhirStatusCodes = []string{
	"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
	"entered-in-error", "checked-in", "waitlist",
}

// FuzzDecodeAppointment decodes arbitrary bytes as an appointment record on
// the subject of a facility and an id. An accepted record must meet the
// contract, agree with the subject and decode again from its own encoding.
func FuzzDecodeAppointment(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, facility, id string) {
		a, err := notifier.DecodeAppointment(data, facility, id)
		if err != nil {
			return
		}
		if a.Facility != facility || a.ID != id {
			t.Errorf("facility and id: got %q and %q, want the subject's %q and %q", a.Facility, a.ID, facility, id)
		}
		checkAppointment(t, &a)

		again, err := json.Marshal(&a)
		if err != nil {
			t.Fatalf("re-encoding the accepted record: %v", err)
		}
		b, err := notifier.DecodeAppointment(again, facility, id)
		if err != nil {
			t.Fatalf("the re-encoded record is refused: %v\n%s", err, again)
		}
		if !equalAppointments(&a, &b) {
			t.Errorf("re-decoded:\ngot  %+v\nwant %+v", b, a)
		}
	})
}

// checkAppointment checks the invariants of an accepted appointment, which
// the importers promise as well.
func checkAppointment(t *testing.T, a *notifier.Appointment) {
	t.Helper()
	if !notifier.ValidID(a.Facility) || !notifier.ValidID(a.ID) {
		t.Errorf("facility %q or id %q is not a valid id", a.Facility, a.ID)
	}
	if a.Patient.ID == "" {
		t.Error("patient.id: empty")
	}
	if a.Start.IsZero() {
		t.Error("start: zero")
	}
	if !a.End.IsZero() && a.End.Before(a.Start) {
		t.Errorf("end %v before start %v", a.End, a.Start)
	}
	if !slices.Contains(fhirStatusCodes, a.Status) {
		t.Errorf("status %q is not a FHIR code", a.Status)
	}
	p := &a.Patient
	for field, s := range map[string]string{
		"id": a.ID, "facility": a.Facility, "department": a.Department, "location": a.Location,
		"status": a.Status, "kind": a.Kind, "patient.id": p.ID, "patient.name": p.Name,
		"patient.language": p.Language, "patient.email": p.Email, "patient.phone": p.Phone,
	} {
		checkHeaderSafe(t, field, s)
	}
	if p.Email != "" {
		if err := email.CheckAddress(p.Email); err != nil {
			t.Errorf("patient.email %q is accepted, but the e-mail channel refuses it: %v", p.Email, err)
		}
	}
	for _, c := range p.Channels {
		if c != "email" && c != "sms" {
			t.Errorf("channel %q accepted", c)
		}
	}
	// Normalize is what the importers call; it must accept its own result
	// unchanged.
	b := *a
	b.Patient.Channels = slices.Clone(a.Patient.Channels)
	if err := b.Normalize(); err != nil {
		t.Errorf("Normalize refuses an accepted appointment: %v", err)
	}
	if !equalAppointments(a, &b) {
		t.Errorf("Normalize changes an accepted appointment:\ngot  %+v\nwant %+v", b, *a)
	}
}

// equalAppointments reports whether a and b are the same appointment, with
// times compared as instants.
func equalAppointments(a, b *notifier.Appointment) bool {
	x, y := *a, *b
	if !x.Start.Equal(y.Start) || !x.End.Equal(y.End) || !slices.Equal(x.Patient.Channels, y.Patient.Channels) {
		return false
	}
	x.Start, x.End, x.Patient.Channels = time.Time{}, time.Time{}, nil
	y.Start, y.End, y.Patient.Channels = time.Time{}, time.Time{}, nil
	return reflect.DeepEqual(x, y)
}
