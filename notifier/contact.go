package notifier

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ContactRecord is a change of a patient's contact data as the scheduling
// system publishes it on patients.<facility>.<patient id> (from HL7 ADT
// A08/A31, for one). The latest record per subject wins.
//
// It is applied to every appointment of the patient in the facility that
// the replica holds: a field left empty is not given and keeps what the
// appointment has; a field named in Clear is emptied. Channels is not taken
// from a contact record. A patient with no appointments yet is not kept:
// the appointment records published later carry their own contact data.
type ContactRecord struct {
	Facility string  `json:"facility"`
	Patient  Patient `json:"patient"`
	// Clear names the fields to empty: name, language, email, phone.
	Clear []string `json:"clear,omitempty"`
	// UpdatedAt is when the scheduling system made the change, if it says.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// ContactFields are the fields a contact record sets or clears.
var ContactFields = []string{"name", "language", "email", "phone"}

// DecodeContact decodes and validates a contact record received on the
// subject patients.<facility>.<patient id>. The subject's tokens must agree
// with the record. Errors wrap ErrInvalid.
func DecodeContact(data []byte, facility, patientID string) (ContactRecord, error) {
	var r ContactRecord
	if err := decodeRecord(data, "contact", &r); err != nil {
		return r, err
	}
	if err := r.Normalize(); err != nil {
		return r, err
	}
	if r.Facility != facility {
		return r, Invalid(fmt.Errorf("facility: %q does not match the subject's facility %q", r.Facility, facility))
	}
	if r.Patient.ID != patientID {
		return r, Invalid(fmt.Errorf("patient.id: does not match the subject's patient id %q", patientID))
	}
	return r, nil
}

// Normalize trims and lower-cases the record's fields as an appointment's
// patient is, and validates them: the patient id must be usable as a
// subject token, a cleared field must not be given too. Errors wrap
// ErrInvalid and name the field, never its value.
func (r *ContactRecord) Normalize() error {
	r.Patient.Channels = nil
	errs := append([]error{checkID("facility", r.Facility)}, r.Patient.normalize()...)
	if r.Patient.ID != "" && !ValidID(r.Patient.ID) {
		errs = append(errs, errors.New("patient.id: must be of the form [A-Za-z0-9_-]+ to name the subject"))
	}
	given := map[string]bool{"name": r.Patient.Name != "", "language": r.Patient.Language != "",
		"email": r.Patient.Email != "", "phone": r.Patient.Phone != ""}
	for _, f := range r.Clear {
		switch {
		case !slices.Contains(ContactFields, f):
			errs = append(errs, fmt.Errorf("clear: %.20q is not one of name, language, email, phone", f))
		case given[f]:
			errs = append(errs, fmt.Errorf("clear: %s is given and cleared at once", f))
		}
	}
	return Invalid(errors.Join(errs...))
}

// AdmitContact applies the facility's own rules to a valid contact record, as to
// an appointment's (see Facility.Admit).
func (f Facility) AdmitContact(r *ContactRecord) error {
	return f.admitEmail(r.Patient.Email)
}

// ContactChange is one message of the PATIENTS stream as the replica
// applies it: a contact record, or a refused one. Before is the last
// sequence of the APPOINTMENTS stream when the record was published:
// appointments whose record came later keep their own contact data.
type ContactChange struct {
	Seq    uint64
	Before uint64
	Record *ContactRecord
	Reject *Reject
}
