package importer

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"time"

	"github.com/postponement/notifier/notifier"
)

// MaxBundleSize is the largest FHIR Bundle accepted, in bytes. A bundle is
// read into memory whole, as its resources may refer to each other in any
// order; a larger export has to be split into several bundles, or made as
// CSV, which is read a row at a time.
const MaxBundleSize = 64 << 20

// bom is the byte order mark that some Windows tools put at the start of a
// UTF-8 file; JSON does not allow it.
const bom = "\uFEFF"

// SniffLen is how much of the start of a file [IsFHIR] needs to see.
const SniffLen = 4096

// FHIRReader reads appointments from a FHIR R4 Bundle in JSON, of any
// Bundle.type (collection, transaction, searchset, batch, ...).
//
// Every Appointment entry becomes a [Row], in the order of the bundle; its
// Line is the entry's position in Bundle.entry, from 1, and a broken one's
// Err is an [*EntryError] naming that entry. The other resources only
// complete the appointments that refer to them, wherever they are in the
// bundle:
//
//   - id is Appointment.id, or the first identifier's value when the
//     resource has none (a transaction entry to be created). It must be of
//     the form [A-Za-z0-9_-]+: FHIR allows dots in ids, but an appointment id
//     becomes a NATS subject token, so a dotted id is refused, not rewritten.
//   - status is Appointment.status, whose codes are the worker's.
//   - start and end are FHIR instants; one without an offset is read in the
//     facility's time zone, as in a CSV file.
//   - department is the label of the first specialty, else of the first
//     serviceType, that has one: the first display among its codings, else
//     its text, else its first code. Displays come first because the
//     department is printed in the patient's notice and matched against an
//     outage's departments, and a code such as SNOMED CT's 394579002 means
//     nothing to a patient or to whoever declares the outage.
//   - kind is outpatient, elective or inpatient when a serviceCategory or
//     appointmentType coding has that code (in any case): FHIR R4 has no
//     element for it, and these are the kinds outages name. Else it is the
//     appointmentType code lower-cased (routine, followup, checkup, walkin,
//     emergency in HL7 v2 table 0276), so an outage can still name those.
//     Else it is empty, which outages that list no kinds cover.
//   - the patient is the one participant whose actor is a Patient, by
//     reference ("Patient/123", an absolute URL, or the fullUrl of an entry
//     such as "urn:uuid:...") or, with actor.type Patient, by identifier. The
//     patient id is the Patient's id, else its first identifier's value; an
//     identifier that matches no Patient in the bundle is the patient id
//     itself, with actor.display as the name and no contact data.
//   - name is the official name, else the usual one, else any but an old or
//     maiden name: given names and family, else its text.
//   - language is the first coded language of the preferred communication,
//     else of the first.
//   - email and phone are the patient's best telecoms of system email, and
//     of system phone or sms: lowest rank first (1 is the highest), ranked
//     before unranked, then in the order given. A telecom whose use is old,
//     or whose period has ended or not begun at the time of the import, is
//     not used. When both exist and their ranks differ, Channels lists
//     "email" and "sms" in that order, the patient's preference.
//   - location is the first Location participant's name and description,
//     else its address, else the actor's display.
//
// A Practitioner is never shown to a patient and is ignored. An Appointment
// without a patient, or whose patient reference is not in the bundle, is a
// broken row. What is left out without being an error — resources of
// other types, Patients no appointment refers to, a Location reference not in
// the bundle, later pages of a searchset — is listed by Skipped.
type FHIRReader struct {
	rows    []Row
	skipped []string
}

// NewFHIR reads the whole Bundle from r, at most [MaxBundleSize] bytes, and
// maps its appointments. Every appointment gets facility as its Facility, and
// its times without an offset are read in loc, the facility's time zone. A
// file that is not a FHIR Bundle is an [*EntryError] with Entry 0.
func NewFHIR(r io.Reader, facility string, loc *time.Location) (*FHIRReader, error) {
	if !notifier.ValidID(facility) {
		return nil, fmt.Errorf("importer: facility %q is not of the form [A-Za-z0-9_-]+", facility)
	}
	if loc == nil {
		return nil, errors.New("importer: no time zone to read times without an offset in")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxBundleSize+1))
	if err != nil {
		return nil, fmt.Errorf("importer: reading: %w", err)
	}
	if len(data) > MaxBundleSize {
		return nil, &EntryError{Err: fmt.Errorf("larger than %d MiB; export it as several bundles", MaxBundleSize>>20)}
	}
	data = bytes.TrimPrefix(data, []byte(bom))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &EntryError{Err: errors.New("the file is empty")}
	}
	var b fhirBundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, &EntryError{Err: fmt.Errorf("not a FHIR Bundle in JSON: %w", decodeError(err))}
	}
	if b.ResourceType != "Bundle" {
		return nil, &EntryError{Err: fmt.Errorf("resourceType is %q, want \"Bundle\"", b.ResourceType)}
	}

	f := &FHIRReader{}
	m := &mapper{bundle: indexBundle(b.Entry), facility: facility, loc: loc, now: time.Now(),
		patients: map[*entry]patientResult{}}
	var notes []note
	if slices.ContainsFunc(b.Link, func(l fhirLink) bool { return l.Relation == "next" }) {
		notes = append(notes, note{0, "bundle: a page of search results with a next link; " +
			"the appointments on later pages are not in this file"})
	}
	for i := range m.entries {
		e := &m.entries[i]
		if e.err != nil || e.res.ResourceType != "Appointment" {
			continue
		}
		a, err := m.appointment(e)
		row := Row{Line: e.n, Appointment: a}
		if err != nil {
			row = Row{Line: e.n, Err: &EntryError{Entry: e.n, Resource: e.label(), Err: err}}
		}
		f.rows = append(f.rows, row)
	}
	notes = append(notes, m.notes...)
	notes = append(notes, m.unused()...)
	slices.SortStableFunc(notes, func(a, b note) int { return cmp.Compare(a.entry, b.entry) })
	for _, n := range notes {
		f.skipped = append(f.skipped, n.text)
	}
	return f, nil
}

// Next returns the next appointment row, or io.EOF after the last. A broken
// appointment comes as a Row with Err set, and the rows after it follow as
// usual.
func (f *FHIRReader) Next() (Row, error) {
	if len(f.rows) == 0 {
		return Row{}, io.EOF
	}
	row := f.rows[0]
	f.rows = f.rows[1:]
	return row, nil
}

// Skipped describes, one line each and in the order of the bundle, what was
// left out of the import without making an appointment row broken. It is
// complete once NewFHIR returns. No line holds patient data other than ids.
func (f *FHIRReader) Skipped() []string { return f.skipped }

// IsFHIR reports whether head, the start of a file (see [SniffLen]), is a
// JSON object whose top-level resourceType is "Bundle", so that a command can
// choose the reader by what a file holds rather than by its name.
func IsFHIR(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte(bom))
	dec := json.NewDecoder(bytes.NewReader(head))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		if key == "resourceType" {
			value, err := dec.Token()
			return err == nil && value == "Bundle"
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}

// decodeError keeps a JSON decoding error short and free of the input's
// content.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("%s: wrong type %s, want %s", typ.Field, typ.Value, jsonType(typ.Type))
	case errors.As(err, &typ):
		return fmt.Errorf("wrong type %s, want %s", typ.Value, jsonType(typ.Type))
	}
	return err
}

// jsonType names the JSON type that decodes into t, as UnmarshalTypeError
// names the one found.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	}
	return "number"
}
