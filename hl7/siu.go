package hl7

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// Mapping says where an appointment's fields are in a SIU message. The
// defaults (DefaultMapping) follow the standard; a KIS that writes the
// department elsewhere names that place.
type Mapping struct {
	// Department and Location are places such as "AIL-3.4".
	Department, Location Path
	// Kind is the place of the appointment type; Kinds maps its codes
	// (compared without regard to case) to kinds such as outpatient or
	// elective. A code not listed is used as it is, lower-cased.
	Kind  Path
	Kinds map[string]string
}

// DefaultMapping reads the department from AIL-3.1 (the location
// resource's point of care), the location from AIL-3.9 (its
// description), the kind from SCH-8.1 (the appointment type). A message
// without an AIL segment takes its department from AIS-3.1 (the service's
// identifier) when the department is configured in AIL.
func DefaultMapping() Mapping {
	return Mapping{
		Department: Path{Segment: "AIL", Field: 3, Component: 1},
		Location:   Path{Segment: "AIL", Field: 3, Component: 9},
		Kind:       Path{Segment: "SCH", Field: 8, Component: 1},
	}
}

// FieldError says which field of a message cannot be used, and why. It
// becomes the ERR segment of an AE acknowledgement. Its text names places,
// never patient data.
type FieldError struct {
	Place  string // e.g. "SCH-11.4"
	Reason string
}

func (e *FieldError) Error() string { return e.Place + ": " + e.Reason }

// ErrUnsupported marks a message type this listener does not take; it is
// answered AR.
var ErrUnsupported = errors.New("message type not supported")

// Triggers the listener takes: SIU S12 (new booking), S13 (rescheduled),
// S14 (modified), S15 (cancelled), S17 (deleted), S26 (no-show).
var siuStatus = map[string]string{
	"S12": "", "S13": "", "S14": "", "S15": "cancelled", "S17": "entered-in-error", "S26": "noshow",
}

// fillerStatus maps SCH-25 (filler status code, HL7 table 0278) to FHIR
// appointment statuses.
var fillerStatus = map[string]string{
	"BOOKED": notifier.StatusBooked, "PENDING": notifier.StatusPending, "WAITLIST": "waitlist",
	"CANCELLED": "cancelled", "DELETED": "entered-in-error", "NOSHOW": "noshow", "COMPLETE": "fulfilled",
	"STARTED": notifier.StatusArrived, "DC": "cancelled", "OVERBOOK": notifier.StatusBooked, "BLOCKED": "cancelled",
}

// Type returns the message type and trigger of MSH-9 ("SIU", "S12").
func (m *Message) Type() (string, string) {
	f := m.Field("MSH", 9)
	return strings.ToUpper(m.Component(f, 1)), strings.ToUpper(m.Component(f, 2))
}

