package templates

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/sms"
)

// withAppointments returns n with k appointments: its own and k-1 later ones,
// listed before it so that the short text must find the earliest.
func withAppointments(t *testing.T, n *notifier.Notice, k int) *notifier.Notice {
	t.Helper()
	later := mustTime(t, "2020-10-26T08:30:00Z")
	for i := 1; i < k; i++ {
		a := notifier.NoticeAppointment{ID: fmt.Sprintf("a-%d", i+1), Start: later.AddDate(0, 0, i)}
		n.Appointments = append([]notifier.NoticeAppointment{a}, n.Appointments...)
	}
	return n
}

func TestRenderShortGolden(t *testing.T) {
	r := newRenderer(t)
	type sample = func(t *testing.T, lang string) *notifier.Notice
	one := func(t *testing.T, lang string) *notifier.Notice { return sampleNotice(t, lang) }
	two := func(t *testing.T, lang string) *notifier.Notice { return withAppointments(t, sampleNotice(t, lang), 2) }
	twelve := func(t *testing.T, lang string) *notifier.Notice {
		return withAppointments(t, sampleNotice(t, lang), 12)
	}
	noHotline := func(t *testing.T, lang string) *notifier.Notice {
		n := sampleNotice(t, lang)
		n.Hotline = ""
		return n
	}
	// kind makes the notices of sample of the given kind.
	kind := func(kind string, sample sample) sample {
		return func(t *testing.T, lang string) *notifier.Notice {
			n := sample(t, lang)
			n.Kind = kind
			return n
		}
	}
	cases := []struct {
		name   string
		notice sample
	}{
		{"postponed, one appointment", one},
		{"postponed, two appointments", two},
		{"postponed, twelve appointments", twelve},
		{"cancelled, one appointment", kind(notifier.KindCancelled, one)},
		{"cancelled, two appointments", kind(notifier.KindCancelled, two)},
		{"postponed, no hotline", noHotline},
		{"cancelled, no hotline", kind(notifier.KindCancelled, noHotline)},
		{"reinstated, one appointment", kind(notifier.KindReinstated, one)},
		{"reinstated, two appointments", kind(notifier.KindReinstated, two)},
		{"reinstated, twelve appointments", kind(notifier.KindReinstated, twelve)},
		{"reinstated, no hotline", kind(notifier.KindReinstated, noHotline)},
		{"resumed, one appointment", kind(notifier.KindResumed, one)},
		{"resumed, two appointments", kind(notifier.KindResumed, two)},
		{"resumed, twelve appointments", kind(notifier.KindResumed, twelve)},
		{"resumed, no hotline", kind(notifier.KindResumed, noHotline)},
	}
	for _, lang := range r.Languages() {
		t.Run(lang, func(t *testing.T) {
			var b strings.Builder
			for _, c := range cases {
				short := render(t, r, c.notice(t, lang)).Short
				enc, segments := sms.Segments(short)
				fmt.Fprintf(&b, "# %s: %s, %d SMS, %d characters\n%s\n\n",
					c.name, enc, segments, utf8.RuneCountInString(short), short)
			}
			checkGolden(t, filepath.Join("testdata", "short-"+lang+".golden"), b.String())
		})
	}
}

func TestRenderShortFitsOneSMS(t *testing.T) {
	// Without a short name the SMS names the facility in full: the sample's
	// name (31 letters) and hotline (12) are near the 43 or 44 the wording
	// leaves room for.
	r := newRenderer(t)
	for _, lang := range r.Languages() {
		for _, kind := range kinds {
			for _, k := range []int{1, 2, 12} {
				t.Run(fmt.Sprintf("%s %s %d", lang, kind, k), func(t *testing.T) {
					n := withAppointments(t, sampleNotice(t, lang), k)
					n.Kind = kind
					n.FacilityShortName = ""
					short := render(t, r, n).Short
					if enc, segments := sms.Segments(short); enc != sms.GSM7 || segments != 1 {
						t.Errorf("Segments = %s, %d; want %s, 1 for %q", enc, segments, sms.GSM7, short)
					}
				})
			}
		}
	}
}

