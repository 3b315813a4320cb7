package templates

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/postponement/notifier/channel/email"
	"github.com/postponement/notifier/notifier"
)

// benchNotice is a typical notice: one appointment, or two.
func benchNotice(lang string, appointments int) *notifier.Notice {
	n := &notifier.Notice{
		ID:           "n-0123456789abcdef0123456789abcdef",
		Kind:         notifier.KindPostponed,
		OutageID:     "ukd-2030-03-04",
		Facility:     "ukd",
		FacilityName: "Universitätsklinikum Düsseldorf",
		TimeZone:     "Europe/Berlin",
		Language:     lang,
		Patient:      notifier.Patient{ID: "P-4711", Name: "Ayşe Müller", Email: "p4711@example.org", Phone: "+49 211 5550101"},
		Hotline:      "+49 211 81-04444",
		InfoURL:      "https://example.org/outage",
	}
	start := time.Date(2030, 3, 5, 9, 30, 0, 0, time.UTC)
	for i := range appointments {
		at := start.Add(time.Duration(i) * 26 * time.Hour)
		n.Appointments = append(n.Appointments, notifier.NoticeAppointment{
			ID: fmt.Sprintf("A-%d", i), Department: "cardiology", Location: "Building 13, level 2", Start: at, End: at.Add(30 * time.Minute)})
	}
	return n
}

// BenchmarkRender renders a notice as the dispatcher does for every
// notice, then composes the MIME message as the SMTP channel does.
func BenchmarkRender(b *testing.B) {
	r, err := New()
	if err != nil {
		b.Fatal(err)
	}
	addr, err := email.ParseFrom("UKD <noreply@ukd.example.org>")
	if err != nil {
		b.Fatal(err)
	}
	// As the SMTP and Maildir channels do: the sender is made once.
	from, err := email.NewSender(addr)
	if err != nil {
		b.Fatal(err)
	}
	date := time.Date(2030, 3, 4, 18, 0, 0, 0, time.UTC)
	for _, lang := range []string{"de", "en", "tr"} {
		for _, appointments := range []int{1, 2} {
			n := benchNotice(lang, appointments)
			b.Run(fmt.Sprintf("%s/appointments=%d/render", lang, appointments), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := r.Render(n); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/appointments=%d/render+compose", lang, appointments), func(b *testing.B) {
				var buf bytes.Buffer
				b.ReportAllocs()
				for b.Loop() {
					m, err := r.Render(n)
					if err != nil {
						b.Fatal(err)
					}
					buf.Reset()
					if err := from.Compose(&buf, m, date); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(buf.Len()), "bytes/msg")
			})
		}
	}
}
