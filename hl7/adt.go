package hl7

import (
	"fmt"
	"time"

	"github.com/postponement/notifier/notifier"
)

// adtTriggers are the ADT messages that change a patient's contact data:
// A08 (update patient information) and A31 (update person information).
var adtTriggers = map[string]bool{"A08": true, "A31": true}

// IsContact reports whether m is an ADT message that Contact maps.
func (m *Message) IsContact() bool {
	typ, trigger := m.Type()
	return typ == "ADT" && adtTriggers[trigger]
}

// Contact maps an ADT A08 or A31 message to the contact record it stands
// for: the patient of PID-3.1 with the name, language, e-mail address and
// phone number read from PID as for a SIU message (see Appointment). A
// field that is empty gives nothing and changes nothing; a field that is
// HL7's null ("") clears what it stands for: PID-5 the name, PID-15 the
// language, PID-13 or PID-14 the e-mail address and phone number that the
// other telecom field does not give. UpdatedAt is EVN-2 (recorded time),
// else MSH-7, read in loc when it has no offset. The record is normalized
// and valid, or the error is a *FieldError (or wraps ErrUnsupported).
func (m *Message) Contact(facility string, loc *time.Location) (notifier.ContactRecord, error) {
	if !m.IsContact() {
		typ, trigger := m.Type()
		return notifier.ContactRecord{}, fmt.Errorf("%w: %s^%s (ADT A08 and A31 are)", ErrUnsupported, truncate(typ, 8), truncate(trigger, 8))
	}
	if m.Segment("PID") == nil {
		return notifier.ContactRecord{}, &FieldError{"PID", "required: the patient whose contact data changed"}
	}
	r := notifier.ContactRecord{Facility: facility, Patient: m.patient()}
	if r.Patient.ID == "" || r.Patient.ID == null {
		return r, &FieldError{"PID-3.1", "no patient id (PID-3.1)"}
	}
	if !notifier.ValidID(r.Patient.ID) {
		return r, &FieldError{"PID-3.1", "the patient id must be of the form [A-Za-z0-9_-]+ to name the subject patients.<facility>.<patient id>"}
	}
	if m.Field("PID", 5) == null {
		r.Clear = append(r.Clear, "name")
	}
	if m.Value(Path{Segment: "PID", Field: 15, Component: 1}) == null {
		r.Clear = append(r.Clear, "language")
	}
	if m.Field("PID", 13) == null || m.Field("PID", 14) == null {
		if r.Patient.Email == "" {
			r.Clear = append(r.Clear, "email")
		}
		if r.Patient.Phone == "" {
			r.Clear = append(r.Clear, "phone")
		}
	}
	stamp, place := m.Value(Path{Segment: "EVN", Field: 2, Component: 1}), "EVN-2"
	if stamp == "" {
		stamp, place = m.Value(Path{Segment: "MSH", Field: 7, Component: 1}), "MSH-7"
	}
	if stamp != "" {
		t, err := ParseTime(stamp, loc)
		if err != nil {
			return r, &FieldError{place, err.Error()}
		}
		r.UpdatedAt = t
	}
	if err := r.Normalize(); err != nil {
		return r, &FieldError{placeOf(err), err.Error()}
	}
	return r, nil
}