// Appointment maps a SIU message to the appointment record it stands for,
// as the CSV import would publish it for facility. Times without an
// offset are read in loc. The record is normalized and valid, or the error
// is a *FieldError (or wraps ErrUnsupported).
func (m *Message) Appointment(facility string, loc *time.Location, mp Mapping) (notifier.Appointment, error) {
	typ, trigger := m.Type()
	status, ok := siuStatus[trigger]
	if typ != "SIU" || !ok {
		return notifier.Appointment{}, fmt.Errorf("%w: %s^%s (SIU S12, S13, S14, S15, S17 and S26 are)", ErrUnsupported, truncate(typ, 8), truncate(trigger, 8))
	}
	if m.Segment("SCH") == nil {
		return notifier.Appointment{}, &FieldError{"SCH", "required in a SIU message"}
	}
	a := notifier.Appointment{Facility: facility}
	a.ID = m.Value(Path{Segment: "SCH", Field: 2, Component: 1})
	idPlace := "SCH-2.1"
	if a.ID == "" {
		a.ID, idPlace = m.Value(Path{Segment: "SCH", Field: 1, Component: 1}), "SCH-1.1"
	}
	if a.ID == "" {
		return a, &FieldError{"SCH-2", "no appointment id (SCH-2 filler or SCH-1 placer appointment id)"}
	}
	if !notifier.ValidID(a.ID) {
		return a, &FieldError{idPlace, "the appointment id must be of the form [A-Za-z0-9_-]+"}
	}
	var err error
	start, startPlace := m.Value(Path{Segment: "SCH", Field: 11, Component: 4}), "SCH-11.4"
	if start == "" {
		start, startPlace = m.Value(Path{Segment: "AIS", Field: 4, Component: 1}), "AIS-4"
	}
	if start == "" {
		return a, &FieldError{"SCH-11.4", "no start time (SCH-11.4 or AIS-4)"}
	}
	if a.Start, err = ParseTime(start, loc); err != nil {
		return a, &FieldError{startPlace, err.Error()}
	}
	if end := m.Value(Path{Segment: "SCH", Field: 11, Component: 5}); end != "" {
		if a.End, err = ParseTime(end, loc); err != nil {
			return a, &FieldError{"SCH-11.5", err.Error()}
		}
	} else if d, err := m.serviceDuration(); err != nil {
		return a, err
	} else if d > 0 {
		a.End = a.Start.Add(d)
	}
	a.Status = status
	if status == "" {
		if code := strings.ToUpper(m.Value(Path{Segment: "SCH", Field: 25, Component: 1})); code != "" {
			st, ok := fillerStatus[code]
			if !ok {
				return a, &FieldError{"SCH-25", fmt.Sprintf("filler status %q is not in HL7 table 0278", truncate(code, 20))}
			}
			a.Status = st
		}
	}
	a.Department = m.Value(mp.Department)
	if mp.Department.Segment == "AIL" && m.Segment("AIL") == nil {
		// A message without a location resource (SCH-11 and AIL are
		// optional in v2.5) still names the service booked.
		a.Department = m.Value(Path{Segment: "AIS", Field: 3, Component: 1})
	}
	a.Location = m.Value(mp.Location)
	if code := m.Value(mp.Kind); code != "" {
		a.Kind = strings.ToLower(code)
		for from, to := range mp.Kinds {
			if strings.EqualFold(from, code) {
				a.Kind = to
			}
		}
	}
	if m.Segment("PID") == nil {
		return a, &FieldError{"PID", "required: the patient to tell"}
	}
	a.Patient = m.patient()
	if err := a.Normalize(); err != nil {
		return a, &FieldError{placeOf(err), err.Error()}
	}
	return a, nil
}

// serviceDuration reads the duration of the service booked, AIS-7 in the
// units of AIS-8 (minutes when empty), for an end when SCH-11.5 gives
// none: SCH-11 is deprecated since v2.5 and many senders leave it out. It
// is 0 when AIS-7 is empty.
func (m *Message) serviceDuration() (time.Duration, error) {
	n := m.Value(Path{Segment: "AIS", Field: 7, Component: 1})
	if n == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(n, 64)
	if err != nil || v <= 0 || v > 100000 {
		return 0, &FieldError{"AIS-7", fmt.Sprintf("duration %q is not a positive number", truncate(n, 20))}
	}
	unit := time.Minute
	switch code := strings.ToLower(m.Value(Path{Segment: "AIS", Field: 8, Component: 1})); code {
	case "", "min", "m":
		unit = time.Minute
	case "s", "sec":
		unit = time.Second
	case "h", "hr", "hour", "hours":
		unit = time.Hour
	case "d", "day", "days":
		unit = 24 * time.Hour
	default:
		return 0, &FieldError{"AIS-8", fmt.Sprintf("duration unit %q is not one of s, min, h, d", truncate(code, 20))}
	}
	d := time.Duration(v * float64(unit))
	if d > 31*24*time.Hour {
		return 0, &FieldError{"AIS-7", "a duration of more than 31 days"}
	}
	return d.Round(time.Second), nil
}

