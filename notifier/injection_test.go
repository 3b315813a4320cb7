package notifier

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestControlCharactersAreRefusedInEveryField tries CR, LF, NUL and NEL in
// every text field of an appointment record and an outage event: each is
// refused, so nothing an attacker writes can become a mail header, an SMTP
// command or a second line of an SMS. Free-text fields get a value that
// would pass but for the control character, and must be refused for it;
// fields with a strict format (status, language, e-mail, phone, outage id,
// hotline, info URL) are refused by that format, and must name the field.
func TestControlCharactersAreRefusedInEveryField(t *testing.T) {
	const control = "contains a control character"
	type field struct {
		name, value, want string
	}
	for _, bad := range []string{"\r\nBcc: victim@evil.example", "\n.\r\nRCPT TO:<x@evil.example>", "\x00", "\u0085"} {
		check := func(t *testing.T, err error, f field) {
			t.Helper()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%s with %q accepted: %v", f.name, bad, err)
			}
			if !strings.Contains(err.Error(), f.want) {
				t.Errorf("%s with %q: error %q, want it to say %q", f.name, bad, err, f.want)
			}
		}
		with := func(v string) string { return v[:len(v)/2] + bad + v[len(v)/2:] }
		for _, f := range []field{
			{"department", "cardiology", "department: " + control},
			{"location", "Building 13", "location: " + control},
			{"kind", "outpatient", "kind: " + control},
			{"status", "booked", "status"},
		} {
			t.Run("appointment "+f.name, func(t *testing.T) {
				rec := map[string]any{}
				json.Unmarshal([]byte(goodRecord), &rec)
				rec[f.name] = with(f.value)
				data, _ := json.Marshal(rec)
				_, err := DecodeAppointment(data, "ukd", "A-1001")
				check(t, err, f)
			})
		}
		for _, f := range []field{
			{"id", "P-77", "patient.id: " + control},
			{"name", "Jana Müller", "patient.name: " + control},
			{"language", "de", "patient.language"},
			{"email", "jana@example.org", "patient.email"},
			{"phone", "+49 211 5550101", "patient.phone"},
		} {
			t.Run("patient "+f.name, func(t *testing.T) {
				rec := map[string]any{}
				json.Unmarshal([]byte(goodRecord), &rec)
				rec["patient"].(map[string]any)[f.name] = with(f.value)
				data, _ := json.Marshal(rec)
				_, err := DecodeAppointment(data, "ukd", "A-1001")
				check(t, err, f)
			})
		}
		for _, f := range []field{
			{"departments", "cardiology", "data.departments[0]: " + control},
			{"kinds", "outpatient", "data.kinds[0]: " + control},
			{"note", "Bitte kommen Sie nicht.", "data.note.de: " + control},
			{"outage_id", "ukd-it", "data.outage_id"},
			{"hotline", "+49 211 81-04444", "data.hotline"},
			{"info_url", "https://example.org/outage", "data.info_url"},
		} {
			t.Run("event "+f.name, func(t *testing.T) {
				ev := map[string]any{}
				json.Unmarshal([]byte(goodEvent), &ev)
				data := ev["data"].(map[string]any)
				switch f.name {
				case "departments", "kinds":
					data[f.name] = []string{with(f.value)}
				case "note":
					data[f.name] = map[string]string{"de": with(f.value)}
				default:
					data[f.name] = with(f.value)
				}
				raw, _ := json.Marshal(ev)
				_, err := DecodeEvent(raw, "ukd")
				check(t, err, f)
			})
		}
		for _, f := range []field{
			{"id", "evt-0001", "id: " + control},
			{"source", "/scheduling/ukd", "source: " + control},
		} {
			t.Run("event envelope "+f.name, func(t *testing.T) {
				ev := map[string]any{}
				json.Unmarshal([]byte(goodEvent), &ev)
				ev[f.name] = with(f.value)
				raw, _ := json.Marshal(ev)
				_, err := DecodeEvent(raw, "ukd")
				check(t, err, f)
			})
		}
	}
}
