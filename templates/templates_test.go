package templates

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	texttemplate "text/template"
	"time"

	"github.com/postponement/notifier/notifier"
)

// newRenderer parses the embedded templates or stops the test.
func newRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// render renders n or stops the test.
func render(t *testing.T, r *Renderer, n *notifier.Notice) *notifier.Message {
	t.Helper()
	m, err := r.Render(n)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return m
}

// mustTime parses an RFC 3339 time or stops the test.
func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// sampleNotice is a postponement of one appointment with every field set.
func sampleNotice(t *testing.T, lang string) *notifier.Notice {
	t.Helper()
	return &notifier.Notice{
		ID:                "n-0123456789abcdef",
		Kind:              notifier.KindPostponed,
		OutageID:          "ukd-2020-09-10",
		Facility:          "ukd",
		FacilityName:      "Universitätsklinikum Düsseldorf",
		FacilityShortName: "UKD",
		TimeZone:          "Europe/Berlin",
		Language:          lang,
		Patient: notifier.Patient{
			ID:    "P-4711",
			Name:  "Erika Mustermann",
			Email: "erika@example.org",
			Phone: "+49 170 1234567",
		},
		Appointments: []notifier.NoticeAppointment{{
			ID:         "a-1",
			Department: "Kardiologie",
			Location:   "Gebäude 13.1, Ebene 2",
			Start:      mustTime(t, "2020-09-14T09:30:00+02:00"),
		}},
		Hotline: "+49 211 81-0",
		InfoURL: "https://www.uniklinik-duesseldorf.de/it-ausfall",
	}
}

func TestLanguages(t *testing.T) {
	r := newRenderer(t)

	if got, want := r.Languages(), []string{"de", "en", "tr"}; !slices.Equal(got, want) {
		t.Errorf("Languages() = %q, want %q", got, want)
	}
	t.Run("every locale has templates", func(t *testing.T) {
		for code := range locales {
			if !slices.Contains(r.Languages(), code) {
				t.Errorf("locale %q has no lang/%s.tmpl", code, code)
			}
		}
	})
}

func TestMissingPieces(t *testing.T) {
	parse := func(t *testing.T, src string) *texttemplate.Template {
		t.Helper()
		tmpl, err := texttemplate.New("xx").Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		return tmpl
	}
	var all strings.Builder
	for _, piece := range sharedPieces {
		fmt.Fprintf(&all, "{{define %q}}%s{{end}}", piece, piece)
	}
	for _, kind := range kinds {
		for _, piece := range kindPieces {
			fmt.Fprintf(&all, "{{define %q}}%s{{end}}", kind+"/"+piece, piece)
		}
	}

	t.Run("none when every kind has every piece", func(t *testing.T) {
		if got := missingPieces(parse(t, all.String())); len(got) != 0 {
			t.Errorf("missingPieces = %q, want none", got)
		}
	})
	t.Run("a piece defined for no kind", func(t *testing.T) {
		src := strings.Replace(all.String(), `{{define "resumed/short"}}`, `{{define "resumd/short"}}`, 1)
		if got, want := missingPieces(parse(t, src)), []string{`"resumed/short"`}; !slices.Equal(got, want) {
			t.Errorf("missingPieces = %q, want %q", got, want)
		}
	})
	t.Run("a shared piece missing", func(t *testing.T) {
		src := strings.Replace(all.String(), `{{define "confirm-button"}}`, `{{define "confirm-buton"}}`, 1)
		if got, want := missingPieces(parse(t, src)), []string{`"confirm-button"`}; !slices.Equal(got, want) {
			t.Errorf("missingPieces = %q, want %q", got, want)
		}
	})
	t.Run("a piece without its kind's name", func(t *testing.T) {
		src := strings.Replace(all.String(), `{{define "reinstated/subject"}}`, `{{define "subject"}}`, 1)
		if got, want := missingPieces(parse(t, src)), []string{`"reinstated/subject"`}; !slices.Equal(got, want) {
			t.Errorf("missingPieces = %q, want %q", got, want)
		}
	})
}

