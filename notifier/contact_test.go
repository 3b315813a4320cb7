package notifier

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeContact(t *testing.T) {
	r, err := DecodeContact([]byte(`{"facility":"ukd","patient":{"id":" P-1 ","language":"DE-de","email":"jana@example.org","channels":["sms"]},"clear":["phone"]}`), "ukd", "P-1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Patient.ID != "P-1" || r.Patient.Language != "de" || r.Patient.Channels != nil || len(r.Clear) != 1 {
		t.Errorf("record %+v: want trimmed, the base language, no channels", r)
	}
	for name, tc := range map[string]struct{ data, facility, patient, want string }{
		"another facility":    {`{"facility":"ukd","patient":{"id":"P-1"}}`, "other", "P-1", "facility:"},
		"another patient":     {`{"facility":"ukd","patient":{"id":"P-1"}}`, "ukd", "P-2", "patient.id:"},
		"no patient id":       {`{"facility":"ukd","patient":{}}`, "ukd", "", "patient.id: required"},
		"id not a token":      {`{"facility":"ukd","patient":{"id":"P/1"}}`, "ukd", "P/1", "patient.id: must be"},
		"given and cleared":   {`{"facility":"ukd","patient":{"id":"P-1","email":"a@example.org"},"clear":["email"]}`, "ukd", "P-1", "clear: email"},
		"clears a channel":    {`{"facility":"ukd","patient":{"id":"P-1"},"clear":["channels"]}`, "ukd", "P-1", "clear:"},
		"not an e-mail":       {`{"facility":"ukd","patient":{"id":"P-1","email":"jana at example.org"}}`, "ukd", "P-1", "patient.email:"},
		"a control character": {`{"facility":"ukd","patient":{"id":"P-1","name":"Ja\nna"}}`, "ukd", "P-1", "patient.name:"},
		"names twice":         {`{"facility":"ukd","patient":{"id":"P-1"},"Patient":{"id":"P-2"}}`, "ukd", "P-1", "not a JSON contact record"},
		"not JSON":            {`{"facility":`, "ukd", "P-1", "not a JSON contact record"},
	} {
		_, err := DecodeContact([]byte(tc.data), tc.facility, tc.patient)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an invalid record (%s)", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "example.org") {
			t.Errorf("%s: the error repeats the address: %v", name, err)
		}
	}
	literal := ContactRecord{Facility: "ukd", Patient: Patient{ID: "P-1", Email: "jana@[192.0.2.1]"}}
	if err := (Facility{ID: "ukd"}).AdmitContact(&literal); !errors.Is(err, ErrInvalid) {
		t.Errorf("an address literal admitted: %v", err)
	}
}
