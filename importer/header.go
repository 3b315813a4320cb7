package importer

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// knownColumns are the columns a CSV file may have, in the order of the
// sample file.
var knownColumns = []string{
	"id", "department", "location", "start", "end", "status", "kind",
	"patient_id", "patient_name", "language", "email", "phone",
}

// requiredColumns must be in the header and have a value in every row.
var requiredColumns = []string{"id", "start", "patient_id"}

// parseHeader returns the column of each field of the header row.
func parseHeader(fields []string) ([]string, error) {
	columns := make([]string, len(fields))
	var unknown, twice []string
	for i, f := range fields {
		name := strings.ToLower(strings.TrimSpace(f))
		switch {
		case !slices.Contains(knownColumns, name):
			unknown = append(unknown, strconv.Quote(strings.TrimSpace(f)))
		case slices.Contains(columns[:i], name):
			twice = append(twice, name)
		}
		columns[i] = name
	}
	var errs []error
	if len(unknown) > 0 {
		errs = append(errs, fmt.Errorf("header: unknown columns %s (known are %s)",
			strings.Join(unknown, ", "), strings.Join(knownColumns, ", ")))
	}
	if len(twice) > 0 {
		errs = append(errs, fmt.Errorf("header: columns named twice: %s", strings.Join(twice, ", ")))
	}
	var missing []string
	for _, name := range requiredColumns {
		if !slices.Contains(columns, name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("header: missing required columns %s", strings.Join(missing, ", ")))
	}
	return columns, errors.Join(errs...)
}
