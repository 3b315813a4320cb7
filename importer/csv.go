package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// Row is one row of the file: an appointment, or the reason it is broken.
type Row struct {
	// Line is the physical line the row starts at; 1 is the header.
	Line int
	// Appointment is normalized and valid when Err is nil, else the zero
	// value.
	Appointment notifier.Appointment
	// Err is a *LineError when the row is broken. Its line can be later
	// than Line when the problem is in a field that spans lines.
	Err error
}

// CSVReader reads appointments from a CSV file, one row at a time; see the
// package documentation for the format.
//
// Rows come in the order of the file. An appointment id that appears twice is
// returned twice and is not an error: applied in order, as on the subject
// appointments.<facility>.<id>, the later row wins.
type CSVReader struct {
	facility string
	loc      *time.Location
	limiter  *lineLimiter
	csv      *csv.Reader
	columns  []column // the column of each field, from the header
	ahead    record   // read, not yet returned, when ahead.line > 0
	end      int      // the last line of the record read last
	err      error    // why reading stopped
}

// NewCSV reads and checks the header row of r. Every appointment gets
// facility as its Facility, and its times without an offset are read in loc,
// the facility's time zone. A header that breaks the contract is a
// *LineError.
func NewCSV(r io.Reader, facility string, loc *time.Location) (*CSVReader, error) {
	if !notifier.ValidID(facility) {
		return nil, fmt.Errorf("importer: facility %q is not of the form [A-Za-z0-9_-]+", facility)
	}
	if loc == nil {
		return nil, errors.New("importer: no time zone to read times without an offset in")
	}
	c := &CSVReader{facility: facility, loc: loc, limiter: newLineLimiter(r)}
	c.csv = csv.NewReader(c.limiter)
	c.csv.FieldsPerRecord = -1
	// A record's fields are done with before the next is read.
	c.csv.ReuseRecord = true

	rec, err := c.read()
	if err == io.EOF {
		return nil, &LineError{Line: 1, Err: errors.New("header: missing, the file is empty")}
	}
	if err != nil {
		return nil, err
	}
	if rec.err != nil {
		return nil, rec.err
	}
	names, err := parseHeader(rec.fields)
	if err != nil {
		return nil, &LineError{Line: rec.line, Err: err}
	}
	c.columns = make([]column, len(names))
	for i, name := range names {
		c.columns[i] = column(slices.Index(knownColumns, name))
	}
	return c, nil
}

// Next returns the next row, or io.EOF after the last. A broken row comes as
// a Row with Err set, and the rows after it are read as usual. Any other
// error stops reading and comes again from every later call: an I/O error,
// or a *LineError when a quoted field is never closed.
func (c *CSVReader) Next() (Row, error) {
	rec, err := c.read()
	if err != nil {
		return Row{}, err
	}
	if rec.err != nil {
		return Row{Line: rec.line, Err: rec.err}, nil
	}
	if len(rec.fields) != len(c.columns) {
		return Row{Line: rec.line, Err: &LineError{Line: rec.line,
			Err: fmt.Errorf("%d fields, want %d as in the header", len(rec.fields), len(c.columns))}}, nil
	}
	a, err := c.appointment(rec.fields)
	if err != nil {
		return Row{Line: rec.line, Err: &LineError{Line: rec.line, Err: err}}, nil
	}
	return Row{Line: rec.line, Appointment: a}, nil
}

// record is one record of the file, or why it cannot be read.
type record struct {
	fields []string
	line   int   // the first line
	end    int   // the last line
	err    error // a *LineError
}

// read returns the next record, or the next line too long to read, in the
// order of the file. Its error is io.EOF or a reason to stop; a broken
// record is not.
func (c *CSVReader) read() (record, error) {
	if c.ahead.line == 0 && c.err == nil {
		c.ahead = c.readCSV()
	}
	// A line emptied by the limiter before the record ahead was skipped by
	// encoding/csv, so it is reported on its own.
	before := math.MaxInt
	if c.ahead.line > 0 {
		before = c.ahead.line - 1
	}
	if cut := c.limiter.firstCut(before); cut > 0 {
		c.limiter.forgetCuts(cut)
		return record{line: cut, err: &LineError{Line: cut, Err: errLineTooLong}}, nil
	}
	if c.ahead.line == 0 {
		return record{}, c.err
	}
	rec := c.ahead
	c.ahead = record{}
	if cut := c.limiter.firstCut(rec.end); cut > 0 {
		c.limiter.forgetCuts(rec.end)
		rec.fields, rec.err = nil, &LineError{Line: cut, Err: errLineTooLong}
	}
	return rec, nil
}

// readCSV reads the next record with encoding/csv. At the end of the file,
// or when reading has to stop, it sets c.err and returns no record (line 0).
func (c *CSVReader) readCSV() record {
	c.limiter.recordStart = c.csv.InputOffset()
	fields, err := c.csv.Read()
	if err == nil {
		line, _ := c.csv.FieldPos(0)
		last, _ := c.csv.FieldPos(len(fields) - 1)
		c.end = last + strings.Count(fields[len(fields)-1], "\n")
		return record{fields: fields, line: line, end: c.end}
	}
	var parseErr *csv.ParseError
	switch {
	case errors.As(err, &parseErr):
		c.end = parseErr.Line
		return record{line: parseErr.StartLine, end: c.end, err: &LineError{
			Line: parseErr.Line, Column: parseErr.Column, Err: parseErr.Err}}
	case err == io.EOF:
		c.err = io.EOF
	case errors.Is(err, errRecordTooLong):
		c.err = &LineError{Line: c.end + 1, Err: err}
	default:
		c.err = fmt.Errorf("importer: reading: %w", err)
	}
	return record{}
}

// column is a column of the file, its index in knownColumns; the
// constants are in the same order.
type column int

// String is the column's name in the header.
func (col column) String() string { return knownColumns[col] }

const (
	colID column = iota
	colDepartment
	colLocation
	colStart
	colEnd
	colStatus
	colKind
	colPatientID
	colPatientName
	colLanguage
	colEmail
	colPhone
)

// appointment turns the fields of a row into a normalized appointment.
func (c *CSVReader) appointment(fields []string) (notifier.Appointment, error) {
	a := notifier.Appointment{Facility: c.facility}
	var errs []error
	badStart := false
	for i, v := range fields {
		v = strings.TrimSpace(v)
		var err error
		switch c.columns[i] {
		case colID:
			a.ID = v
		case colDepartment:
			a.Department = v
		case colLocation:
			a.Location = v
		case colStart:
			a.Start, err = parseTime(v, c.loc)
			badStart = err != nil
		case colEnd:
			a.End, err = parseTime(v, c.loc)
		case colStatus:
			a.Status = v
		case colKind:
			a.Kind = v
		case colPatientID:
			a.Patient.ID = v
		case colPatientName:
			a.Patient.Name = v
		case colLanguage:
			a.Patient.Language = v
		case colEmail:
			a.Patient.Email = v
		case colPhone:
			a.Patient.Phone = v
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.columns[i], err))
		}
	}
	if badStart {
		// A stand-in, so that Normalize checks the other fields without
		// also calling the start missing.
		a.Start = a.End
		if a.Start.IsZero() {
			a.Start = time.Unix(0, 0)
		}
	}
	if err := a.Normalize(); err != nil || len(errs) > 0 {
		return notifier.Appointment{}, errors.Join(append(errs, err)...)
	}
	return a, nil
}
