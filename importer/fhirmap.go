package importer

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// workerKinds are the appointment kinds that outages name.
var workerKinds = []string{"outpatient", "elective", notifier.KindInpatient}

// mapper turns the Appointments of a bundle into the worker's appointments.
type mapper struct {
	*bundle
	facility string
	loc      *time.Location
	now      time.Time // when the import runs, for telecom periods
	patients map[*entry]patientResult
}

// patientResult is a Patient mapped, or why it cannot be.
type patientResult struct {
	patient notifier.Patient
	err     error
}

// appointment maps the Appointment in e and normalizes it. It reports every
// problem it finds, not only the first.
func (m *mapper) appointment(e *entry) (notifier.Appointment, error) {
	var fa fhirAppointment
	if err := json.Unmarshal(e.raw, &fa); err != nil {
		return notifier.Appointment{}, fmt.Errorf("not a FHIR Appointment: %w", decodeError(err))
	}
	a := notifier.Appointment{
		Facility:   m.facility,
		ID:         cmp.Or(strings.TrimSpace(fa.ID), identifierValue(fa.Identifier)),
		Status:     fa.Status,
		Department: department(&fa),
		Kind:       kind(&fa),
	}
	var errs []error
	if strings.Contains(a.ID, ".") {
		errs = append(errs, fmt.Errorf("id: %q has a dot, which FHIR ids may have but appointment ids may not, "+
			"as they become NATS subject tokens", a.ID))
		a.ID = "stand-in" // so that Normalize checks the other fields
	}
	var err error
	if a.Start, err = parseTime(strings.TrimSpace(fa.Start), m.loc); err != nil {
		errs = append(errs, fmt.Errorf("start: %w", err))
		// A stand-in, so that Normalize checks the other fields without
		// also calling the start missing.
		a.Start = time.Unix(0, 0)
	}
	if a.End, err = parseTime(strings.TrimSpace(fa.End), m.loc); err != nil {
		errs = append(errs, fmt.Errorf("end: %w", err))
	}
	if a.Patient, err = m.patientOf(e, &fa); err != nil {
		errs = append(errs, err)
		a.Patient = notifier.Patient{ID: "stand-in"}
	}
	a.Location = m.locationOf(e, &fa)
	errs = append(errs, a.Normalize())
	if err := errors.Join(errs...); err != nil {
		return notifier.Appointment{}, err
	}
	return a, nil
}

// patientOf finds the one participant that is a patient.
func (m *mapper) patientOf(e *entry, fa *fhirAppointment) (notifier.Patient, error) {
	var (
		found   []notifier.Patient
		missing []string // references to a Patient not in the bundle
		unknown []string // references of unknown type not in the bundle
	)
	for _, p := range fa.Participant {
		ref := p.Actor
		if ref == nil {
			continue
		}
		var target *entry
		switch {
		case ref.Reference != "":
			target = m.resolve(ref.Reference)
			if target == nil {
				switch refType(ref) {
				case "Patient":
					missing = append(missing, printable(ref.Reference))
				case "":
					unknown = append(unknown, printable(ref.Reference))
				}
				continue
			}
		case ref.Type == "Patient" && ref.Identifier != nil && ref.Identifier.Value != "":
			target = m.patientByIdentifier(*ref.Identifier)
			if target == nil {
				found = appendPatient(found, notifier.Patient{ID: ref.Identifier.Value, Name: ref.Display})
				continue
			}
		default:
			continue
		}
		if target.res.ResourceType != "Patient" {
			continue
		}
		target.used = true
		p, err := m.patient(target)
		if err != nil {
			return notifier.Patient{}, err
		}
		found = appendPatient(found, p)
	}
	switch {
	case len(found) > 1:
		return notifier.Patient{}, fmt.Errorf("participant: %d are patients, want one", len(found))
	case len(found) == 1:
		return found[0], nil
	case len(missing) > 0:
		return notifier.Patient{}, fmt.Errorf("participant: %s is not in the bundle", strings.Join(missing, ", "))
	case len(unknown) > 0:
		return notifier.Patient{}, fmt.Errorf("participant: no patient; %s is not in the bundle", strings.Join(unknown, ", "))
	}
	return notifier.Patient{}, errors.New("participant: no patient")
}

// appendPatient adds p unless the same patient is there already, as when
// one is named by reference and by identifier.
func appendPatient(found []notifier.Patient, p notifier.Patient) []notifier.Patient {
	for _, f := range found {
		if f.ID == p.ID {
			return found
		}
	}
	return append(found, p)
}

// refType is the resource type a reference names, "" when it cannot tell.
func refType(ref *fhirReference) string {
	if ref.Type != "" {
		return ref.Type
	}
	if strings.HasPrefix(ref.Reference, "urn:") || strings.HasPrefix(ref.Reference, "#") {
		return ""
	}
	typ, _ := typeAndID(ref.Reference)
	return typ
}

