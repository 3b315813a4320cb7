package importer

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// readBundleFile reads testdata/bundle.json, a synthetic export of one
// hospital's appointments in October 2020, for facility ukd.
func readBundleFile(t *testing.T) ([]Row, *FHIRReader) {
	t.Helper()
	data, err := os.ReadFile("testdata/bundle.json")
	if err != nil {
		t.Fatal(err)
	}
	return readBundle(t, string(data))
}

func TestBundleFile(t *testing.T) {
	rows, r := readBundleFile(t)
	byID := map[string]Row{}
	var good []notifier.Appointment
	for _, row := range rows {
		if row.Err == nil {
			good = append(good, row.Appointment)
			byID[row.Appointment.ID] = row
		}
	}
	if got, want := len(rows), 44; got != want {
		t.Errorf("got %d rows, want %d, one per Appointment", got, want)
	}
	if got, want := len(good), 37; got != want {
		t.Errorf("got %d good appointments, want %d", got, want)
	}

	t.Run("broken appointments are reported by entry", func(t *testing.T) {
		want := []string{
			"entry 43 (Appointment/A2010140): participant: no patient",
			"entry 44 (Appointment/A2010141): participant: Patient/P2010098 is not in the bundle",
			"entry 45 (Appointment/A2010142): start: not a time (want RFC 3339 or YYYY-MM-DD HH:MM)",
			`entry 46 (Appointment/A2010.143): id: "A2010.143" has a dot, which FHIR ids may have but appointment ids may not, ` +
				"as they become NATS subject tokens",
			`entry 84 (Appointment/A2010144): status: "postponed" is not a FHIR appointment status`,
			"entry 85 (Appointment/A2010145): start: 2020-10-25 02:30 occurs twice in Europe/Berlin (the clocks go back); " +
				"give an offset, +02:00 or +01:00",
			"entry 86 (Appointment/A2010146): participant: no patient; urn:uuid:6558b884-b3b3-5e2d-8d7d-70e46135bfbf is not in the bundle",
		}
		var got []string
		for _, row := range rows {
			if row.Err != nil {
				got = append(got, row.Err.Error())
				if want := "entry " + strconv.Itoa(row.Line) + " "; !strings.HasPrefix(row.Err.Error(), want) {
					t.Errorf("row of line %d: got %q, want the entry of the line", row.Line, row.Err)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
		}
	})

	t.Run("what is left out is listed", func(t *testing.T) {
		want := []string{
			"entry 26 (Observation/obs-1): Observation is not read",
			"entry 61 (Patient/P2010030): no appointment refers to it",
			"entry 82 (Appointment/A2010137): participant Location/L-B99 is not in the bundle; imported without a location",
			"entry 83 (Encounter/E2010001): Encounter is not read",
		}
		if got := r.Skipped(); !slices.Equal(got, want) {
			t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
		}
	})

	t.Run("appointments field by field", func(t *testing.T) {
		loc := berlin(t)
		at := func(day, hour, minute int) time.Time { return time.Date(2020, 10, day, hour, minute, 0, 0, loc) }
		tests := []struct {
			name  string
			entry int
			want  notifier.Appointment
		}{
			{"Jürgen Weiß ranks his mobile above his email", 1, notifier.Appointment{
				ID: "A2010101", Facility: "ukd", Department: "Cardiology", Location: "Herzzentrum, Building 13, level 2",
				Start: at(19, 8, 15), End: at(19, 9, 0), Status: "fulfilled", Kind: "outpatient",
				Patient: notifier.Patient{ID: "P2010001", Name: "Jürgen Weiß", Language: "de",
					Email: "juergen.weiss@example.org", Phone: "+49 211 555 1001", Channels: []string{"sms", "email"}}}},
			{"Gülşen Kılıç prefers Turkish and has an old email", 2, notifier.Appointment{
				ID: "A2010102", Facility: "ukd", Department: "Neurology", Location: "Neurologische Ambulanz, Building 13, level 4",
				Start: at(20, 9, 0), End: at(20, 10, 0), Status: "booked", Kind: "outpatient",
				Patient: notifier.Patient{ID: "P2010002", Name: "Gülşen Kılıç", Language: "tr",
					Email: "g.kilic@example.net", Phone: "+49 211 555 1002", Channels: []string{"email", "sms"}}}},
			{"Renate Müller-Lüdenscheidt's first email has expired", 5, notifier.Appointment{
				ID: "A2010105", Facility: "ukd", Department: "Ophthalmology", Location: "Augenklinik, Building 16, ground floor",
				Start: at(22, 8, 45), End: at(22, 9, 15), Status: "booked", Kind: "elective",
				Patient: notifier.Patient{ID: "P2010005", Name: "Renate Müller-Lüdenscheidt", Language: "de",
					Email: "r.mueller-luedenscheidt@example.org", Phone: "+49 211 555 1005"}}},
			{"a service type and a follow-up", 28, notifier.Appointment{
				ID: "A2010112", Facility: "ukd", Department: "Physiotherapie",
				Start: at(27, 10, 30), End: at(27, 11, 0), Status: "booked", Kind: "followup",
				Patient: notifier.Patient{ID: "P2010012", Name: "Gráinne O'Connor", Language: "en", Email: "grainne.oconnor@example.net"}}},
			{"overnight in the sleep lab, at a Location by fullUrl", 32, notifier.Appointment{
				ID: "A2010116", Facility: "ukd", Department: "Schlaflabor", Location: "Moorenstraße 5, Building 11, level 1",
				Start: at(29, 20, 0), End: at(30, 6, 0), Status: "booked", Kind: "inpatient",
				Patient: notifier.Patient{ID: "P2010016", Name: "Sophie Hoffmann", Language: "de", Email: "sophie.hoffmann@example.org"}}},
			{"Margarete Schäfer is known by her identifier only", 69, notifier.Appointment{
				ID: "A2010124", Facility: "ukd", Department: "Cardiology", Location: "Herzzentrum, Building 13, level 2",
				Start: at(26, 11, 15), End: at(26, 12, 0), Status: "booked", Kind: "outpatient",
				Patient: notifier.Patient{ID: "P2010024", Name: "Margarete Schäfer", Language: "de",
					Email: "margarete.schaefer@example.org", Phone: "+49 211 555 1024", Channels: []string{"sms", "email"}}}},
			{"Emre Yılmaz is referred to by identifier", 70, notifier.Appointment{
				ID: "A2010125", Facility: "ukd", Department: "Ophthalmology", Location: "Augenklinik, Building 16, ground floor",
				Start: at(27, 13, 15), End: at(27, 13, 45), Status: "booked", Kind: "outpatient",
				Patient: notifier.Patient{ID: "P2010025", Name: "Emre Yılmaz", Language: "tr",
					Email: "emre.yilmaz@example.org", Phone: "+49 211 555 1025", Channels: []string{"email", "sms"}}}},
			{"Wilhelm Brandt is not in the bundle", 78, notifier.Appointment{
				ID: "A2010133", Facility: "ukd", Department: "Ophthalmology", Location: "Augenklinik, Building 16, ground floor",
				Start: at(29, 11, 0), End: at(29, 11, 30), Status: "booked", Kind: "outpatient",
				Patient: notifier.Patient{ID: "P2010099", Name: "Wilhelm Brandt"}}},
			{"İbrahim Doğan's appointment is given in UTC", 79, notifier.Appointment{
				ID: "A2010134", Facility: "ukd", Department: "Cardiology", Location: "Herzzentrum, Building 13, level 2",
				Start: at(27, 9, 30), End: at(27, 10, 15), Status: "booked", Kind: "outpatient",
				Patient: notifier.Patient{ID: "P2010003", Name: "İbrahim Halil Doğan", Language: "tr",
					Email: "ibrahim.dogan@example.org", Phone: "+49 211 555 1003"}}},
			{"a time without an offset", 81, notifier.Appointment{
				ID: "A2010136", Facility: "ukd", Department: "Dermatology", Location: "Moorenstraße 5, Building 11, level 1",
				Start: at(28, 10, 0), End: at(28, 10, 20), Status: "booked", Kind: "outpatient",
				Patient: notifier.Patient{ID: "P2010014", Name: "Zeynep Aydın", Language: "tr",
					Email: "zeynep.aydin@example.com", Phone: "+49 211 555 1014", Channels: []string{"email", "sms"}}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				row, ok := byID[tt.want.ID]
				if !ok {
					t.Fatalf("no appointment %s", tt.want.ID)
				}
				if row.Line != tt.entry {
					t.Errorf("got line %d, want entry %d", row.Line, tt.entry)
				}
				equalAppointment(t, row.Appointment, tt.want)
			})
		}
	})

	t.Run("covers the departments, languages and kinds", func(t *testing.T) {
		departments, languages, kinds, patients := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, a := range good {
			departments[a.Department] = true
			languages[a.Patient.Language] = true
			kinds[a.Kind] = true
			patients[a.Patient.ID] = true
			if local := a.Start.In(berlin(t)); local.Month() != time.October || local.Day() < 19 || local.Day() > 30 {
				t.Errorf("%s: starts %s, want between 19 and 30 October 2020", a.ID, local)
			}
		}
		if len(departments) < 8 {
			t.Errorf("got %d departments, want at least 8", len(departments))
		}
		if got, want := len(patients), 30; got != want {
			t.Errorf("got %d patients, want %d", got, want)
		}
		for _, lang := range []string{"de", "en", "tr"} {
			if !languages[lang] {
				t.Errorf("no patient speaks %s", lang)
			}
		}
		for _, kind := range []string{"outpatient", "elective", "inpatient", "followup", "walkin", "emergency"} {
			if !kinds[kind] {
				t.Errorf("no appointment of kind %s", kind)
			}
		}
	})

	t.Run("the demo outage", func(t *testing.T) {
		outage := demoOutage(t).Outage
		affected := map[string]int{}
		for _, a := range good {
			if outage.Affects(&a) {
				affected[a.Patient.ID]++
			}
		}
		if len(affected) < 10 {
			t.Errorf("affects %d patients, want at least 10", len(affected))
		}
		if affected["P2010003"] != 2 {
			t.Errorf("affects İbrahim Doğan %d times, want 2", affected["P2010003"])
		}
		// An outage that lists kinds passes over appointments whose kind
		// is only an appointmentType code.
		followup := byID["A2010112"].Appointment
		if outage.Affects(&followup) {
			t.Errorf("affects %s of kind %q, want it spared by kinds %q", followup.ID, followup.Kind, outage.Kinds)
		}
	})
}
