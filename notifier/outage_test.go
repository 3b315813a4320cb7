package notifier

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const goodEvent = `{"specversion":"1.0","id":"evt-0001","source":"/scheduling/ukd","type":"outage.declared",
 "time":"2020-09-10T06:00:00Z","datacontenttype":"application/json",
 "data":{"outage_id":"ukd-it-2020-09","facility":"ukd",
         "from":"2020-09-10T00:00:00+02:00","until":"2020-09-17T00:00:00+02:00",
         "departments":["*"],"kinds":["outpatient","elective"],
         "action":"postpone","hotline":"+49 211 81-04444",
         "info_url":"https://example.org/outage"}}`

func TestDecodeEvent(t *testing.T) {
	t.Run("the contract's example", func(t *testing.T) {
		ev, err := DecodeEvent([]byte(goodEvent), "ukd")
		if err != nil {
			t.Fatal(err)
		}
		if ev.Outage.OutageID != "ukd-it-2020-09" || !ev.Outage.AllDepartments() || len(ev.Outage.Kinds) != 2 {
			t.Errorf("decoded %+v", ev.Outage)
		}
	})
	t.Run("updated and resolved are accepted", func(t *testing.T) {
		for _, typ := range []string{EventUpdated, EventResolved} {
			if _, err := DecodeEvent([]byte(strings.Replace(goodEvent, EventDeclared, typ, 1)), "ukd"); err != nil {
				t.Errorf("%s: %v", typ, err)
			}
		}
		resolved := `{"specversion":"1.0","id":"e2","source":"/s","type":"outage.resolved","data":{"outage_id":"o-1","facility":"ukd","notify":true}}`
		if _, err := DecodeEvent([]byte(resolved), "ukd"); err != nil {
			t.Errorf("a resolved event needs no window: %v", err)
		}
	})

	r := strings.NewReplacer
	bad := []struct{ name, event, facility, want string }{
		{"not JSON", `not json`, "ukd", "not a JSON CloudEvent"},
		{"wrong specversion", strings.Replace(goodEvent, `"1.0"`, `"0.3"`, 1), "ukd", "specversion"},
		{"no id", strings.Replace(goodEvent, `"id":"evt-0001",`, ``, 1), "ukd", "id: required"},
		{"unknown type", strings.Replace(goodEvent, `outage.declared`, `outage.maybe`, 1), "ukd", "type"},
		{"no data", `{"specversion":"1.0","id":"e","source":"/s","type":"outage.declared"}`, "ukd", "data: required"},
		{"facility differs from subject", goodEvent, "other", "data.facility"},
		{"until before from", r(`"from":"2020-09-10T00:00:00+02:00","until":"2020-09-17T00:00:00+02:00"`, `"from":"2020-09-17T00:00:00+02:00","until":"2020-09-10T00:00:00+02:00"`).Replace(goodEvent), "ukd", "not after data.from"},
		{"no departments", strings.Replace(goodEvent, `"departments":["*"],`, ``, 1), "ukd", "data.departments: required"},
		{"empty departments", strings.Replace(goodEvent, `["*"]`, `[]`, 1), "ukd", "data.departments: required"},
		{"no hotline", strings.Replace(goodEvent, `"hotline":"+49 211 81-04444",`, ``, 1), "ukd", "data.hotline: required"},
		{"hotline without digits", strings.Replace(goodEvent, `+49 211 81-04444`, `(((`, 1), "ukd", "data.hotline"},
		{"bad action", strings.Replace(goodEvent, `"postpone"`, `"panic"`, 1), "ukd", "data.action"},
		{"bad info url", strings.Replace(goodEvent, `https://example.org/outage`, `javascript:alert(1)`, 1), "ukd", "data.info_url"},
		{"note too long", strings.Replace(goodEvent, `"action"`, `"note":{"de":"`+strings.Repeat("ä", MaxNoteLength+1)+`"},"action"`, 1), "ukd", "data.note.de"},
		{"bad time", strings.Replace(goodEvent, `2020-09-17T00:00:00+02:00`, `next week`, 1), "ukd", "RFC 3339"},
		{"oversized", strings.Replace(goodEvent, `evt-0001`, strings.Repeat("x", MaxEventSize), 1), "ukd", "at most"},
		{"departments twice, differing in case", strings.Replace(goodEvent, `"departments":["*"],`, `"departments":["*"],"DEPARTMENTS":["cardiology"],`, 1), "ukd", `the member "DEPARTMENTS" appears twice`},
		{"scope in a declaration", strings.Replace(goodEvent, `"action"`, `"scope":"0123456789abcdef","action"`, 1), "ukd", "data.scope: only in outage.approved"},
		{"held patients from a publisher", strings.Replace(goodEvent, `"action"`, `"held_patients":3,"action"`, 1), "ukd", "data.held_patients: set by the worker"},
		{"malformed scope in an approval", `{"specversion":"1.0","id":"a1","source":"/s","type":"outage.approved","data":{"outage_id":"o-1","facility":"ukd","scope":"xyz"}}`, "ukd", "data.scope"},
		{"type twice", strings.Replace(goodEvent, `"type":`, `"Type":"outage.resolved","type":`, 1), "ukd", "appears twice"},
		{"bidi override in a note", strings.Replace(goodEvent, `"action"`, `"note":{"de":"Bitte \u202ekommen\u202c Sie nicht"},"action"`, 1), "ukd", "data.note.de: contains an invisible formatting character"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEvent([]byte(tc.event), tc.facility)
			if err == nil {
				t.Fatal("accepted, want an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestOutageAffects(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	o := Outage{Facility: "ukd", From: time.Date(2020, 9, 10, 0, 0, 0, 0, berlin), Until: time.Date(2020, 9, 17, 0, 0, 0, 0, berlin),
		Departments: []string{"cardiology"}}
	base := Appointment{Facility: "ukd", Department: "cardiology", Kind: "outpatient", Status: StatusBooked,
		Start: time.Date(2020, 9, 14, 9, 30, 0, 0, berlin)}
	tests := []struct {
		name string
		edit func(a *Appointment, o *Outage)
		want bool
	}{
		{"in scope", func(*Appointment, *Outage) {}, true},
		{"at from", func(a *Appointment, o *Outage) { a.Start = o.From }, true},
		{"at until", func(a *Appointment, o *Outage) { a.Start = o.Until }, false},
		{"other facility", func(a *Appointment, _ *Outage) { a.Facility = "x" }, false},
		{"other department", func(a *Appointment, _ *Outage) { a.Department = "oncology" }, false},
		{"department in other case", func(a *Appointment, _ *Outage) { a.Department = "Cardiology" }, true},
		{"every department", func(a *Appointment, o *Outage) { a.Department = "oncology"; o.Departments = []string{"*"} }, true},
		{"inpatient when no kinds", func(a *Appointment, _ *Outage) { a.Kind = KindInpatient }, false},
		{"inpatient when listed", func(a *Appointment, o *Outage) { a.Kind = KindInpatient; o.Kinds = []string{KindInpatient} }, true},
		{"kind not listed", func(_ *Appointment, o *Outage) { o.Kinds = []string{"elective"} }, false},
		{"cancelled", func(a *Appointment, _ *Outage) { a.Status = "cancelled" }, false},
		{"entered in error", func(a *Appointment, _ *Outage) { a.Status = "entered-in-error" }, false},
		{"checked in", func(a *Appointment, _ *Outage) { a.Status = StatusCheckedIn }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, oo := base, o
			oo.Departments = append([]string(nil), o.Departments...)
			tc.edit(&a, &oo)
			if got := oo.Affects(&a); got != tc.want {
				t.Errorf("Affects = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNoticeID(t *testing.T) {
	a := NoticeID("o-1", KindPostponed, "P-1", []string{"A-2", "A-1"})
	if b := NoticeID("o-1", KindPostponed, "P-1", []string{"A-1", "A-2"}); a != b {
		t.Errorf("ids differ with the order of appointments: %s, %s", a, b)
	}
	for name, other := range map[string]string{
		"outage":      NoticeID("o-2", KindPostponed, "P-1", []string{"A-1", "A-2"}),
		"kind":        NoticeID("o-1", KindCancelled, "P-1", []string{"A-1", "A-2"}),
		"patient":     NoticeID("o-1", KindPostponed, "P-2", []string{"A-1", "A-2"}),
		"appointment": NoticeID("o-1", KindPostponed, "P-1", []string{"A-1"}),
	} {
		if other == a {
			t.Errorf("another %s gives the same id", name)
		}
	}
}
