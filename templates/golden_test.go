package templates

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postponement/notifier/notifier"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the rendered messages")

// wording is what a golden notice says in each language that is not part of
// the templates: the patient, the appointment's place and the operator's note.
var wording = map[string]struct {
	name, department, location, note string
}{
	"de": {"Erika Mustermann", "Kardiologie", "Gebäude 13.1, Ebene 2", "Die Notaufnahme ist weiterhin rund um die Uhr für Sie da."},
	"en": {"Jane Doe", "Cardiology", "Building 13.1, level 2", "The emergency department remains open around the clock."},
	"tr": {"Ayşe Yılmaz", "Kardiyoloji", "13.1 numaralı bina, 2. kat", "Acil servisimiz 7 gün 24 saat hizmet vermeye devam etmektedir."},
}

func TestRenderGolden(t *testing.T) {
	r := newRenderer(t)
	cases := []struct {
		name   string
		notice func(t *testing.T, lang string) *notifier.Notice
	}{
		{"postponed", func(t *testing.T, lang string) *notifier.Notice {
			n := sampleNotice(t, lang)
			w := wording[lang]
			n.Patient.Name = w.name
			n.Appointments[0].Department, n.Appointments[0].Location = w.department, w.location
			return n
		}},
		{"postponed-two-with-note", func(t *testing.T, lang string) *notifier.Notice {
			n := sampleNotice(t, lang)
			w := wording[lang]
			n.Patient.Name = w.name
			n.Note = w.note
			// Out of order and on both sides of the change to winter time:
			// listed by start, both at 09:30 local time.
			n.Appointments = []notifier.NoticeAppointment{
				{ID: "a-2", Location: w.location, Start: mustTime(t, "2020-10-26T08:30:00Z")},
				{ID: "a-1", Department: w.department, Start: mustTime(t, "2020-10-24T09:30:00+02:00")},
			}
			return n
		}},
		{"cancelled", func(t *testing.T, lang string) *notifier.Notice {
			n := sampleNotice(t, lang)
			w := wording[lang]
			n.Kind = notifier.KindCancelled
			n.Patient.Name = w.name
			n.InfoURL = ""
			n.Appointments[0].Department, n.Appointments[0].Location = "", w.location
			return n
		}},
		{"reinstated", func(t *testing.T, lang string) *notifier.Notice {
			n := sampleNotice(t, lang)
			w := wording[lang]
			n.Kind = notifier.KindReinstated
			n.Patient.Name = w.name
			n.Appointments[0].Department, n.Appointments[0].Location = w.department, w.location
			return n
		}},
		{"reinstated-two", func(t *testing.T, lang string) *notifier.Notice {
			n := sampleNotice(t, lang)
			w := wording[lang]
			n.Kind = notifier.KindReinstated
			n.Patient.Name = w.name
			n.InfoURL = ""
			n.Appointments = []notifier.NoticeAppointment{
				{ID: "a-1", Department: w.department, Location: w.location, Start: mustTime(t, "2020-09-14T09:30:00+02:00")},
				{ID: "a-2", Department: w.department, Start: mustTime(t, "2020-09-21T11:00:00+02:00")},
			}
			return n
		}},
		{"resumed", func(t *testing.T, lang string) *notifier.Notice {
			n := sampleNotice(t, lang)
			w := wording[lang]
			n.Kind = notifier.KindResumed
			n.Patient.Name = w.name
			n.Appointments[0].Department, n.Appointments[0].Location = w.department, w.location
			return n
		}},
		{"resumed-two-without-hotline", func(t *testing.T, lang string) *notifier.Notice {
			n := sampleNotice(t, lang)
			w := wording[lang]
			n.Kind = notifier.KindResumed
			n.Patient.Name = ""
			n.Hotline = ""
			n.Note = w.note
			n.Appointments = []notifier.NoticeAppointment{
				{ID: "a-2", Location: w.location, Start: mustTime(t, "2020-10-26T08:30:00Z")},
				{ID: "a-1", Department: w.department, Start: mustTime(t, "2020-10-24T09:30:00+02:00")},
			}
			return n
		}},
	}
	for _, lang := range r.Languages() {
		for _, c := range cases {
			name := lang + "-" + c.name
			t.Run(name, func(t *testing.T) {
				m := render(t, r, c.notice(t, lang))
				got := "Subject: " + m.Subject + "\n\n--- text ---\n" + m.Text + "--- html ---\n" + m.HTML
				checkGolden(t, filepath.Join("testdata", name+".golden"), got)
			})
		}
	}
}

// checkGolden compares got with the golden file at path, or rewrites the file
// when the -update flag is set.
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
		t.Fatalf("%v (run go test ./templates/ -update to create it)", err)
	}
	want := string(b)
	if got == want {
		return
	}
	gotLines, wantLines := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(gotLines), len(wantLines)) {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Errorf("%s:%d differs (run go test ./templates/ -update if the change is intended)\n got: %q\nwant: %q", path, i+1, g, w)
			return
		}
	}
}