func TestRenderKinds(t *testing.T) {
	// Each kind is laid out with its own pieces, never another kind's.
	r := newRenderer(t)
	tests := []struct {
		kind, lead, instruction, listed string
	}{
		{notifier.KindPostponed, "Due to a failure of our IT systems", "It has been postponed", "Appointment affected:"},
		{notifier.KindCancelled, "Due to a failure of our IT systems", "Your appointment has been cancelled", "Appointment affected:"},
		{notifier.KindReinstated, "We recently told you", "will go ahead as originally planned", "Your appointment:"},
		{notifier.KindResumed, "Our IT systems are working again", "Please do not come at the original time unless", "Postponed appointment:"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			n := sampleNotice(t, "en")
			n.Kind = tt.kind
			m := render(t, r, n)
			// The plain text is wrapped; compare it unwrapped.
			text := strings.Join(strings.Fields(m.Text), " ")
			for _, want := range []string{tt.lead, tt.instruction, tt.listed} {
				if !strings.Contains(text, want) {
					t.Errorf("Text lacks %q:\n%s", want, m.Text)
				}
				if !strings.Contains(m.HTML, want) {
					t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
				}
			}
			for _, other := range tests {
				if other.instruction != tt.instruction && strings.Contains(text, other.instruction) {
					t.Errorf("Text says %q, the %s wording:\n%s", other.instruction, other.kind, m.Text)
				}
			}
		})
	}
}

func TestRenderMessage(t *testing.T) {
	r := newRenderer(t)
	n := sampleNotice(t, "de")
	m := render(t, r, n)

	t.Run("addresses the notice's patient", func(t *testing.T) {
		want := notifier.Recipient{Name: "Erika Mustermann", Email: "erika@example.org", Phone: "+49 170 1234567"}
		if m.To != want {
			t.Errorf("To = %+v, want %+v", m.To, want)
		}
		if m.NoticeID != n.ID {
			t.Errorf("NoticeID = %q, want %q", m.NoticeID, n.ID)
		}
		if m.Language != "de" {
			t.Errorf("Language = %q, want %q", m.Language, "de")
		}
	})
	t.Run("never shows the patient id", func(t *testing.T) {
		for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
			if strings.Contains(s, n.Patient.ID) {
				t.Errorf("%s contains the patient id %q", part, n.Patient.ID)
			}
		}
	})
	t.Run("leaves out the contact paragraph without hotline and info URL", func(t *testing.T) {
		n := sampleNotice(t, "en")
		n.Hotline, n.InfoURL = "", ""
		m := render(t, r, n)
		for _, s := range []string{"call us", "website"} {
			if strings.Contains(m.Text, s) {
				t.Errorf("Text mentions %q:\n%s", s, m.Text)
			}
		}
		if strings.Contains(m.HTML, "<a ") {
			t.Errorf("HTML has a link:\n%s", m.HTML)
		}
		if strings.Contains(m.Text, "\n\n\n") {
			t.Errorf("Text has more than one blank line in a row:\n%s", m.Text)
		}
	})
	t.Run("falls back to the facility's id without a display name", func(t *testing.T) {
		n := sampleNotice(t, "en")
		n.FacilityName = ""
		m := render(t, r, n)
		if !strings.HasSuffix(m.Subject, "– ukd") {
			t.Errorf("Subject = %q, want it to end in %q", m.Subject, "– ukd")
		}
		if !strings.Contains(m.Text, "Kind regards,\nukd\n") {
			t.Errorf("Text does not sign with %q:\n%s", "ukd", m.Text)
		}
	})
}

func TestRenderLanguage(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		name     string
		language string
		want     string
		greeting string
	}{
		{"known language", "tr", "tr", "Sayın Erika Mustermann,"},
		{"regional tag", "de-DE", "de", "Guten Tag Erika Mustermann,"},
		{"upper case", "DE", "de", "Guten Tag Erika Mustermann,"},
		{"language without templates falls back to English", "fr", "en", "Dear Erika Mustermann,"},
		{"no language falls back to English", "", "en", "Dear Erika Mustermann,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := render(t, r, sampleNotice(t, tt.language))
			if m.Language != tt.want {
				t.Errorf("Language = %q, want %q", m.Language, tt.want)
			}
			if !strings.HasPrefix(m.Text, tt.greeting+"\n") {
				t.Errorf("Text does not start with %q:\n%s", tt.greeting, m.Text)
			}
			if want := `<html lang="` + tt.want + `">`; !strings.Contains(m.HTML, want) {
				t.Errorf("HTML lacks %s:\n%s", want, m.HTML)
			}
		})
	}
}

