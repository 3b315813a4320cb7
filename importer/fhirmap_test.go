package importer

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// The inline bundles hold an appointment and its patient, complete, that
// each test changes a little with [with].
const (
	appointmentA1 = `{"resourceType": "Appointment", "id": "a1", "status": "booked",
		"start": "2020-10-22T09:30:00+02:00", "end": "2020-10-22T10:15:00+02:00",
		"participant": [{"actor": {"reference": "Patient/p1"}}]}`
	patientP1 = `{"resourceType": "Patient", "id": "p1",
		"name": [{"family": "Weiß", "given": ["Jürgen"]}]}`
)

// wantA1 is what appointmentA1 and patientP1 map to.
func wantA1(t *testing.T) notifier.Appointment {
	t.Helper()
	loc := berlin(t)
	return notifier.Appointment{
		ID: "a1", Facility: "ukd", Status: "booked",
		Start:   time.Date(2020, 10, 22, 9, 30, 0, 0, loc),
		End:     time.Date(2020, 10, 22, 10, 15, 0, 0, loc),
		Patient: notifier.Patient{ID: "p1", Name: "Jürgen Weiß"},
	}
}

// with returns the JSON object obj with the members of fields set, or
// removed where fields has them null.
func with(t *testing.T, obj, fields string) string {
	t.Helper()
	var o, f map[string]json.RawMessage
	if err := json.Unmarshal([]byte(obj), &o); err != nil {
		t.Fatalf("with: object: %v", err)
	}
	if err := json.Unmarshal([]byte(fields), &f); err != nil {
		t.Fatalf("with: fields %s: %v", fields, err)
	}
	for k, v := range f {
		if string(v) == "null" {
			delete(o, k)
		} else {
			o[k] = v
		}
	}
	out, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// readAppointment reads a bundle of the resources, which hold one
// Appointment, and returns its row.
func readAppointment(t *testing.T, resources ...string) Row {
	t.Helper()
	rows, _ := readBundle(t, bundleOf(resources...))
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	return rows[0]
}

func TestFHIRTimes(t *testing.T) {
	loc := berlin(t)
	tests := []struct {
		name       string
		start, end string
		want       [2]time.Time
	}{
		{"with the facility's offset", "2020-10-22T09:30:00+02:00", "2020-10-22T10:15:00+02:00",
			[2]time.Time{time.Date(2020, 10, 22, 9, 30, 0, 0, loc), time.Date(2020, 10, 22, 10, 15, 0, 0, loc)}},
		{"in UTC, after the clocks went back", "2020-10-27T08:30:00Z", "2020-10-27T09:15:00Z",
			[2]time.Time{time.Date(2020, 10, 27, 9, 30, 0, 0, loc), time.Date(2020, 10, 27, 10, 15, 0, 0, loc)}},
		{"with fractions of a second", "2020-10-22T07:30:00.000Z", "2020-10-22T08:15:00.000Z",
			[2]time.Time{time.Date(2020, 10, 22, 9, 30, 0, 0, loc), time.Date(2020, 10, 22, 10, 15, 0, 0, loc)}},
		{"without an offset, in the facility's time zone", "2020-10-28T10:00:00", "2020-10-28T10:20:00",
			[2]time.Time{time.Date(2020, 10, 28, 10, 0, 0, 0, loc), time.Date(2020, 10, 28, 10, 20, 0, 0, loc)}},
		{"without an end", "2020-10-22T09:30:00+02:00", "",
			[2]time.Time{time.Date(2020, 10, 22, 9, 30, 0, 0, loc), {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, _ := json.Marshal(map[string]any{"start": tt.start, "end": tt.end})
			got := mustAppointment(t, readAppointment(t, with(t, appointmentA1, string(fields)), patientP1))
			want := wantA1(t)
			want.Start, want.End = tt.want[0], tt.want[1]
			equalAppointment(t, got, want)
		})
	}
}

func TestFHIRStatus(t *testing.T) {
	for _, status := range []string{"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled",
		"noshow", "entered-in-error", "checked-in", "waitlist"} {
		t.Run(status+" is kept", func(t *testing.T) {
			got := mustAppointment(t, readAppointment(t, with(t, appointmentA1, `{"status": "`+status+`"}`), patientP1))
			if got.Status != status {
				t.Errorf("got status %q, want %q", got.Status, status)
			}
		})
	}
	t.Run("none is booked", func(t *testing.T) {
		got := mustAppointment(t, readAppointment(t, with(t, appointmentA1, `{"status": null}`), patientP1))
		if got.Status != notifier.StatusBooked {
			t.Errorf("got status %q, want booked", got.Status)
		}
	})
}

func TestFHIRDepartment(t *testing.T) {
	const (
		snomed      = `{"coding": [{"system": "http://snomed.info/sct", "code": "394579002", "display": "Cardiology"}]}`
		codeOnly    = `{"coding": [{"system": "http://snomed.info/sct", "code": "394579002"}]}`
		physio      = `{"coding": [{"code": "physio", "display": "Physiotherapie"}]}`
		textOnly    = `{"text": "Schlaflabor"}`
		codeAndText = `{"coding": [{"code": "394579002"}], "text": "Kardiologie"}`
	)
	tests := []struct {
		name, fields, want string
	}{
		{"the specialty's display, not its code", `{"specialty": [` + snomed + `]}`, "Cardiology"},
		{"the text before a code", `{"specialty": [` + codeAndText + `]}`, "Kardiologie"},
		{"a later coding's display before the text", `{"specialty": [{"coding": [{"code": "394579002"},
			{"code": "card", "display": "Kardiologie"}], "text": "Herz"}]}`, "Kardiologie"},
		{"the code when there is nothing else", `{"specialty": [` + codeOnly + `]}`, "394579002"},
		{"the specialty before the service type", `{"specialty": [` + snomed + `], "serviceType": [` + physio + `]}`, "Cardiology"},
		{"the service type without a specialty", `{"serviceType": [` + physio + `]}`, "Physiotherapie"},
		{"a service type's text", `{"serviceType": [` + textOnly + `]}`, "Schlaflabor"},
		{"the service type when the specialty is empty", `{"specialty": [{}], "serviceType": [` + textOnly + `]}`, "Schlaflabor"},
		{"the first specialty with a label", `{"specialty": [{"coding": [{"system": "x"}]}, ` + snomed + `]}`, "Cardiology"},
		{"none", `{}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustAppointment(t, readAppointment(t, with(t, appointmentA1, tt.fields), patientP1))
			if got.Department != tt.want {
				t.Errorf("got department %q, want %q", got.Department, tt.want)
			}
		})
	}
}

func TestFHIRKind(t *testing.T) {
	category := func(code string) string {
		return `{"coding": [{"system": "https://ukd.example.org/fhir/CodeSystem/appointment-kind", "code": "` + code + `"}]}`
	}
	v2 := func(code string) string {
		return `{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0276", "code": "` + code + `"}]}`
	}
	tests := []struct {
		name, fields, want string
	}{
		{"outpatient as service category", `{"serviceCategory": [` + category("outpatient") + `]}`, "outpatient"},
		{"elective in any case", `{"serviceCategory": [` + category("Elective") + `]}`, "elective"},
		{"inpatient as appointment type", `{"appointmentType": ` + category("INPATIENT") + `}`, "inpatient"},
		{"in a later coding or category", `{"serviceCategory": [{"coding": [{"code": "17", "display": "General Practice"}]},
			{"coding": [{"code": "x"}, {"code": "outpatient"}]}]}`, "outpatient"},
		{"a worker kind before the appointment type's code",
			`{"serviceCategory": [` + category("elective") + `], "appointmentType": ` + v2("ROUTINE") + `}`, "elective"},
		{"the appointment type's code lower-cased", `{"appointmentType": ` + v2("ROUTINE") + `}`, "routine"},
		{"an emergency", `{"appointmentType": ` + v2("EMERGENCY") + `}`, "emergency"},
		{"a service category that is not a worker kind is none",
			`{"serviceCategory": [{"coding": [{"code": "17", "display": "General Practice"}]}]}`, ""},
		{"none", `{}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustAppointment(t, readAppointment(t, with(t, appointmentA1, tt.fields), patientP1))
			if got.Kind != tt.want {
				t.Errorf("got kind %q, want %q", got.Kind, tt.want)
			}
		})
	}
}

func TestFHIRPatient(t *testing.T) {
	const (
		official = `{"use": "official", "family": "Doğan", "given": ["İbrahim", "Halil"]}`
		usual    = `{"use": "usual", "family": "Doğan", "given": ["İbo"]}`
		email    = `{"system": "email", "value": "ibrahim.dogan@example.org"`
		mobile   = `{"system": "phone", "value": "+49 211 555 1003", "use": "mobile"`
	)
	tests := []struct {
		name, fields string
		want         notifier.Patient
	}{
		{"the official name before the usual", `{"name": [` + usual + `, ` + official + `]}`,
			notifier.Patient{Name: "İbrahim Halil Doğan"}},
		{"the usual name without an official", `{"name": [{"use": "nickname", "given": ["Ibo"]}, ` + usual + `]}`,
			notifier.Patient{Name: "İbo Doğan"}},
		{"no old or maiden name", `{"name": [{"use": "maiden", "family": "Lindner", "given": ["Käthe"]},
			{"use": "old", "family": "Boehm", "given": ["Kaethe"]}, {"family": "Böhm", "given": ["Käthe"]}]}`,
			notifier.Patient{Name: "Käthe Böhm"}},
		{"the text without parts", `{"name": [{"text": "Şükrü Çelik"}]}`, notifier.Patient{Name: "Şükrü Çelik"}},
		{"the parts before the text", `{"name": [{"text": "Herr Şükrü Çelik", "family": "Çelik", "given": ["Şükrü"]}]}`,
			notifier.Patient{Name: "Şükrü Çelik"}},
		{"no name", `{"name": null}`, notifier.Patient{}},

		{"the preferred language", `{"name": null, "communication": [{"language": {"coding": [{"code": "de"}]}},
			{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "tr"}]}, "preferred": true}]}`,
			notifier.Patient{Language: "tr"}},
		{"the first language when none is preferred", `{"name": null, "communication": [
			{"language": {"coding": [{"code": "en-GB"}]}}, {"language": {"coding": [{"code": "de"}]}}]}`,
			notifier.Patient{Language: "en"}},
		{"the first coded language", `{"name": null, "communication": [
			{"language": {"text": "Kurdish"}, "preferred": true}, {"language": {"coding": [{"code": "tr"}]}}]}`,
			notifier.Patient{Language: "tr"}},

		{"email and phone by rank, the phone first", `{"name": null, "telecom": [` + email + `, "rank": 2}, ` + mobile + `, "rank": 1}]}`,
			notifier.Patient{Email: "ibrahim.dogan@example.org", Phone: "+49 211 555 1003", Channels: []string{"sms", "email"}}},
		{"email and phone by rank, the email first", `{"name": null, "telecom": [` + mobile + `, "rank": 3}, ` + email + `, "rank": 1}]}`,
			notifier.Patient{Email: "ibrahim.dogan@example.org", Phone: "+49 211 555 1003", Channels: []string{"email", "sms"}}},
		{"a ranked telecom before an unranked one", `{"name": null, "telecom": [` + email + `}, ` + mobile + `, "rank": 4}]}`,
			notifier.Patient{Email: "ibrahim.dogan@example.org", Phone: "+49 211 555 1003", Channels: []string{"sms", "email"}}},
		{"no preference without ranks", `{"name": null, "telecom": [` + email + `}, ` + mobile + `}]}`,
			notifier.Patient{Email: "ibrahim.dogan@example.org", Phone: "+49 211 555 1003"}},
		{"no preference with equal ranks", `{"name": null, "telecom": [` + email + `, "rank": 1}, ` + mobile + `, "rank": 1}]}`,
			notifier.Patient{Email: "ibrahim.dogan@example.org", Phone: "+49 211 555 1003"}},
		{"no preference with one channel", `{"name": null, "telecom": [` + email + `, "rank": 1}]}`,
			notifier.Patient{Email: "ibrahim.dogan@example.org"}},
		{"the best of several emails", `{"name": null, "telecom": [{"system": "email", "value": "b@example.org", "rank": 2},
			{"system": "email", "value": "c@example.org"}, {"system": "email", "value": "a@example.org", "rank": 1}]}`,
			notifier.Patient{Email: "a@example.org"}},
		{"in the order given when unranked", `{"name": null, "telecom": [{"system": "email", "value": "a@example.org"},
			{"system": "email", "value": "b@example.org"}]}`,
			notifier.Patient{Email: "a@example.org"}},
		{"an sms telecom is a phone", `{"name": null, "telecom": [{"system": "sms", "value": "+49 211 555 1018"}]}`,
			notifier.Patient{Phone: "+49 211 555 1018"}},
		{"not an old email", `{"name": null, "telecom": [{"system": "email", "value": "old@example.com", "use": "old", "rank": 1},
			{"system": "email", "value": "new@example.net", "rank": 2}]}`,
			notifier.Patient{Email: "new@example.net"}},
		{"not an email whose period has ended", `{"name": null, "telecom": [
			{"system": "email", "value": "day@example.com", "period": {"end": "2019-12-31"}},
			{"system": "email", "value": "instant@example.com", "period": {"start": "2012-01-01", "end": "2019-12-31T23:59:59+01:00"}},
			{"system": "email", "value": "year@example.com", "period": {"end": "2019"}},
			{"system": "email", "value": "now@example.net", "period": {"start": "2020-01"}}]}`,
			notifier.Patient{Email: "now@example.net"}},
		{"not a phone whose period has not begun", `{"name": null, "telecom": [
			{"system": "phone", "value": "+49 211 555 2000", "period": {"start": "2999-01-01"}},
			{"system": "phone", "value": "+49 211 555 1000", "period": {"end": "2999"}}]}`,
			notifier.Patient{Phone: "+49 211 555 1000"}},
		{"a period that is not a date is ignored", `{"name": null, "telecom": [
			{"system": "email", "value": "a@example.org", "period": {"end": "last year"}}]}`,
			notifier.Patient{Email: "a@example.org"}},
		{"not a fax, pager, url or empty value", `{"name": null, "telecom": [{"system": "fax", "value": "+49 211 555 9999", "rank": 1},
			{"system": "pager", "value": "1234"}, {"system": "url", "value": "https://example.org"}, {"system": "email", "value": " "}]}`,
			notifier.Patient{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustAppointment(t, readAppointment(t, appointmentA1, with(t, patientP1, tt.fields))).Patient
			want := tt.want
			want.ID = "p1"
			if got.Name != want.Name || got.Language != want.Language || got.Email != want.Email ||
				got.Phone != want.Phone || !slices.Equal(got.Channels, want.Channels) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestFHIRParticipants(t *testing.T) {
	const (
		urn          = "urn:uuid:5d8b3a4e-6f0c-4d1e-9a7b-2c3d4e5f6a7b"
		mrn          = "https://ukd.example.org/fhir/sid/mrn"
		practitioner = `{"resourceType": "Practitioner", "id": "pr1", "name": [{"family": "Becker"}]}`
	)
	participants := func(actors ...string) string {
		var parts []string
		for _, a := range actors {
			parts = append(parts, `{"actor": `+a+`}`)
		}
		return `{"participant": [` + strings.Join(parts, ", ") + `]}`
	}
	patientWithMRN := with(t, patientP1, `{"identifier": [{"system": "`+mrn+`", "value": "P2010001"}]}`)
	tests := []struct {
		name      string
		actors    []string
		resources []string // besides the Appointment, which comes first
		wantID    string
		wantName  string
		wantErr   string
	}{
		{"a relative reference, the patient after the appointment", []string{`{"reference": "Patient/p1"}`},
			[]string{patientP1}, "p1", "Jürgen Weiß", ""},
		{"an absolute reference", []string{`{"reference": "https://fhir.example.org/fhir/Patient/p1"}`},
			[]string{patientP1}, "p1", "Jürgen Weiß", ""},
		{"a versioned reference", []string{`{"reference": "Patient/p1/_history/3"}`},
			[]string{patientP1}, "p1", "Jürgen Weiß", ""},
		{"a fullUrl", []string{`{"reference": "` + urn + `"}`},
			[]string{entryAt(urn, patientP1)}, "p1", "Jürgen Weiß", ""},
		{"a fullUrl to a patient without an id has its identifier", []string{`{"reference": "` + urn + `"}`},
			[]string{entryAt(urn, with(t, patientWithMRN, `{"id": null}`))}, "P2010001", "Jürgen Weiß", ""},
		{"an identifier of a patient in the bundle", []string{`{"type": "Patient", "identifier": {"system": "` + mrn + `", "value": "P2010001"}}`},
			[]string{patientWithMRN}, "p1", "Jürgen Weiß", ""},
		{"an identifier of no patient in the bundle is the id", []string{
			`{"type": "Patient", "identifier": {"system": "` + mrn + `", "value": "P2010099"}, "display": "Wilhelm Brandt"}`},
			[]string{patientWithMRN}, "P2010099", "Wilhelm Brandt", ""},
		{"an identifier of another system", []string{
			`{"type": "Patient", "identifier": {"system": "https://other.example.com/sid", "value": "P2010001"}}`},
			[]string{patientWithMRN}, "P2010001", "", ""},
		{"the patient among practitioners", []string{`{"reference": "Practitioner/pr1"}`, `{"reference": "Patient/p1"}`},
			[]string{practitioner, patientP1}, "p1", "Jürgen Weiß", ""},
		{"one patient named twice", []string{`{"reference": "Patient/p1"}`,
			`{"type": "Patient", "identifier": {"value": "P2010001"}}`}, []string{patientWithMRN}, "p1", "Jürgen Weiß", ""},

		{"no participants", nil, []string{patientP1}, "", "", "entry 1 (Appointment/a1): participant: no patient"},
		{"only a practitioner", []string{`{"reference": "Practitioner/pr1"}`}, []string{practitioner},
			"", "", "entry 1 (Appointment/a1): participant: no patient"},
		{"a patient not in the bundle", []string{`{"reference": "Patient/p9", "display": "Wilhelm Brandt"}`}, []string{patientP1},
			"", "", "entry 1 (Appointment/a1): participant: Patient/p9 is not in the bundle"},
		{"a fullUrl not in the bundle", []string{`{"reference": "` + urn + `"}`}, []string{patientP1},
			"", "", "entry 1 (Appointment/a1): participant: no patient; " + urn + " is not in the bundle"},
		{"a patient only by display", []string{`{"type": "Patient", "display": "Jürgen Weiß"}`}, []string{patientP1},
			"", "", "entry 1 (Appointment/a1): participant: no patient"},
		{"two patients", []string{`{"reference": "Patient/p1"}`, `{"reference": "Patient/p2"}`},
			[]string{patientP1, with(t, patientP1, `{"id": "p2"}`)},
			"", "", "entry 1 (Appointment/a1): participant: 2 are patients, want one"},
		{"a patient that is not a FHIR Patient", []string{`{"reference": "Patient/p1"}`},
			[]string{with(t, patientP1, `{"telecom": {"system": "email"}}`)},
			"", "", "entry 1 (Appointment/a1): participant: Patient/p1 in entry 2 is not a FHIR Patient: " +
				"telecom: wrong type object, want array"},
		{"a patient without an id or identifier", []string{`{"reference": "` + urn + `"}`},
			[]string{entryAt(urn, with(t, patientP1, `{"id": null}`))},
			"", "", "entry 1 (Appointment/a1): participant: Patient " + urn + " in entry 2 has neither an id nor an identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := readAppointment(t, append([]string{with(t, appointmentA1, participants(tt.actors...))}, tt.resources...)...)
			if tt.wantErr != "" {
				if row.Err == nil || row.Err.Error() != tt.wantErr {
					t.Fatalf("got error %v, want %q", row.Err, tt.wantErr)
				}
				return
			}
			got := mustAppointment(t, row).Patient
			if got.ID != tt.wantID || got.Name != tt.wantName {
				t.Errorf("got patient %q named %q, want %q named %q", got.ID, got.Name, tt.wantID, tt.wantName)
			}
		})
	}
}

func TestFHIRLocation(t *testing.T) {
	const urn = "urn:uuid:0b7e6f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	location := func(fields string) string {
		return with(t, `{"resourceType": "Location", "id": "l1"}`, fields)
	}
	tests := []struct {
		name         string
		participants string // besides the patient's
		resources    []string
		want         string
		wantNote     string
	}{
		{"name and description", `{"actor": {"reference": "Location/l1"}}`,
			[]string{location(`{"name": "Herzzentrum", "description": "Building 13, level 2"}`)}, "Herzzentrum, Building 13, level 2", ""},
		{"name only", `{"actor": {"reference": "Location/l1"}}`, []string{location(`{"name": "Herzzentrum"}`)}, "Herzzentrum", ""},
		{"a description that repeats the name once", `{"actor": {"reference": "Location/l1"}}`,
			[]string{location(`{"name": "Building 13", "description": "building 13"}`)}, "Building 13", ""},
		{"the address without a name", `{"actor": {"reference": "Location/l1"}}`,
			[]string{location(`{"address": {"line": ["Moorenstraße 5", "Building 11, level 1"], "city": "Düsseldorf"}}`)},
			"Moorenstraße 5, Building 11, level 1", ""},
		{"the address text without lines", `{"actor": {"reference": "Location/l1"}}`,
			[]string{location(`{"address": {"text": "Moorenstraße 5, Düsseldorf"}}`)}, "Moorenstraße 5, Düsseldorf", ""},
		{"the display without anything else", `{"actor": {"reference": "Location/l1", "display": "Herzzentrum"}}`,
			[]string{location(`{}`)}, "Herzzentrum", ""},
		{"by fullUrl", `{"actor": {"reference": "` + urn + `"}}`, []string{entryAt(urn, location(`{"name": "Augenklinik"}`))}, "Augenklinik", ""},
		{"the first of two", `{"actor": {"reference": "Location/l1"}}, {"actor": {"reference": "Location/l2"}}`,
			[]string{location(`{"name": "Herzzentrum"}`), location(`{"id": "l2", "name": "Augenklinik"}`)}, "Herzzentrum", ""},
		{"not in the bundle, with a display", `{"actor": {"reference": "Location/l9", "display": "Herzzentrum"}}`, nil, "Herzzentrum", ""},
		{"not in the bundle, without a display", `{"actor": {"reference": "Location/l9"}}`, nil, "",
			"entry 1 (Appointment/a1): participant Location/l9 is not in the bundle; imported without a location"},
		{"not a FHIR Location", `{"actor": {"reference": "Location/l1"}}`, []string{location(`{"name": ["Herzzentrum"]}`)}, "",
			"entry 1 (Appointment/a1): Location/l1 in entry 3 is not a FHIR Location (name: wrong type array, want string); " +
				"imported without a location"},
		{"none", `{"actor": {"reference": "Practitioner/pr1", "display": "Dr. Becker"}}`, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := with(t, appointmentA1, `{"participant": [{"actor": {"reference": "Patient/p1"}}, `+tt.participants+`]}`)
			rows, r := readBundle(t, bundleOf(append([]string{a, patientP1}, tt.resources...)...))
			if got := mustAppointment(t, rows[0]).Location; got != tt.want {
				t.Errorf("got location %q, want %q", got, tt.want)
			}
			var wantSkipped []string
			if tt.wantNote != "" {
				wantSkipped = []string{tt.wantNote}
			}
			if got := r.Skipped(); !slices.Equal(got, wantSkipped) {
				t.Errorf("got skipped %q, want %q", got, wantSkipped)
			}
		})
	}
}

func TestFHIRBrokenAppointment(t *testing.T) {
	tests := []struct {
		name, appointment, patient, wantErr string
	}{
		{"a dotted id", `{"id": "a1.2"}`, `{}`,
			`entry 2 (Appointment/a1.2): id: "a1.2" has a dot, which FHIR ids may have but appointment ids may not, as they become NATS subject tokens`},
		{"a dotted id and a bad status", `{"id": "a1.2", "status": "postponed"}`, `{}`,
			`entry 2 (Appointment/a1.2): id: "a1.2" has a dot, which FHIR ids may have but appointment ids may not, ` +
				`as they become NATS subject tokens; status: "postponed" is not a FHIR appointment status`},
		{"no id or identifier", `{"id": null}`, `{}`, "entry 2 (Appointment): id: required"},
		{"a status that is not FHIR", `{"status": "postponed"}`, `{}`,
			`entry 2 (Appointment/a1): status: "postponed" is not a FHIR appointment status`},
		{"no start", `{"start": null}`, `{}`, "entry 2 (Appointment/a1): start: required"},
		{"a start that is not an instant", `{"start": "22.10.2020 09:30"}`, `{}`,
			"entry 2 (Appointment/a1): start: not a time (want RFC 3339 or YYYY-MM-DD HH:MM)"},
		{"a start the clocks repeat", `{"start": "2020-10-25T02:30:00", "end": null}`, `{}`,
			"entry 2 (Appointment/a1): start: 2020-10-25 02:30 occurs twice in Europe/Berlin (the clocks go back); give an offset, +02:00 or +01:00"},
		{"an end before the start", `{"end": "2020-10-22T09:00:00+02:00"}`, `{}`, "entry 2 (Appointment/a1): end: before start"},
		{"not a FHIR Appointment", `{"start": 20201022}`, `{}`,
			"entry 2 (Appointment/a1): not a FHIR Appointment: start: wrong type number, want string"},
		{"a patient's email", `{}`, `{"telecom": [{"system": "email", "value": "Jürgen <juergen@example.org>"}]}`,
			"entry 2 (Appointment/a1): Patient.telecom email: not a plain e-mail address"},
		{"a patient's phone", `{}`, `{"telecom": [{"system": "phone", "value": "ask the ward"}]}`,
			"entry 2 (Appointment/a1): Patient.telecom phone: not a phone number"},
		{"a patient's language", `{}`, `{"communication": [{"language": {"coding": [{"code": "deutsch"}]}}]}`,
			"entry 2 (Appointment/a1): Patient.communication: not a language code such as de, en or tr"},
		{"a patient's name", `{}`, `{"name": [{"text": "Jürgen\nWeiß"}]}`,
			"entry 2 (Appointment/a1): Patient.name: contains a control character (U+000A)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The broken appointment has a patient of its own, p2.
			broken := with(t, with(t, appointmentA1, `{"participant": [{"actor": {"reference": "Patient/p2"}}]}`), tt.appointment)
			p2 := with(t, with(t, patientP1, `{"id": "p2"}`), tt.patient)
			rows, _ := readBundle(t, bundleOf(with(t, appointmentA1, `{"id": "a0"}`), broken, p2, patientP1,
				with(t, appointmentA1, `{"id": "a3"}`)))
			if len(rows) != 3 {
				t.Fatalf("got %d rows, want 3", len(rows))
			}
			t.Run("is reported", func(t *testing.T) {
				got := rows[1]
				if got.Line != 2 || got.Err == nil || got.Err.Error() != tt.wantErr {
					t.Fatalf("got line %d, error %v; want line 2, error %q", got.Line, got.Err, tt.wantErr)
				}
				var ee *EntryError
				if !errors.As(got.Err, &ee) || ee.Entry != 2 {
					t.Errorf("got %#v, want an *EntryError for entry 2", got.Err)
				}
				if !errors.Is(got.Err, notifier.ErrInvalid) {
					t.Error("does not wrap notifier.ErrInvalid")
				}
				if !got.Appointment.Start.IsZero() || got.Appointment.ID != "" {
					t.Errorf("got appointment %+v with the error, want the zero value", got.Appointment)
				}
			})
			t.Run("does not stop the rest", func(t *testing.T) {
				for i, want := range map[int]string{0: "a0", 2: "a3"} {
					if got := mustAppointment(t, rows[i]); got.ID != want {
						t.Errorf("row %d: got %q, want %q", i, got.ID, want)
					}
				}
			})
		})
	}
}

func TestFHIRAppointmentIdentifier(t *testing.T) {
	t.Run("is the id when there is none", func(t *testing.T) {
		a := with(t, appointmentA1, `{"id": null, "identifier": [{"use": "old", "value": "A-1"}, {"system": "https://ukd.example.org/sid/appt", "value": "A2010101"}]}`)
		if got := mustAppointment(t, readAppointment(t, a, patientP1)); got.ID != "A2010101" {
			t.Errorf("got id %q, want A2010101", got.ID)
		}
	})
	t.Run("comes after the id", func(t *testing.T) {
		a := with(t, appointmentA1, `{"identifier": [{"value": "A2010101"}]}`)
		if got := mustAppointment(t, readAppointment(t, a, patientP1)); got.ID != "a1" {
			t.Errorf("got id %q, want a1", got.ID)
		}
	})
}
