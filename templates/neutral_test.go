package templates

import (
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

func TestSensitiveDepartmentHasANeutralLabel(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range r.Languages() {
		t.Run(lang, func(t *testing.T) {
			if neutralPlace[lang] == "" {
				t.Fatalf("no neutral label in %s", lang)
			}
			n := &notifier.Notice{ID: "n-1", Kind: notifier.KindPostponed, Facility: "ukd", TimeZone: "Europe/Berlin",
				Language: lang, Hotline: "+49 211 81-04444", Patient: notifier.Patient{ID: "P-1", Name: "Jana Müller"},
				Appointments: []notifier.NoticeAppointment{{ID: "A-1", Start: time.Date(2020, 10, 22, 9, 0, 0, 0, time.UTC), Neutral: true}}}
			m, err := r.Render(n)
			if err != nil {
				t.Fatal(err)
			}
			for _, part := range []string{m.Text, m.HTML} {
				if !strings.Contains(part, neutralPlace[lang]) {
					t.Errorf("the notice does not say %q:\n%s", neutralPlace[lang], part)
				}
			}
		})
	}
}