func TestRenderGreetingWithoutName(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		lang, want string
	}{
		{"de", "Sehr geehrte Patientin, sehr geehrter Patient,"},
		{"en", "Dear patient,"},
		{"tr", "Sayın Hastamız,"},
	}
	for _, tt := range tests {
		for _, name := range []string{"", "   "} {
			t.Run(tt.lang+" name "+strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
				n := sampleNotice(t, tt.lang)
				n.Patient.Name = name
				m := render(t, r, n)
				if got, _, _ := strings.Cut(m.Text, "\n"); got != tt.want {
					t.Errorf("greeting = %q, want %q", got, tt.want)
				}
				if !strings.Contains(m.HTML, ">"+tt.want+"<") {
					t.Errorf("HTML lacks the greeting %q:\n%s", tt.want, m.HTML)
				}
			})
		}
	}
}

func TestRenderLocalTime(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		name  string
		zone  string
		lang  string
		start string
		want  string
	}{
		{"summer time before the change", "Europe/Berlin", "de", "2020-10-24T09:30:00+02:00", "Samstag, 24. Oktober 2020, 09:30 Uhr"},
		{"winter time after the change", "Europe/Berlin", "de", "2020-10-26T09:30:00+01:00", "Montag, 26. Oktober 2020, 09:30 Uhr"},
		{"stored in UTC", "Europe/Berlin", "en", "2020-10-26T08:30:00Z", "Monday, 26 October 2020 at 09:30"},
		{"stored in another zone", "Europe/Istanbul", "tr", "2020-09-14T08:30:00+02:00", "14 Eylül 2020 Pazartesi, 09:30"},
		{"local day differs from the UTC day", "Europe/Berlin", "de", "2020-09-13T22:30:00Z", "Montag, 14. September 2020, 00:30 Uhr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := sampleNotice(t, tt.lang)
			n.TimeZone = tt.zone
			n.Appointments[0].Start = mustTime(t, tt.start)
			m := render(t, r, n)
			if !strings.Contains(m.Text, "- "+tt.want+"\n") {
				t.Errorf("Text lacks the appointment %q:\n%s", tt.want, m.Text)
			}
			if !strings.Contains(m.HTML, "<strong>"+tt.want+"</strong>") {
				t.Errorf("HTML lacks the appointment %q:\n%s", tt.want, m.HTML)
			}
		})
	}
}

