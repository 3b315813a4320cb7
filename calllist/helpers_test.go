package calllist

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	_ "time/tzdata" // the tests must not depend on the machine's zoneinfo

	"github.com/postponement/notifier/notifier"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the rendered call lists")

// berlin is the sample facility's zone.
func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at parses an RFC 3339 time.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// sampleOutage is an outage of a German hospital; times are UTC so that the
// tests show them converted to Berlin time (UTC+1 in March).
func sampleOutage(t *testing.T) Outage {
	t.Helper()
	return Outage{
		ID:           "2024-03-cyber-1",
		Facility:     "uk-nord",
		FacilityName: "Universitätsklinikum Nord",
		Hotline:      "+49 30 555 0100",
		From:         at(t, "2024-03-03T22:00:00Z"),
		Until:        at(t, "2024-03-06T17:00:00Z"),
		TimeZone:     berlin(t),
	}
}

// sampleGenerated is when the sample list was generated.
func sampleGenerated(t *testing.T) time.Time {
	t.Helper()
	return at(t, "2024-03-04T05:30:00Z")
}

// sampleRows are three patients, deliberately not in call order: two share
// the earliest appointment, and one has two appointments listed out of order.
func sampleRows(t *testing.T) []Row {
	t.Helper()
	return []Row{
		{
			NoticeID: "n-erika", PatientID: "p-1002", Name: "Erika Mustermann",
			Phone: "+49 (0)30 1234567", Language: "de",
			Appointments: []Appointment{
				{ID: "a-2", Department: "Kardiologie", Location: "Gebäude 13.1, Ebene 2", Start: at(t, "2024-03-05T08:30:00Z")},
				{ID: "a-1", Department: "Radiologie", Start: at(t, "2024-03-04T13:00:00Z")},
			},
			Reasons: []notifier.Attempt{
				{Channel: "email", Result: notifier.ResultSkipped, Reason: "patient has no e-mail address"},
				{Channel: "sms", Result: notifier.ResultFailed, Class: "transient", Code: 503, Reason: "gateway unavailable"},
				{Channel: "sms", Result: notifier.ResultFailed, Class: "transient", Code: 503, Reason: "gateway unavailable"},
				{Channel: "sms", Result: notifier.ResultFailed, Class: "transient", Code: 503, Reason: "gateway unavailable"},
			},
			AddedAt: at(t, "2024-03-04T05:12:00Z"),
		},
		{
			NoticeID: "n-ayse", PatientID: "p-1001", Name: "Ayşe Yılmaz",
			Phone: "0151 2345678", Language: "tr",
			Appointments: []Appointment{
				{ID: "a-3", Department: "Dialyse", Location: "Haus 2", Start: at(t, "2024-03-04T07:15:00Z")},
			},
			Reasons: []notifier.Attempt{
				{Channel: "email", Result: notifier.ResultFailed, Class: "bad-address", Code: 550, Enhanced: "5.1.1", Reason: "mailbox unavailable"},
				{Channel: "sms", Result: notifier.ResultFailed, Class: "permanent", Code: 400, Reason: "number not reachable"},
			},
			Urgent:  true,
			AddedAt: at(t, "2024-03-04T05:01:00Z"),
		},
		{
			NoticeID: "n-jan", PatientID: "p-0999", Name: "Jan Kowalski",
			Phone: "+48 600 100 200", Language: "pl",
			Appointments: []Appointment{
				{ID: "a-4", Department: "Orthopädie", Location: "Haus 7", Start: at(t, "2024-03-04T07:15:00Z")},
			},
			Reasons: []notifier.Attempt{
				{Channel: "email", Result: notifier.ResultSkipped, Reason: "patient has no e-mail address"},
				{Channel: "sms", Result: notifier.ResultFailed, Class: "bad-address", Code: 400, Reason: "number invalid"},
			},
			Urgent: true,
		},
	}
}

// checkGolden compares got with the golden file at path, or rewrites the
// file when the -update flag is set.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./calllist/ -update to create it)", err)
	}
	gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(b), "\n")
	for i := range max(len(gotLines), len(wantLines)) {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Fatalf("%s:%d differs (run go test ./calllist/ -update if the change is intended)\n got: %q\nwant: %q", path, i+1, g, w)
		}
	}
}
