package notifier

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestControlCharactersAreRefusedInEveryField tries CR, LF and NUL in
// every text field of an appointment record and an outage event: each is
// refused, so nothing an attacker writes can become a mail header, an SMTP
// command or a second line of an SMS.
func TestControlCharactersAreRefusedInEveryField(t *testing.T) {
	for _, bad := range []string{"\r\nBcc: victim@evil.example", "\n.\r\nRCPT TO:<x@evil.example>", "\x00", "\u0085"} {
		for _, field := range []string{"department", "location", "kind", "status"} {
			t.Run("appointment "+field, func(t *testing.T) {
				rec := map[string]any{}
				json.Unmarshal([]byte(goodRecord), &rec)
				rec[field] = "x" + bad + "y"
				data, _ := json.Marshal(rec)
				if _, err := DecodeAppointment(data, "ukd", "A-1001"); !errors.Is(err, ErrInvalid) {
					t.Errorf("%s with %q accepted", field, bad)
				}
			})
		}
		for _, field := range []string{"id", "name", "language", "email", "phone"} {
			t.Run("patient "+field, func(t *testing.T) {
				rec := map[string]any{}
				json.Unmarshal([]byte(goodRecord), &rec)
				rec["patient"].(map[string]any)[field] = "x" + bad + "y"
				data, _ := json.Marshal(rec)
				if _, err := DecodeAppointment(data, "ukd", "A-1001"); !errors.Is(err, ErrInvalid) {
					t.Errorf("patient.%s with %q accepted", field, bad)
				}
			})
		}
		for _, field := range []string{"outage_id", "hotline", "info_url", "departments", "kinds", "note"} {
			t.Run("event "+field, func(t *testing.T) {
				ev := map[string]any{}
				json.Unmarshal([]byte(goodEvent), &ev)
				data := ev["data"].(map[string]any)
				switch field {
				case "departments", "kinds":
					data[field] = []string{"x" + bad + "y"}
				case "note":
					data[field] = map[string]string{"de": "x" + bad + "y"}
				default:
					data[field] = "x" + bad + "y"
				}
				raw, _ := json.Marshal(ev)
				if _, err := DecodeEvent(raw, "ukd"); !errors.Is(err, ErrInvalid) {
					t.Errorf("data.%s with %q accepted", field, bad)
				}
			})
		}
		for _, field := range []string{"id", "source"} {
			t.Run("event envelope "+field, func(t *testing.T) {
				ev := map[string]any{}
				json.Unmarshal([]byte(goodEvent), &ev)
				ev[field] = "x" + bad + "y"
				raw, _ := json.Marshal(ev)
				if _, err := DecodeEvent(raw, "ukd"); !errors.Is(err, ErrInvalid) {
					t.Errorf("%s with %q accepted", field, bad)
				}
			})
		}
	}
}
