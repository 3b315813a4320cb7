package templates_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	netmail "net/mail"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"

	"github.com/postponement/notifier/channel/email"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/templates"
)

// FuzzRender renders notices whose every free-text field comes from outside:
// the patient's name and the appointment's department and location from the
// scheduling system, the note, hotline and info URL from an outage event,
// the facility's name from the configuration. Whatever they hold, the
// rendered and composed message must not panic, must have the headers the
// worker sets and no others, and its HTML part must not run a script. The
// seeds under testdata/fuzz run as regression tests with every go test.
func FuzzRender(f *testing.F) {
	r, err := templates.New()
	if err != nil {
		f.Fatal(err)
	}
	kinds := []string{notifier.KindPostponed, notifier.KindCancelled, notifier.KindReinstated, notifier.KindResumed}
	from := &mail.Address{Name: "Universitätsklinikum Düsseldorf", Address: "noreply@ukd.example"}
	date := time.Date(2020, 10, 20, 6, 0, 0, 0, time.UTC)
	start := time.Date(2020, 10, 21, 8, 15, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, name, department, location, note, hotline, infoURL, facility string, kind uint8, many bool) {
		// What the domain would pass on: the appointment and the outage as
		// their decoders normalize them, and a configured facility name
		// without control characters.
		a := notifier.Appointment{
			ID: "A2010101", Facility: "ukd", Department: department, Location: location, Start: start,
			Patient: notifier.Patient{ID: "P2010001", Name: name, Email: "patient@example.org"},
		}
		accepted := a.Normalize() == nil
		o, err := decodeOutage(hotline, infoURL, note)
		accepted = accepted && err == nil && utf8.ValidString(facility) && strings.IndexFunc(facility, unicode.IsControl) < 0
		if accepted {
			department, location, name = a.Department, a.Location, a.Patient.Name
			hotline, infoURL = o.Hotline, o.InfoURL
		}
		appointments := []notifier.NoticeAppointment{{ID: "A2010101", Department: department, Location: location, Start: start}}
		if many {
			appointments = append(appointments, notifier.NoticeAppointment{
				ID: "A2010102", Department: location, Location: department, Start: start.Add(-time.Hour)})
		}
		for _, lang := range r.Languages() {
			n := &notifier.Notice{
				ID:           "n-0123456789abcdef0123456789abcdef",
				Kind:         kinds[int(kind)%len(kinds)],
				OutageID:     "ukd-it-2020-10",
				Facility:     "ukd",
				FacilityName: facility,
				TimeZone:     "Europe/Berlin",
				Language:     lang,
				Patient:      notifier.Patient{ID: "P2010001", Name: name, Email: "patient@example.org"},
				Appointments: appointments,
				Hotline:      hotline,
				InfoURL:      infoURL,
				Note:         note,
			}
			if accepted {
				n.Note = o.Note[lang]
			}
			m, err := r.Render(n)
			if err != nil {
				t.Fatalf("Render in %s: %v", lang, err)
			}
			checkRendered(t, m)

			var buf bytes.Buffer
			if err := email.Compose(&buf, from, m, date); err != nil {
				t.Fatalf("Compose in %s: %v", lang, err)
			}
			checkComposed(t, buf.Bytes(), m, accepted)
		}
	})
}

// decodeOutage passes the outage's fuzzed fields through DecodeEvent, as an
// outage.declared event would bring them.
func decodeOutage(hotline, infoURL, note string) (*notifier.Outage, error) {
	data, err := json.Marshal(map[string]any{
		"outage_id": "ukd-it-2020-10", "facility": "ukd",
		"from": "2020-10-21T00:00:00+02:00", "until": "2020-10-28T00:00:00+01:00",
		"departments": []string{"*"}, "action": "postpone",
		"hotline": hotline, "info_url": infoURL,
		"note": map[string]string{"de": note, "en": note, "tr": note},
	})
	if err != nil {
		return nil, err
	}
	ev, err := json.Marshal(map[string]any{
		"specversion": "1.0", "id": "evt-1", "source": "/scheduling/ukd", "type": notifier.EventDeclared,
		"data": json.RawMessage(data),
	})
	if err != nil {
		return nil, err
	}
	e, err := notifier.DecodeEvent(ev, "ukd")
	if err != nil {
		return nil, err
	}
	return &e.Outage, nil
}

