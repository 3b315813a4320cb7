package importer

import (
	"encoding/csv"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// readFile reads every row of a file under examples/ for facility ukd.
func readFile(t *testing.T, name string) []Row {
	t.Helper()
	f, err := os.Open("../examples/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := NewCSV(f, "ukd", berlin(t))
	if err != nil {
		t.Fatalf("NewCSV: %v", err)
	}
	var rows []Row
	for {
		row, err := c.Next()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
}

// demoOutage decodes examples/outage.json.
func demoOutage(t *testing.T) *notifier.Event {
	t.Helper()
	data, err := os.ReadFile("../examples/outage.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := notifier.DecodeEvent(data, "ukd")
	if err != nil {
		t.Fatalf("DecodeEvent: %v", err)
	}
	return ev
}

func TestSampleOutage(t *testing.T) {
	ev := demoOutage(t)
	o := ev.Outage
	loc := berlin(t)
	if got, want := o.From, time.Date(2020, 10, 21, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("from: got %s, want %s", got, want)
	}
	if got, want := o.Until, time.Date(2020, 10, 28, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("until: got %s, want %s, midnight after the clocks went back", got, want)
	}
	if ev.Type != notifier.EventDeclared || o.Action != notifier.ActionPostpone || !o.AllDepartments() {
		t.Errorf("got type %q, action %q, departments %q; want a postponement in every department",
			ev.Type, o.Action, o.Departments)
	}
	if got, want := o.Kinds, []string{"outpatient", "elective"}; !slices.Equal(got, want) {
		t.Errorf("kinds: got %q, want %q", got, want)
	}
	for _, lang := range []string{"de", "en", "tr"} {
		if o.Note[lang] == "" {
			t.Errorf("note: no text in %s", lang)
		}
	}
}

func TestSampleAppointments(t *testing.T) {
	rows := readFile(t, "appointments.csv")
	outage := demoOutage(t).Outage
	var (
		appointments []notifier.Appointment
		departments  = map[string]bool{}
		languages    = map[string]bool{}
		affected     = map[string]int{} // per patient
		unaffected   = map[string]int{} // per reason
	)
	for _, row := range rows {
		if row.Err != nil {
			t.Errorf("broken row: %v", row.Err)
			continue
		}
		a := row.Appointment
		appointments = append(appointments, a)
		departments[a.Department] = true
		languages[a.Patient.Language] = true
		switch {
		case outage.Affects(&a):
			affected[a.Patient.ID]++
		case a.Start.Before(outage.From) || !a.Start.Before(outage.Until):
			unaffected["outside the window"]++
		case a.Kind == notifier.KindInpatient:
			unaffected["inpatient"]++
		case !a.Active():
			unaffected["not active"]++
		}
	}
	if len(appointments) < 200 {
		t.Errorf("got %d appointments, want at least 200", len(appointments))
	}
	if len(departments) < 8 {
		t.Errorf("got %d departments, want at least 8", len(departments))
	}
	for _, lang := range []string{"de", "en", "tr"} {
		if !languages[lang] {
			t.Errorf("no patient speaks %s", lang)
		}
	}
	t.Run("the demo outage", func(t *testing.T) {
		total, twice := 0, 0
		for _, n := range affected {
			total += n
			if n > 1 {
				twice++
			}
		}
		if total < 150 {
			t.Errorf("affects %d appointments, want at least 150", total)
		}
		if twice == 0 {
			t.Error("affects no patient twice, want some patients with two appointments in the window")
		}
		for _, reason := range []string{"outside the window", "inpatient", "not active"} {
			if unaffected[reason] == 0 {
				t.Errorf("spares no appointment %s, want some", reason)
			}
		}
	})
	t.Run("times are written with the facility's offset", func(t *testing.T) {
		f, err := os.Open("../examples/appointments.csv")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		records, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range appointments {
			if got, want := records[i+1][3], a.Start.Format(time.RFC3339); got != want {
				t.Errorf("line %d: got start %s, want %s", i+2, got, want)
			}
			local := a.Start.Format("15:04")
			if local < "07:30" || local > "16:30" {
				t.Errorf("line %d: starts at %s local, want between 07:30 and 16:30", i+2, local)
			}
		}
	})
}

func TestBadAppointments(t *testing.T) {
	want := []string{
		"",
		"line 3: start: not a time (want RFC 3339 or YYYY-MM-DD HH:MM)",
		"line 4: start: required",
		"line 5: start: 2020-10-25 02:30 occurs twice in Europe/Berlin (the clocks go back); give an offset, +02:00 or +01:00",
		"line 6: 13 fields, want 12 as in the header",
		"line 7: email: not a plain e-mail address",
		`line 8: status: "postponed" is not a FHIR appointment status`,
		"line 9: language: not a language code such as de, en or tr",
		`line 10: id: "A 9000009" is not of the form [A-Za-z0-9_-]+; patient_id: required`,
		`line 11, column 104: bare " in non-quoted-field`,
		"line 12: location: contains a control character (U+000A); end: before start",
		"",
	}
	rows := readFile(t, "bad-appointments.csv")
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i, row := range rows {
		var got string
		if row.Err != nil {
			got = row.Err.Error()
		}
		if got != want[i] {
			t.Errorf("row %d: got error %q, want %q", i+1, got, want[i])
		}
	}
}
