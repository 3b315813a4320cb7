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
	cases := []struct {
		name   string
		notice func(t *testing.T, lang string) *notifier.Notice
	}{
		{"postponed, one appointment", func(t *testing.T, lang string) *notifier.Notice {
			return sampleNotice(t, lang)
		}},
		{"postponed, two appointments", func(t *testing.T, lang string) *notifier.Notice {
			return withAppointments(t, sampleNotice(t, lang), 2)
		}},
		{"postponed, twelve appointments", func(t *testing.T, lang string) *notifier.Notice {
			return withAppointments(t, sampleNotice(t, lang), 12)
		}},
		{"cancelled, one appointment", func(t *testing.T, lang string) *notifier.Notice {
			n := sampleNotice(t, lang)
			n.Kind = notifier.KindCancelled
			return n
		}},
		{"cancelled, two appointments", func(t *testing.T, lang string) *notifier.Notice {
			n := withAppointments(t, sampleNotice(t, lang), 2)
			n.Kind = notifier.KindCancelled
			return n
		}},
		{"postponed, no hotline", func(t *testing.T, lang string) *notifier.Notice {
			n := sampleNotice(t, lang)
			n.Hotline = ""
			return n
		}},
		{"cancelled, no hotline", func(t *testing.T, lang string) *notifier.Notice {
			n := sampleNotice(t, lang)
			n.Kind = notifier.KindCancelled
			n.Hotline = ""
			return n
		}},
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
	// The sample's facility name (31 letters) and hotline (12) are near the
	// 44 the wording leaves room for.
	r := newRenderer(t)
	for _, lang := range r.Languages() {
		for _, kind := range []string{notifier.KindPostponed, notifier.KindCancelled} {
			for _, k := range []int{1, 2, 12} {
				t.Run(fmt.Sprintf("%s %s %d", lang, kind, k), func(t *testing.T) {
					n := withAppointments(t, sampleNotice(t, lang), k)
					n.Kind = kind
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
			k    int
			want string
		}{
			{"de", 1, "Ihr Termin am 14.09.2020 um 09:30 ist verschoben."},
			{"de", 2, "Ihr Termin am 14.09.2020 um 09:30 und 1 weiterer sind verschoben."},
			{"de", 3, "Ihr Termin am 14.09.2020 um 09:30 und 2 weitere sind verschoben."},
			{"en", 1, "Your appointment on 14 Sep 2020 at 09:30 is postponed."},
			{"en", 3, "Your appointment on 14 Sep 2020 at 09:30 and 2 more are postponed."},
			{"tr", 1, "14.09.2020 09:30 tarihli randevunuz ertelendi."},
			{"tr", 3, "14.09.2020 09:30 tarihli randevunuz ve 2 randevunuz daha ertelendi."},
		}
		for _, tt := range tests {
			n := withAppointments(t, sampleNotice(t, tt.lang), tt.k)
			if got := render(t, r, n).Short; !strings.Contains(got, tt.want) {
				t.Errorf("%s with %d appointments: Short = %q, want it to contain %q", tt.lang, tt.k, got, tt.want)
			}
		}
	})
	t.Run("starts with the facility and ends with the hotline", func(t *testing.T) {
		for _, lang := range r.Languages() {
			got := render(t, r, sampleNotice(t, lang)).Short
			if !strings.HasPrefix(got, "Universitätsklinikum Düsseldorf: ") || !strings.HasSuffix(got, " +49 211 81-0") {
				t.Errorf("%s: Short = %q", lang, got)
			}
		}
	})
	t.Run("says nothing about the patient or the place", func(t *testing.T) {
		for _, lang := range r.Languages() {
			n := sampleNotice(t, lang)
			n.Note = "Die Notaufnahme ist geöffnet."
			got := render(t, r, n).Short
			a := n.Appointments[0]
			for _, secret := range []string{n.Patient.Name, "Erika", "Mustermann", n.Patient.ID, n.Patient.Email,
				n.Patient.Phone, a.Department, a.Location, n.Note, n.InfoURL} {
				if strings.Contains(got, secret) {
					t.Errorf("%s: Short = %q, contains %q", lang, got, secret)
				}
			}
		}
	})
	t.Run("is one line however the facility is written", func(t *testing.T) {
		n := sampleNotice(t, "de")
		n.FacilityName = "Uniklinik\r\nDüsseldorf\t"
		got := render(t, r, n).Short
		if want := "Uniklinik Düsseldorf: Ihr Termin"; !strings.HasPrefix(got, want) {
			t.Errorf("Short = %q, want it to start with %q", got, want)
		}
	})
	t.Run("a facility name with Turkish letters makes it UCS-2", func(t *testing.T) {
		n := sampleNotice(t, "tr")
		n.FacilityName = "Ankara Şehir Hastanesi"
		got := render(t, r, n).Short
		if enc, segments := sms.Segments(got); enc != sms.UCS2 || segments != 2 {
			t.Errorf("Segments = %s, %d; want %s, 2 for %q", enc, segments, sms.UCS2, got)
		}
	})
}
