package app

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

var berlin = mustLocation("Europe/Berlin")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// local is a time on a day of October 2020 in Berlin.
func local(day, hour, minute int) time.Time {
	return time.Date(2020, 10, day, hour, minute, 0, 0, berlin)
}

// previewConfig has an e-mail relay, an SMS gateway and a Maildir, in that
// order, and the call list.
func previewConfig(dir string) *config.Config {
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Channels = []config.Channel{
		{Name: "relay", Type: config.TypeSMTP},
		{Name: "gateway", Type: config.TypeWebhook},
		{Name: "box", Type: config.TypeMaildir},
		{Name: "calllist", Type: config.TypeCallList},
	}
	return cfg
}

// fillStore writes the appointments into a new SQLite file under dir,
// in the order given, and closes it.
func fillStore(t testing.TB, dir string, appts []notifier.Appointment) {
	t.Helper()
	db := store.NewDB(filepath.Join(dir, "notifier.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const chunk = 10000
	for i := 0; i < len(appts); i += chunk {
		changes := make([]notifier.AppointmentChange, 0, chunk)
		for j := i; j < min(i+chunk, len(appts)); j++ {
			changes = append(changes, notifier.AppointmentChange{Seq: uint64(j + 1), Appointment: &appts[j]})
		}
		if err := db.ApplyAppointments(context.Background(), changes); err != nil {
			t.Fatal(err)
		}
	}
}

// openLocal opens the file fillStore wrote, read-only, as the command does.
func openLocal(t testing.TB, cfg *config.Config) *store.DB {
	t.Helper()
	db, err := OpenLocalStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sampleEvent(t testing.TB, from, until time.Time) *notifier.Event {
	t.Helper()
	ev, err := BuildEvent(EventOptions{Facility: "ukd", OutageID: "ukd-test", From: from, Until: until,
		Departments: []string{"*"}, Hotline: "+49 211 81-04444",
		Note: map[string]string{"tr": "Acil bir durumda 112'yi arayınız."}})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func appt(id, patient, lang, email, phone, dept string, start time.Time) notifier.Appointment {
	return notifier.Appointment{ID: id, Facility: "ukd", Department: dept, Location: "Building 1", Start: start,
		Status: notifier.StatusBooked, Kind: "outpatient",
		Patient: notifier.Patient{ID: patient, Name: "Patient " + patient, Language: lang, Email: email, Phone: phone}}
}

func TestPreviewCounts(t *testing.T) {
	dir := t.TempDir()
	prefersSMS := appt("A4", "P-3", "tr", "p3@example.org", "+49 211 5550103", "radiology", local(24, 8, 0))
	prefersSMS.Patient.Channels = []string{"sms", "email"}
	// P-7's later record is fresher: Turkish, a new name and a phone.
	older := appt("A8", "P-7", "en", "p7@example.org", "", "cardiology", local(21, 7, 0))
	older.Patient.Name = "Ayse Old"
	fresher := appt("A9", "P-7", "tr", "p7@example.org", "+49 211 5550107", "cardiology", local(27, 9, 0))
	fresher.Patient.Name = "Ayşe Yılmaz"
	inpatient := appt("A10", "P-8", "de", "p8@example.org", "", "cardiology", local(21, 10, 0))
	inpatient.Kind = notifier.KindInpatient
	cancelled := appt("A11", "P-9", "de", "p9@example.org", "", "cardiology", local(21, 10, 0))
	cancelled.Status = "cancelled"
	elsewhere := appt("A13", "P-11", "de", "p11@example.org", "", "cardiology", local(21, 10, 0))
	elsewhere.Facility = "other"
	fillStore(t, dir, []notifier.Appointment{
		appt("A1", "P-1", "de", "p1@example.org", "+49 211 5550101", "cardiology", local(21, 9, 0)),
		appt("A2", "P-1", "de", "p1@example.org", "+49 211 5550101", "Cardiology", local(22, 10, 0)),
		appt("A3", "P-2", "en", "", "+49 211 5550102", "radiology", local(23, 11, 0)),
		prefersSMS,
		appt("A5", "P-4", "fr", "", "", "", local(26, 9, 0)),
		// 00:30 in Berlin is the 22nd there, the 21st in UTC.
		appt("A6", "P-5", "en", "p5@example.org", "", "oncology", local(22, 0, 30)),
		appt("A7", "P-6", "de", "p6@example.org", "", "oncology", local(21, 8, 0)),
		older, fresher, inpatient, cancelled,
		appt("A12", "P-10", "de", "p10@example.org", "", "cardiology", local(28, 0, 0)), // until is exclusive
		elsewhere,
	})
	cfg := previewConfig(dir)
	ev := sampleEvent(t, local(21, 0, 0), local(28, 0, 0))
	var progressed []int
	p, err := PreviewEvent(context.Background(), openLocal(t, cfg), cfg, ev, PreviewOptions{
		Now: local(20, 12, 0), Progress: func(n int) { progressed = append(progressed, n) }})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("totals", func(t *testing.T) {
		for _, c := range []struct {
			name      string
			got, want int
		}{
			{"appointments", p.Appointments, 9},
			{"patients", p.Patients, 7},
			{"call list only", p.CallListOnly, 1},
			{"no contact", p.NoContact, 1},
			// within 48h of the 20th, 12:00: P-7, P-6, P-1 and P-5
			{"urgent", p.Urgent, 4},
		} {
			if c.got != c.want {
				t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
			}
		}
	})
	t.Run("by department, case folded", func(t *testing.T) {
		want := []DepartmentCount{{"", 1, 1}, {"cardiology", 4, 2}, {"oncology", 2, 2}, {"radiology", 2, 2}}
		if !slices.Equal(p.Departments, want) {
			t.Errorf("got %v, want %v", p.Departments, want)
		}
	})
	t.Run("by local day", func(t *testing.T) {
		want := []DayCount{{"2020-10-21", 3, 3}, {"2020-10-22", 2, 2}, {"2020-10-23", 1, 1},
			{"2020-10-24", 1, 1}, {"2020-10-26", 1, 1}, {"2020-10-27", 1, 1}}
		if !slices.Equal(p.Days, want) {
			t.Errorf("got %v, want %v", p.Days, want)
		}
	})
	t.Run("first channels", func(t *testing.T) {
		want := []ChannelCount{{"relay", "smtp", 4}, {"gateway", "webhook", 2}, {"box", "maildir", 0}}
		if !slices.Equal(p.FirstChannels, want) {
			t.Errorf("got %v, want %v", p.FirstChannels, want)
		}
	})
	t.Run("one sample per language, the soonest patient", func(t *testing.T) {
		var got []string
		for _, s := range p.Samples {
			got = append(got, fmt.Sprintf("%s %s %d %s", s.Language, s.PatientID, s.Appointments, s.Earliest.Format("02 15:04")))
		}
		want := []string{"de P-6 1 21 08:00", "en P-5 1 22 00:30", "tr P-7 2 21 07:00"}
		if !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("a sample is the rendered notice, from the freshest record", func(t *testing.T) {
		tr := p.Samples[2]
		for _, want := range []string{"Ayşe Yılmaz", "21 Ekim 2020 Çarşamba, 07:00", "27 Ekim 2020", "112'yi", "81-04444"} {
			if !strings.Contains(tr.Text, want) {
				t.Errorf("the Turkish sample lacks %q:\n%s", want, tr.Text)
			}
		}
		if !strings.Contains(tr.Subject, "21.10.2020") {
			t.Errorf("subject %q", tr.Subject)
		}
	})
	t.Run("progress ends with the total", func(t *testing.T) {
		if len(progressed) == 0 || progressed[len(progressed)-1] != 9 {
			t.Errorf("progress calls %v, want the last to be 9", progressed)
		}
	})
}

func TestPreviewOfNothing(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, nil)
	cfg := previewConfig(dir)
	p, err := PreviewEvent(context.Background(), openLocal(t, cfg), cfg, sampleEvent(t, local(21, 0, 0), local(28, 0, 0)), PreviewOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Appointments != 0 || p.Patients != 0 || len(p.Samples) != 0 || p.Departments == nil || p.Days == nil {
		t.Errorf("preview %+v, want zero counts and empty (not null) lists", p)
	}
}

func TestPreviewRefusesResolved(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir, nil)
	cfg := previewConfig(dir)
	ev, err := BuildEvent(EventOptions{Type: notifier.EventResolved, Facility: "ukd", OutageID: "ukd-test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PreviewEvent(context.Background(), openLocal(t, cfg), cfg, ev, PreviewOptions{}); err == nil {
		t.Error("a resolved event was previewed")
	}
}

func TestFirstLink(t *testing.T) {
	links := routeLinks(previewConfig("").Channels)
	name := func(i int) string {
		if i < 0 {
			return "call list"
		}
		return links[i].name
	}
	for _, c := range []struct {
		name    string
		patient notifier.Patient
		want    string
	}{
		{"e-mail and phone: configured order", notifier.Patient{Email: "a@b.c", Phone: "1"}, "relay"},
		{"no e-mail: no e-mail channel", notifier.Patient{Phone: "1"}, "gateway"},
		{"no phone: e-mail", notifier.Patient{Email: "a@b.c"}, "relay"},
		{"no phone but prefers SMS: e-mail all the same", notifier.Patient{Email: "a@b.c", Channels: []string{"sms"}}, "relay"},
		{"prefers SMS", notifier.Patient{Email: "a@b.c", Phone: "1", Channels: []string{"sms"}}, "gateway"},
		{"prefers e-mail", notifier.Patient{Email: "a@b.c", Phone: "1", Channels: []string{"email", "sms"}}, "relay"},
		{"nothing", notifier.Patient{}, "call list"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := name(firstLink(links, c.patient)); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
	t.Run("a Maildir only", func(t *testing.T) {
		links := routeLinks([]config.Channel{{Name: "box", Type: config.TypeMaildir}, {Name: "calllist", Type: config.TypeCallList}})
		if got := firstLink(links, notifier.Patient{Phone: "1"}); got != -1 {
			t.Errorf("a patient with only a phone got channel %d, want the call list", got)
		}
	})
}

// BenchmarkPreview previews an outage of 100,000 appointments of 50,000
// patients in a real SQLite file.
func BenchmarkPreview(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	depts := []string{"cardiology", "oncology", "radiology", "neurology", "urology", "ent", "dermatology", "paediatrics"}
	langs := []string{"de", "de", "en", "tr", "fr"}
	appts := make([]notifier.Appointment, n)
	for i := range appts {
		p := i / 2
		a := appt(fmt.Sprintf("A-%d", i), fmt.Sprintf("P-%d", p), langs[p%len(langs)], "", "", depts[i%len(depts)],
			local(21+i%7, 7+i%10, 15*(i%4)))
		if p%7 != 0 {
			a.Patient.Email = fmt.Sprintf("p%d@example.org", p)
		}
		if p%2 == 0 {
			a.Patient.Phone = "+49 211 5550100"
		}
		appts[i] = a
	}
	fillStore(b, dir, appts)
	cfg := previewConfig(dir)
	db := openLocal(b, cfg)
	ev := sampleEvent(b, local(21, 0, 0), local(28, 0, 0))
	now := local(20, 12, 0)
	for b.Loop() {
		p, err := PreviewEvent(context.Background(), db, cfg, ev, PreviewOptions{Now: now})
		if err != nil {
			b.Fatal(err)
		}
		if p.Appointments != n {
			b.Fatalf("%d appointments affected, want %d", p.Appointments, n)
		}
	}
}

// TestPreviewWritesThePlannersNotices: preview and the real planner group
// the same data into the same notices, notice by notice, a sensitive
// department's appointments under the neutral label in both.
func TestPreviewWritesThePlannersNotices(t *testing.T) {
	e := newEnv(t)
	f := e.cfg.Facilities["ukd"]
	f.SensitiveDepartments = []string{"Oncology"}
	f.ApprovalThreshold = 1 // held: the notices stay in the NOTICES stream
	e.cfg.Facilities["ukd"] = f
	e.startWorker()
	e.importCSV(fixture)
	ctx := context.Background()
	ev := sampleOutage(t, "evt-1")

	e.hold(ev)
	// The replica the planner read, previewed.
	var previewed []*notifier.Notice
	if _, err := PreviewEvent(ctx, e.w.DB, e.cfg, ev, PreviewOptions{Notice: func(n *notifier.Notice) { previewed = append(previewed, n) }}); err != nil {
		t.Fatal(err)
	}
	// NOTICES is a work queue: read the held notices by sequence.
	stream, err := e.conn.JS.Stream(ctx, engine.StreamNotices)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var planned []*notifier.Notice
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil || !strings.HasPrefix(m.Subject, "notices.ukd.held.") {
			continue
		}
		var n notifier.Notice
		if err := json.Unmarshal(m.Data, &n); err != nil {
			t.Fatal(err)
		}
		planned = append(planned, &n)
	}
	if len(planned) == 0 || len(planned) != len(previewed) {
		t.Fatalf("planner wrote %d notices, preview %d", len(planned), len(previewed))
	}
	neutral := 0
	for i, p := range planned {
		v := previewed[i]
		// Only when and for which event differ: preview plans no event.
		p.PlannedAt, v.PlannedAt, p.EventKey = time.Time{}, time.Time{}, ""
		if !reflect.DeepEqual(p, v) {
			t.Errorf("notice %d differs:\nplanner %+v\npreview %+v", i, p, v)
		}
		for _, a := range v.Appointments {
			if a.Neutral {
				neutral++
				if a.Department != "" || a.Location != "" {
					t.Errorf("preview names a sensitive department: %+v", a)
				}
			}
		}
	}
	if neutral == 0 {
		t.Error("no appointment under the neutral label: the fixture's oncology appointment should be one")
	}
}