// null is HL7 v2's explicit "delete the value you hold" (""), as opposed
// to an empty field, which changes nothing.
const null = `""`

// patient reads PID: the first identifier of PID-3, the name of PID-5
// (given then family name), the language of PID-15, the e-mail address and
// phone numbers of PID-13 and PID-14 (a mobile number first). A field or
// repetition that is null ("") gives nothing.
func (m *Message) patient() notifier.Patient {
	p := notifier.Patient{
		ID:       m.Value(Path{Segment: "PID", Field: 3, Component: 1}),
		Language: m.Value(Path{Segment: "PID", Field: 15, Component: 1}),
	}
	if p.Language == null {
		p.Language = ""
	}
	name := m.Field("PID", 5)
	if reps := m.Repetitions(name); len(reps) > 0 && reps[0] != null {
		family, given := m.Sub(reps[0], 1, 1), m.Component(reps[0], 2)
		p.Name = strings.TrimSpace(given + " " + family)
	}
	var phones []string
	for _, f := range []int{13, 14} {
		for _, rep := range m.Repetitions(m.Field("PID", f)) {
			if rep == null {
				continue
			}
			use, equip := strings.ToUpper(m.Component(rep, 2)), strings.ToUpper(m.Component(rep, 3))
			if email := m.Component(rep, 4); email != "" && (use == "NET" || equip == "INTERNET" || equip == "X.400" || strings.Contains(email, "@")) {
				if p.Email == "" {
					p.Email = email
				}
				continue
			}
			number := m.Component(rep, 12) // XTN-12, unformatted (v2.5)
			if number == "" {
				number = m.Component(rep, 1)
			}
			if number == "" {
				number = composedNumber(m.Component(rep, 5), m.Component(rep, 6), m.Component(rep, 7))
			}
			if number == "" {
				continue
			}
			if equip == "CP" {
				phones = append([]string{number}, phones...)
			} else {
				phones = append(phones, number)
			}
		}
	}
	if len(phones) > 0 {
		p.Phone = phones[0]
	}
	return p
}

// composedNumber writes a number given in parts (XTN-5 country code, XTN-6
// area code, XTN-7 local number) as one: "+49 211 5550101".
func composedNumber(country, area, local string) string {
	if local == "" {
		return ""
	}
	var parts []string
	if country = strings.TrimLeft(country, "+0"); country != "" {
		parts = append(parts, "+"+country)
		area = strings.TrimLeft(area, "0") // the trunk prefix is not dialled from abroad
	}
	if area != "" {
		parts = append(parts, area)
	}
	return strings.Join(append(parts, local), " ")
}

// placeOf names where a record's validation error points, as far as the
// mapping knows it.
func placeOf(err error) string {
	msg := err.Error()
	for field, place := range map[string]string{
		"patient.email": "PID-13", "patient.phone": "PID-13", "patient.name": "PID-5",
		"patient.language": "PID-15", "patient.id": "PID-3", "department": "AIL-3",
		"location": "AIL-3", "kind": "SCH-8", "end": "SCH-11.5", "start": "SCH-11.4", "status": "SCH-25",
	} {
		if strings.HasPrefix(msg, field+":") {
			return place
		}
	}
	return "SCH"
}

// ParseTime reads an HL7 date/time (TS/DTM): YYYY[MM[DD[HH[MM[SS[.S+]]]]]]
// with an optional +/-ZZZZ offset; without one it is read in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	zone := ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		s, zone = s[:i], s[i:]
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	layouts := map[int]string{8: "20060102", 10: "2006010215", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(s)]
	if !ok {
		return time.Time{}, fmt.Errorf("%q is not an HL7 date and time (YYYYMMDDHHMM[SS][+ZZZZ])", truncate(s, 20))
	}
	if zone != "" {
		t, err := time.Parse(layout+"-0700", s+zone)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q has no valid offset", truncate(s+zone, 25))
		}
		return t, nil
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an HL7 date and time", truncate(s, 20))
	}
	return t, nil
}
