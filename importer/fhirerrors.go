package importer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/postponement/notifier/notifier"
)

// EntryError is a problem with an entry of a FHIR Bundle, or with the bundle
// as a whole. Like [LineError] it always wraps [notifier.ErrInvalid]: the
// bundle has to be fixed, reading it again does not help.
type EntryError struct {
	// Entry is the entry's position in Bundle.entry, from 1; 0 when the
	// problem is with the bundle as a whole.
	Entry int
	// Resource names the entry's resource, as "Appointment/A2010001", or
	// by its type and fullUrl when it has no id; "" when unknown.
	Resource string
	Err      error
}

// Error puts the entry first, names fields as the FHIR resources do and
// keeps the message on one line, so that a report has one line per broken
// entry.
func (e *EntryError) Error() string {
	problems := strings.Split(e.Err.Error(), "\n")
	for i, p := range problems {
		for field, element := range elementOfField {
			if rest, ok := strings.CutPrefix(p, field+":"); ok {
				problems[i] = element + ":" + rest
				break
			}
		}
	}
	msg := strings.Join(problems, "; ")
	switch {
	case e.Entry == 0:
		return "bundle: " + msg
	case e.Resource == "":
		return fmt.Sprintf("entry %d: %s", e.Entry, msg)
	}
	return fmt.Sprintf("entry %d (%s): %s", e.Entry, e.Resource, msg)
}

// Unwrap makes errors.Is(err, notifier.ErrInvalid) hold and exposes the
// cause.
func (e *EntryError) Unwrap() []error { return []error{notifier.ErrInvalid, e.Err} }

// elementOfField maps the field names in Normalize's errors to the FHIR
// elements they come from, where they differ.
var elementOfField = map[string]string{
	"department":       "department (specialty or serviceType)",
	"location":         "Location",
	"patient.id":       "Patient.id",
	"patient.name":     "Patient.name",
	"patient.language": "Patient.communication",
	"patient.email":    "Patient.telecom email",
	"patient.phone":    "Patient.telecom phone",
}

// printable returns s, a value from the bundle, for a message: as it is when
// it prints as it reads, else quoted with its line breaks and other control
// characters escaped, so that a hostile bundle cannot break a report's one
// line per entry.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}
