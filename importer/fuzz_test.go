package importer

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/postponement/notifier/notifier"
)

// The fuzz tests read files as an attacker inside the hospital network could
// hand them to an operator. Whatever the file, the readers must end, report
// every broken row as invalid input and pass on only appointments that
// Normalize accepts as they are. The seeds under testdata/fuzz run as
// regression tests with every go test.

// FuzzCSV reads arbitrary bytes as a CSV file, row by row to the end.
func FuzzCSV(f *testing.F) {
	for _, name := range []string{"appointments.csv", "bad-appointments.csv"} {
		data, err := os.ReadFile(filepath.Join("..", "examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	loc := berlin(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := NewCSV(bytes.NewReader(data), "ukd", loc)
		if err != nil {
			checkInvalid(t, "NewCSV", err)
			var le *LineError
			if !errors.As(err, &le) {
				t.Errorf("NewCSV: error %T, want a *LineError", err)
			}
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		last := 1 // the header
		// Every call consumes at least a byte of the file, so more calls
		// than bytes mean the reader loops.
		for calls := 0; ; calls++ {
			if calls > len(data)+1 {
				t.Fatalf("Next returned more than %d rows for %d bytes", calls, len(data))
			}
			row, err := c.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				checkInvalid(t, "Next", err)
				var le *LineError
				if !errors.As(err, &le) {
					t.Fatalf("Next: error %T, want a *LineError", err)
				}
				if le.Line <= last || le.Line > lines+1 {
					t.Errorf("Next: error at line %d after row %d, file of %d lines", le.Line, last, lines)
				}
				if _, again := c.Next(); again != err {
					t.Errorf("Next after %v: got %v, want the same error", err, again)
				}
				break
			}
			if row.Line <= last || row.Line > lines {
				t.Errorf("row at line %d after line %d, file of %d lines", row.Line, last, lines)
			}
			last = row.Line
			checkRow(t, row)
			if row.Err != nil {
				var le *LineError
				if !errors.As(row.Err, &le) {
					t.Errorf("row error %T, want a *LineError", row.Err)
				} else if le.Line < row.Line || le.Line > lines {
					t.Errorf("row at line %d has an error at line %d, file of %d lines", row.Line, le.Line, lines)
				}
			}
		}
	})
}

// FuzzFHIR reads arbitrary bytes as a FHIR Bundle and every row it yields.
func FuzzFHIR(f *testing.F) {
	loc := berlin(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewFHIR(bytes.NewReader(data), "ukd", loc)
		if err != nil {
			checkInvalid(t, "NewFHIR", err)
			var ee *EntryError
			if !errors.As(err, &ee) || ee.Entry != 0 {
				t.Errorf("NewFHIR: error %#v, want an *EntryError for the bundle", err)
			}
			return
		}
		for _, s := range r.Skipped() {
			checkOneLine(t, "Skipped", s)
		}
		last := 0
		for calls := 0; ; calls++ {
			if calls > len(data) {
				t.Fatalf("Next returned more than %d rows for %d bytes", calls, len(data))
			}
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if row.Line <= last {
				t.Errorf("entry %d after entry %d", row.Line, last)
			}
			last = row.Line
			checkRow(t, row)
			if row.Err != nil {
				var ee *EntryError
				if !errors.As(row.Err, &ee) || ee.Entry != row.Line {
					t.Errorf("row of entry %d: error %#v, want an *EntryError for that entry", row.Line, row.Err)
				}
			}
		}
	})
}

// checkInvalid fails unless err marks invalid input and reads as one line.
func checkInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, notifier.ErrInvalid) {
		t.Errorf("%s: %v does not wrap notifier.ErrInvalid", what, err)
	}
	checkOneLine(t, what, err.Error())
}

// checkOneLine fails when s, a line of an import report, would not print as
// one line.
func checkOneLine(t *testing.T, what, s string) {
	t.Helper()
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		t.Errorf("%s: %q breaks the line at byte %d", what, s, i)
	}
}

// checkRow checks the invariants of a row: broken and invalid, or an
// appointment that Normalize accepts unchanged.
func checkRow(t *testing.T, row Row) {
	t.Helper()
	if row.Err != nil {
		checkInvalid(t, "row", row.Err)
		if !reflect.DeepEqual(row.Appointment, notifier.Appointment{}) {
			t.Errorf("row at %d has an error and an appointment %+v", row.Line, row.Appointment)
		}
		return
	}
	a := row.Appointment
	if a.Facility != "ukd" {
		t.Errorf("facility %q, want ukd", a.Facility)
	}
	if !notifier.ValidID(a.ID) {
		t.Errorf("id %q is not valid", a.ID)
	}
	p := &a.Patient
	for field, s := range map[string]string{
		"department": a.Department, "location": a.Location, "status": a.Status, "kind": a.Kind,
		"patient.id": p.ID, "patient.name": p.Name, "patient.language": p.Language,
		"patient.email": p.Email, "patient.phone": p.Phone,
	} {
		if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
			t.Errorf("%s: %q is not UTF-8 without control characters", field, s)
		}
	}
	b := a
	b.Patient.Channels = slices.Clone(a.Patient.Channels)
	if err := b.Normalize(); err != nil {
		t.Errorf("Normalize refuses the appointment of row %d: %v", row.Line, err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Normalize changes the appointment of row %d:\ngot  %+v\nwant %+v", row.Line, b, a)
	}
}