func TestRenderShort(t *testing.T) {
	r := newRenderer(t)

	t.Run("names the earliest appointment and counts the others", func(t *testing.T) {
		tests := []struct {
			lang string
			kind string
			k    int
			want string
		}{
			{"de", notifier.KindPostponed, 1, "Ihr Termin am 14.09.2020 um 09:30 ist verschoben."},
			{"de", notifier.KindPostponed, 2, "Ihr Termin am 14.09.2020 um 09:30 und 1 weiterer sind verschoben."},
			{"de", notifier.KindPostponed, 3, "Ihr Termin am 14.09.2020 um 09:30 und 2 weitere sind verschoben."},
			{"de", notifier.KindReinstated, 1, "Ihr Termin am 14.09.2020 um 09:30 findet doch statt."},
			{"de", notifier.KindReinstated, 2, "Ihr Termin am 14.09.2020 um 09:30 und 1 weiterer finden doch statt."},
			{"de", notifier.KindResumed, 1, "Ihr Termin am 14.09.2020 um 09:30 bleibt verschoben"},
			{"de", notifier.KindResumed, 3, "Ihr Termin am 14.09.2020 um 09:30 und 2 weitere bleiben verschoben"},
			{"en", notifier.KindPostponed, 1, "Your appointment on 14 Sep 2020 at 09:30 is postponed."},
			{"en", notifier.KindPostponed, 3, "Your appointment on 14 Sep 2020 at 09:30 and 2 more are postponed."},
			{"en", notifier.KindReinstated, 3, "Your appointment on 14 Sep 2020 at 09:30 and 2 more will go ahead as planned after all."},
			{"en", notifier.KindResumed, 1, "Your appointment on 14 Sep 2020 at 09:30 stays postponed"},
			{"en", notifier.KindResumed, 3, "Your appointment on 14 Sep 2020 at 09:30 and 2 more stay postponed"},
			{"tr", notifier.KindPostponed, 1, "14.09.2020 09:30 tarihli randevunuz ertelendi."},
			{"tr", notifier.KindPostponed, 3, "14.09.2020 09:30 tarihli randevunuz ve 2 randevunuz daha ertelendi."},
			{"tr", notifier.KindReinstated, 1, "14.09.2020 09:30 tarihli randevunuz ertelenmeyecek. Lütfen planlanan saatte geliniz."},
			{"tr", notifier.KindReinstated, 3, "14.09.2020 09:30 tarihli randevunuz ve 2 randevunuz daha ertelenmeyecek. Lütfen planlanan saatlerde geliniz."},
			{"tr", notifier.KindResumed, 3, "14.09.2020 09:30 tarihli randevunuz ve 2 randevunuz daha yeniden planlanacak."},
		}
		for _, tt := range tests {
			n := withAppointments(t, sampleNotice(t, tt.lang), tt.k)
			n.Kind = tt.kind
			if got := render(t, r, n).Short; !strings.Contains(got, tt.want) {
				t.Errorf("%s %s with %d appointments: Short = %q, want it to contain %q", tt.lang, tt.kind, tt.k, got, tt.want)
			}
		}
	})
	t.Run("starts with the facility's short name and ends with the hotline", func(t *testing.T) {
		for _, lang := range r.Languages() {
			for _, kind := range kinds {
				n := sampleNotice(t, lang)
				n.Kind = kind
				got := render(t, r, n).Short
				if !strings.HasPrefix(got, "UKD: ") || !strings.HasSuffix(got, " +49 211 81-0") {
					t.Errorf("%s %s: Short = %q", lang, kind, got)
				}
			}
		}
	})
	t.Run("falls back to the facility's name, then its id", func(t *testing.T) {
		tests := []struct {
			name, short, full, want string
		}{
			{"short name", "UKD", "Universitätsklinikum Düsseldorf", "UKD: "},
			{"short name with spaces", "  UKD ", "Universitätsklinikum Düsseldorf", "UKD: "},
			{"no short name", "", "Universitätsklinikum Düsseldorf", "Universitätsklinikum Düsseldorf: "},
			{"blank short name", "   ", "Universitätsklinikum Düsseldorf", "Universitätsklinikum Düsseldorf: "},
			{"neither", "", "", "ukd: "},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				n := sampleNotice(t, "de")
				n.FacilityShortName, n.FacilityName = tt.short, tt.full
				m := render(t, r, n)
				if !strings.HasPrefix(m.Short, tt.want) {
					t.Errorf("Short = %q, want it to start with %q", m.Short, tt.want)
				}
				if tt.full != "" && !strings.HasSuffix(m.Subject, "– "+tt.full) {
					t.Errorf("Subject = %q, want the full name %q", m.Subject, tt.full)
				}
			})
		}
	})
	t.Run("says nothing about the patient or the place", func(t *testing.T) {
		for _, lang := range r.Languages() {
			for _, kind := range kinds {
				n := sampleNotice(t, lang)
				n.Kind = kind
				n.Note = "Die Notaufnahme ist geöffnet."
				got := render(t, r, n).Short
				a := n.Appointments[0]
				for _, secret := range []string{n.Patient.Name, "Erika", "Mustermann", n.Patient.ID, n.Patient.Email,
					n.Patient.Phone, a.Department, a.Location, n.Note, n.InfoURL} {
					if strings.Contains(got, secret) {
						t.Errorf("%s %s: Short = %q, contains %q", lang, kind, got, secret)
					}
				}
			}
		}
	})
	t.Run("is one line however the facility is written", func(t *testing.T) {
		for _, short := range []string{"Uniklinik\r\nDüsseldorf\t", ""} {
			n := sampleNotice(t, "de")
			n.FacilityShortName = short
			n.FacilityName = "Uniklinik\r\nDüsseldorf\t"
			got := render(t, r, n).Short
			if want := "Uniklinik Düsseldorf: Ihr Termin"; !strings.HasPrefix(got, want) {
				t.Errorf("short name %q: Short = %q, want it to start with %q", short, got, want)
			}
		}
	})
	t.Run("a facility name with Turkish letters makes it UCS-2", func(t *testing.T) {
		n := sampleNotice(t, "tr")
		n.FacilityShortName = "Ankara Şehir Hastanesi"
		got := render(t, r, n).Short
		if enc, segments := sms.Segments(got); enc != sms.UCS2 || segments != 2 {
			t.Errorf("Segments = %s, %d; want %s, 2 for %q", enc, segments, sms.UCS2, got)
		}
	})
}