// checkRendered checks what Render promises whatever the notice holds.
func checkRendered(t *testing.T, m *notifier.Message) {
	t.Helper()
	for part, s := range map[string]string{"subject": m.Subject, "short": m.Short} {
		if strings.IndexFunc(s, unicode.IsControl) >= 0 {
			t.Errorf("%s %q has a control character", part, s)
		}
	}
	if hasScript(m.HTML) {
		t.Errorf("HTML has a script:\n%s", m.HTML)
	}
}

// hasScript reports whether html opens a script element.
func hasScript(html string) bool {
	return strings.Contains(strings.ToLower(html), "<script")
}

// composedHeader are the header fields Compose writes, each once.
var composedHeader = []string{
	"Auto-Submitted", "Content-Language", "Content-Type", "Date", "From", "Message-Id",
	"Mime-Version", "Subject", "To",
}

// checkComposed parses raw back with go-message and checks its header and
// parts against m. With accepted input the names and the subject must also
// read back as they were written.
func checkComposed(t *testing.T, raw []byte, m *notifier.Message, accepted bool) {
	t.Helper()
	// net/mail is another reader's view of the header: a line break
	// smuggled in would show as an extra field there as well.
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v\n%s", err, raw)
	}
	var keys []string
	for key, values := range msg.Header {
		keys = append(keys, textproto.CanonicalMIMEHeaderKey(key))
		if len(values) != 1 {
			t.Errorf("header %s: %d fields, want 1", key, len(values))
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, composedHeader) {
		t.Fatalf("header fields %q, want %q\n%s", keys, composedHeader, raw)
	}

	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("go-message cannot read the message: %v\n%s", err, raw)
	}
	for _, key := range []string{"From", "To"} {
		addrs, err := r.Header.AddressList(key)
		if err != nil || len(addrs) != 1 {
			t.Fatalf("%s: got %v (err %v), want one address\n%s", key, addrs, err, raw)
		}
	}
	to, _ := r.Header.AddressList("To")
	if to[0].Address != m.To.Email {
		t.Errorf("To: got %q, want %q", to[0].Address, m.To.Email)
	}
	subject, err := r.Header.Subject()
	if err != nil {
		t.Errorf("Subject: %v", err)
	}
	if accepted {
		// Compose splits "=?", which readers would take for the start of
		// an encoded word.
		split := strings.NewReplacer("=?", "= ?")
		if want := split.Replace(strings.Join(strings.Fields(m.To.Name), " ")); !sameHeaderText(to[0].Name, want) {
			t.Errorf("To name: got %q, want %q", to[0].Name, want)
		}
		if want := split.Replace(m.Subject); !sameHeaderText(subject, want) {
			t.Errorf("Subject: got %q, want %q", subject, want)
		}
	}

	var parts []string
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("reading a part: %v", err)
		}
		parts = append(parts, strings.ReplaceAll(string(body), "\r\n", "\n"))
	}
	if len(parts) != 2 {
		t.Fatalf("got %d parts, want text and HTML", len(parts))
	}
	if hasScript(parts[1]) {
		t.Errorf("HTML part has a script:\n%s", parts[1])
	}
	if accepted {
		if parts[0] != m.Text {
			t.Errorf("text part:\ngot  %q\nwant %q", parts[0], m.Text)
		}
		if parts[1] != m.HTML {
			t.Errorf("HTML part:\ngot  %q\nwant %q", parts[1], m.HTML)
		}
	}
}

// sameHeaderText reports whether got, a header field's text as read back,
// says want. go-message has to break a word longer than a header line may be
// (998 characters), which reads back as a space in it; that is the only
// change allowed.
func sameHeaderText(got, want string) bool {
	if got == want {
		return true
	}
	long := slices.ContainsFunc(strings.Fields(want), func(w string) bool { return len(w) > 900 })
	return long && strings.ReplaceAll(got, " ", "") == strings.ReplaceAll(want, " ", "")
}