// patient maps the Patient in e, once for all its appointments.
func (m *mapper) patient(e *entry) (notifier.Patient, error) {
	if r, ok := m.patients[e]; ok {
		return r.patient, r.err
	}
	var r patientResult
	var fp fhirPatient
	if err := json.Unmarshal(e.raw, &fp); err != nil {
		r.err = fmt.Errorf("participant: %s in entry %d is not a FHIR Patient: %w", e.label(), e.n, decodeError(err))
	} else if id := cmp.Or(strings.TrimSpace(fp.ID), identifierValue(fp.Identifier)); id == "" {
		r.err = fmt.Errorf("participant: %s in entry %d has neither an id nor an identifier", e.label(), e.n)
	} else {
		r.patient = notifier.Patient{
			ID:       id,
			Name:     patientName(fp.Name),
			Language: patientLanguage(&fp),
		}
		m.contact(&r.patient, fp.Telecom)
	}
	m.patients[e] = r
	return r.patient, r.err
}

// locationOf describes where the appointment takes place. A Location that
// cannot be read leaves it empty, with a note: a patient is better told
// without a place than not told.
func (m *mapper) locationOf(e *entry, fa *fhirAppointment) string {
	for _, p := range fa.Participant {
		ref := p.Actor
		if ref == nil {
			continue
		}
		target := m.resolve(ref.Reference)
		if target == nil {
			if refType(ref) != "Location" {
				continue
			}
			if ref.Display == "" {
				m.notes = append(m.notes, note{e.n, e.describe(
					fmt.Sprintf("participant %s is not in the bundle; imported without a location", printable(ref.Reference)))})
			}
			return ref.Display
		}
		if target.res.ResourceType != "Location" {
			continue
		}
		target.used = true
		var fl fhirLocation
		if err := json.Unmarshal(target.raw, &fl); err != nil {
			m.notes = append(m.notes, note{e.n, e.describe(fmt.Sprintf(
				"%s in entry %d is not a FHIR Location (%v); imported without a location", target.label(), target.n, decodeError(err)))})
			return ref.Display
		}
		return locationText(&fl, ref.Display)
	}
	return ""
}

// locationText joins a Location's name and description, such as
// "Herzzentrum, Building 13, level 2".
func locationText(fl *fhirLocation, display string) string {
	var parts []string
	for _, s := range []string{fl.Name, fl.Description} {
		if s = strings.TrimSpace(s); s != "" && !slices.ContainsFunc(parts, func(p string) bool { return strings.EqualFold(p, s) }) {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 && fl.Address != nil {
		if parts = nonEmpty(fl.Address.Line); len(parts) == 0 {
			parts = nonEmpty([]string{fl.Address.Text})
		}
	}
	if len(parts) == 0 {
		return display
	}
	return strings.Join(parts, ", ")
}

// department is the label of the first specialty, else of the first
// serviceType, that has one.
func department(fa *fhirAppointment) string {
	for _, concepts := range [][]fhirCodeableConcept{fa.Specialty, fa.ServiceType} {
		for _, c := range concepts {
			if l := label(c); l != "" {
				return l
			}
		}
	}
	return ""
}

// label is how a concept reads: its first coding display, else its text,
// else its first coding code.
func label(c fhirCodeableConcept) string {
	for _, cd := range c.Coding {
		if s := strings.TrimSpace(cd.Display); s != "" {
			return s
		}
	}
	if s := strings.TrimSpace(c.Text); s != "" {
		return s
	}
	for _, cd := range c.Coding {
		if s := strings.TrimSpace(cd.Code); s != "" {
			return s
		}
	}
	return ""
}

// kind is a worker kind coded in serviceCategory or appointmentType, else
// the appointmentType code lower-cased; see FHIRReader.
func kind(fa *fhirAppointment) string {
	concepts := fa.ServiceCategory
	if fa.AppointmentType != nil {
		concepts = append(concepts[:len(concepts):len(concepts)], *fa.AppointmentType)
	}
	for _, c := range concepts {
		for _, cd := range c.Coding {
			code := strings.ToLower(strings.TrimSpace(cd.Code))
			if slices.Contains(workerKinds, code) {
				return code
			}
		}
	}
	if fa.AppointmentType != nil {
		for _, cd := range fa.AppointmentType.Coding {
			if code := strings.TrimSpace(cd.Code); code != "" {
				return strings.ToLower(code)
			}
		}
	}
	return ""
}

// identifierValue is the value of the first identifier that is not old.
func identifierValue(ids []fhirIdentifier) string {
	for _, id := range ids {
		if v := strings.TrimSpace(id.Value); v != "" && id.Use != "old" {
			return v
		}
	}
	return ""
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