func TestRenderSubject(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		lang string
		kind string
		many bool
		want string
	}{
		{"de", notifier.KindPostponed, false, "Ihr Termin am 14.09.2020 findet nicht statt – Universitätsklinikum Düsseldorf"},
		{"de", notifier.KindPostponed, true, "Ihre Termine ab 14.09.2020 finden nicht statt – Universitätsklinikum Düsseldorf"},
		{"de", notifier.KindCancelled, false, "Ihr Termin am 14.09.2020 wurde abgesagt – Universitätsklinikum Düsseldorf"},
		{"de", notifier.KindCancelled, true, "Ihre Termine ab 14.09.2020 wurden abgesagt – Universitätsklinikum Düsseldorf"},
		{"en", notifier.KindPostponed, false, "Your appointment on 14 September 2020 will not take place – Universitätsklinikum Düsseldorf"},
		{"en", notifier.KindPostponed, true, "Your appointments from 14 September 2020 will not take place – Universitätsklinikum Düsseldorf"},
		{"en", notifier.KindCancelled, false, "Your appointment on 14 September 2020 has been cancelled – Universitätsklinikum Düsseldorf"},
		{"en", notifier.KindCancelled, true, "Your appointments from 14 September 2020 have been cancelled – Universitätsklinikum Düsseldorf"},
		{"tr", notifier.KindPostponed, false, "14.09.2020 tarihli randevunuz ertelendi – Universitätsklinikum Düsseldorf"},
		{"tr", notifier.KindPostponed, true, "14.09.2020 ve sonrasındaki randevularınız ertelendi – Universitätsklinikum Düsseldorf"},
		{"tr", notifier.KindCancelled, false, "14.09.2020 tarihli randevunuz iptal edildi – Universitätsklinikum Düsseldorf"},
		{"tr", notifier.KindCancelled, true, "14.09.2020 ve sonrasındaki randevularınız iptal edildi – Universitätsklinikum Düsseldorf"},
		{"de", notifier.KindReinstated, false, "Ihr Termin am 14.09.2020 findet doch statt – Universitätsklinikum Düsseldorf"},
		{"de", notifier.KindReinstated, true, "Ihre Termine ab 14.09.2020 finden doch statt – Universitätsklinikum Düsseldorf"},
		{"de", notifier.KindResumed, false, "Unsere IT-Systeme funktionieren wieder: Ihr Termin wird neu vereinbart – Universitätsklinikum Düsseldorf"},
		{"de", notifier.KindResumed, true, "Unsere IT-Systeme funktionieren wieder: Ihre Termine werden neu vereinbart – Universitätsklinikum Düsseldorf"},
		{"en", notifier.KindReinstated, false, "Your appointment on 14 September 2020 will go ahead as planned – Universitätsklinikum Düsseldorf"},
		{"en", notifier.KindReinstated, true, "Your appointments from 14 September 2020 will go ahead as planned – Universitätsklinikum Düsseldorf"},
		{"en", notifier.KindResumed, false, "Services at Universitätsklinikum Düsseldorf have resumed – rebooking your appointment"},
		{"en", notifier.KindResumed, true, "Services at Universitätsklinikum Düsseldorf have resumed – rebooking your appointments"},
		{"tr", notifier.KindReinstated, false, "14.09.2020 tarihli randevunuz planlandığı gibi gerçekleşecek – Universitätsklinikum Düsseldorf"},
		{"tr", notifier.KindReinstated, true, "14.09.2020 ve sonrasındaki randevularınız planlandığı gibi gerçekleşecek – Universitätsklinikum Düsseldorf"},
		{"tr", notifier.KindResumed, false, "Hizmetlerimiz yeniden başladı: randevunuz için yeni bir tarih belirlenecek – Universitätsklinikum Düsseldorf"},
		{"tr", notifier.KindResumed, true, "Hizmetlerimiz yeniden başladı: randevularınız için yeni tarihler belirlenecek – Universitätsklinikum Düsseldorf"},
	}
	for _, tt := range tests {
		name := tt.lang + " " + tt.kind + " one"
		if tt.many {
			name = tt.lang + " " + tt.kind + " several"
		}
		t.Run(name, func(t *testing.T) {
			n := sampleNotice(t, tt.lang)
			n.Kind = tt.kind
			if tt.many {
				// Listed last but earliest: the subject names the earliest day.
				n.Appointments = append([]notifier.NoticeAppointment{{
					ID: "a-2", Start: mustTime(t, "2020-09-21T11:00:00+02:00"),
				}}, n.Appointments...)
			}
			if got := render(t, r, n).Subject; got != tt.want {
				t.Errorf("Subject = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("line breaks in the facility name become spaces", func(t *testing.T) {
		n := sampleNotice(t, "de")
		n.FacilityName = "Universitäts-\r\nklinikum\nDüsseldorf\u2028Bcc: x@example.org"
		got := render(t, r, n).Subject
		if strings.ContainsAny(got, "\r\n\u2028") {
			t.Errorf("Subject = %q, contains a line break", got)
		}
		if want := "– Universitäts- klinikum Düsseldorf Bcc: x@example.org"; !strings.HasSuffix(got, want) {
			t.Errorf("Subject = %q, want it to end in %q", got, want)
		}
	})
}

func TestRenderEscapesHTML(t *testing.T) {
	r := newRenderer(t)
	n := sampleNotice(t, "en")
	n.Patient.Name = `<script>alert("name")</script>`
	n.FacilityName = `"><img src=x onerror=alert(1)>`
	n.Appointments[0].Department = `<script>alert("department")</script>`
	n.Appointments[0].Location = `"><img src=x onerror=alert(2)>`
	n.Note = `<b>Note</b> & "quotes"`
	n.InfoURL = `https://example.org/"><img src=x onerror=alert(3)>`
	n.Hotline = `0211"><img src=x>`
	m := render(t, r, n)

	t.Run("no markup from the notice gets through", func(t *testing.T) {
		for _, tag := range []string{"<script", "<img", "<b>"} {
			if strings.Contains(m.HTML, tag) {
				t.Errorf("HTML contains %q:\n%s", tag, m.HTML)
			}
		}
	})
	t.Run("the values are shown as text", func(t *testing.T) {
		for _, want := range []string{
			`&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;`,
			`&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`,
			`&lt;b&gt;Note&lt;/b&gt; &amp; &#34;quotes&#34;`,
			`href="https://example.org/%22%3e%3cimg%20src=x%20onerror=alert%283%29%3e"`,
			`href="tel:0211"`,
		} {
			if !strings.Contains(m.HTML, want) {
				t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
			}
		}
	})
	t.Run("a javascript URL is not linked", func(t *testing.T) {
		n := sampleNotice(t, "en")
		n.InfoURL = "javascript:alert(1)"
		m := render(t, r, n)
		if strings.Contains(m.HTML, `href="javascript:`) {
			t.Errorf("HTML links to a javascript: URL:\n%s", m.HTML)
		}
	})
	t.Run("the plain text is not escaped", func(t *testing.T) {
		if want := `<b>Note</b> & "quotes"`; !strings.Contains(m.Text, want) {
			t.Errorf("Text lacks %q as written:\n%s", want, m.Text)
		}
	})
}

func TestRenderRejectsNotice(t *testing.T) {
	r := newRenderer(t)
	tests := []struct {
		name   string
		change func(n *notifier.Notice)
	}{
		{"unknown time zone", func(n *notifier.Notice) { n.TimeZone = "Europe/Atlantis" }},
		{"empty time zone", func(n *notifier.Notice) { n.TimeZone = "" }},
		{"host's local time zone", func(n *notifier.Notice) { n.TimeZone = "Local" }},
		{"no appointments", func(n *notifier.Notice) { n.Appointments = nil }},
		{"kind without wording", func(n *notifier.Notice) { n.Kind = "rescheduled" }},
		{"no kind", func(n *notifier.Notice) { n.Kind = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := sampleNotice(t, "de")
			tt.change(n)
			m, err := r.Render(n)
			if !errors.Is(err, notifier.ErrInvalid) {
				t.Fatalf("Render() error = %v, want one wrapping notifier.ErrInvalid", err)
			}
			if m != nil {
				t.Errorf("Render() = %+v, want no message", m)
			}
			if !strings.Contains(err.Error(), n.ID) {
				t.Errorf("error %q does not name the notice %s", err, n.ID)
			}
		})
	}
}

func TestRenderConcurrently(t *testing.T) {
	// Meant for go test -race: one renderer serves every worker goroutine.
	r := newRenderer(t)
	notices := make([]*notifier.Notice, 0, 8*len(r.Languages()))
	for range 8 {
		for _, lang := range r.Languages() {
			notices = append(notices, sampleNotice(t, lang))
		}
	}
	var wg sync.WaitGroup
	for _, n := range notices {
		wg.Go(func() {
			if _, err := r.Render(n); err != nil {
				t.Errorf("Render(%s): %v", n.Language, err)
			}
		})
	}
	wg.Wait()
}

// TestRenderUnlistedAppointments: a notice with more appointments than it
// lists counts the rest and asks the patient to call about them, in every
// language and in both parts.
func TestRenderUnlistedAppointments(t *testing.T) {
	r := newRenderer(t)
	want := map[string]string{"en": "and 3 more appointments, not listed here", "de": "und 3 weitere Termine, die hier nicht aufgeführt sind",
		"tr": "burada listelenmeyen 3 randevu daha"}
	for _, lang := range r.Languages() {
		n := sampleNotice(t, lang)
		n.MoreAppointmentIDs = []string{"a-2", "a-3", "a-4"}
		m := render(t, r, n)
		if !strings.Contains(m.Text, want[lang]) {
			t.Errorf("%s text does not count the unlisted appointments:\n%s", lang, m.Text)
		}
		if !strings.Contains(m.HTML, want[lang]) {
			t.Errorf("%s HTML does not count the unlisted appointments:\n%s", lang, m.HTML)
		}
		plain := render(t, r, sampleNotice(t, lang))
		if strings.Contains(plain.Text, "…") {
			t.Errorf("%s: a notice listing everything mentions unlisted appointments:\n%s", lang, plain.Text)
		}
	}
}
