package importer

import (
	"fmt"
	"strings"

	"github.com/postponement/notifier/notifier"
)

// LineError is a problem at a physical line of the file (1 is the header).
// It always wraps [notifier.ErrInvalid]: the file has to be fixed, reading it
// again does not help.
type LineError struct {
	Line int
	// Column is the byte column of a quoting error, 0 when it does not
	// apply.
	Column int
	Err    error
}

// Error puts the line first, names fields by their CSV columns and keeps the
// message on one line, so that a report has one line per broken row.
func (e *LineError) Error() string {
	problems := strings.Split(e.Err.Error(), "\n")
	for i, p := range problems {
		for field, column := range columnOfField {
			if rest, ok := strings.CutPrefix(p, field+":"); ok {
				problems[i] = column + ":" + rest
				break
			}
		}
	}
	msg := strings.Join(problems, "; ")
	if e.Column > 0 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, msg)
}

// Unwrap makes errors.Is(err, notifier.ErrInvalid) hold and exposes the
// cause.
func (e *LineError) Unwrap() []error { return []error{notifier.ErrInvalid, e.Err} }

// columnOfField maps the field names in Normalize's errors to the columns
// of the file, where they differ.
var columnOfField = map[string]string{
	"patient.id":       "patient_id",
	"patient.name":     "patient_name",
	"patient.language": "language",
	"patient.email":    "email",
	"patient.phone":    "phone",
}
