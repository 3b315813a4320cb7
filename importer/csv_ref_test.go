package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// refCSVReader is CSVReader as it was before it was made faster, the
// reference that TestCSVSame and FuzzCSVSame hold the reader to: the same
// rows, values, line numbers and error texts.
type refCSVReader struct {
	facility string
	loc      *time.Location
	limiter  *lineLimiter
	csv      *csv.Reader
	columns  []string
	ahead    *refRecord
	end      int
	err      error
}

type refRecord struct {
	fields []string
	line   int
	end    int
	err    error
}

func newRefCSV(r io.Reader, facility string, loc *time.Location) (*refCSVReader, error) {
	if !notifier.ValidID(facility) {
		return nil, fmt.Errorf("importer: facility %q is not of the form [A-Za-z0-9_-]+", facility)
	}
	if loc == nil {
		return nil, errors.New("importer: no time zone to read times without an offset in")
	}
	c := &refCSVReader{facility: facility, loc: loc, limiter: newLineLimiter(r)}
	c.csv = csv.NewReader(c.limiter)
	c.csv.FieldsPerRecord = -1

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
	if c.columns, err = parseHeader(rec.fields); err != nil {
		return nil, &LineError{Line: rec.line, Err: err}
	}
	return c, nil
}

func (c *refCSVReader) Next() (Row, error) {
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

func (c *refCSVReader) read() (refRecord, error) {
	if c.ahead == nil && c.err == nil {
		c.ahead = c.readCSV()
	}
	before := math.MaxInt
	if c.ahead != nil {
		before = c.ahead.line - 1
	}
	if cut := c.limiter.firstCut(before); cut > 0 {
		c.limiter.forgetCuts(cut)
		return refRecord{line: cut, err: &LineError{Line: cut, Err: errLineTooLong}}, nil
	}
	if c.ahead == nil {
		return refRecord{}, c.err
	}
	rec := *c.ahead
	c.ahead = nil
	if cut := c.limiter.firstCut(rec.end); cut > 0 {
		c.limiter.forgetCuts(rec.end)
		rec.fields, rec.err = nil, &LineError{Line: cut, Err: errLineTooLong}
	}
	return rec, nil
}

func (c *refCSVReader) readCSV() *refRecord {
	c.limiter.recordStart = c.csv.InputOffset()
	fields, err := c.csv.Read()
	var parseErr *csv.ParseError
	switch {
	case err == nil:
		line, _ := c.csv.FieldPos(0)
		last, _ := c.csv.FieldPos(len(fields) - 1)
		c.end = last + strings.Count(fields[len(fields)-1], "\n")
		return &refRecord{fields: fields, line: line, end: c.end}
	case errors.As(err, &parseErr):
		c.end = parseErr.Line
		return &refRecord{line: parseErr.StartLine, end: c.end, err: &LineError{
			Line: parseErr.Line, Column: parseErr.Column, Err: parseErr.Err}}
	case err == io.EOF:
		c.err = io.EOF
	case errors.Is(err, errRecordTooLong):
		c.err = &LineError{Line: c.end + 1, Err: err}
	default:
		c.err = fmt.Errorf("importer: reading: %w", err)
	}
	return nil
}

func (c *refCSVReader) appointment(fields []string) (notifier.Appointment, error) {
	a := notifier.Appointment{Facility: c.facility}
	var errs []error
	badStart := false
	for i, v := range fields {
		v = strings.TrimSpace(v)
		var err error
		switch c.columns[i] {
		case "id":
			a.ID = v
		case "department":
			a.Department = v
		case "location":
			a.Location = v
		case "start":
			a.Start, err = parseTimeRef(v, c.loc)
			badStart = err != nil
		case "end":
			a.End, err = parseTimeRef(v, c.loc)
		case "status":
			a.Status = v
		case "kind":
			a.Kind = v
		case "patient_id":
			a.Patient.ID = v
		case "patient_name":
			a.Patient.Name = v
		case "language":
			a.Patient.Language = v
		case "email":
			a.Patient.Email = v
		case "phone":
			a.Patient.Phone = v
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.columns[i], err))
		}
	}
	if badStart {
		a.Start = a.End
		if a.Start.IsZero() {
			a.Start = time.Unix(0, 0)
		}
	}
	errs = append(errs, a.Normalize())
	if err := errors.Join(errs...); err != nil {
		return notifier.Appointment{}, err
	}
	return a, nil
}

var refLocalLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
}

func parseTimeRef(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(loc), nil
	}
	for _, layout := range refLocalLayouts {
		if wall, err := time.Parse(layout, s); err == nil {
			return inZoneRef(wall, loc)
		}
	}
	return time.Time{}, errNotATime
}

func inZoneRef(wall time.Time, loc *time.Location) (time.Time, error) {
	var found []time.Time
	for _, probe := range []time.Time{wall.Add(-24 * time.Hour), wall.Add(24 * time.Hour)} {
		_, offset := probe.In(loc).Zone()
		t := wall.Add(-time.Duration(offset) * time.Second).In(loc)
		if _, o := t.Zone(); o == offset && !slices.ContainsFunc(found, t.Equal) {
			found = append(found, t)
		}
	}
	when := wall.Format("2006-01-02 15:04")
	switch len(found) {
	case 0:
		return time.Time{}, fmt.Errorf("%s does not exist in %s (the clocks skip it); give an offset", when, loc)
	case 2:
		return time.Time{}, fmt.Errorf("%s occurs twice in %s (the clocks go back); give an offset, %s or %s",
			when, loc, found[0].Format("-07:00"), found[1].Format("-07:00"))
	}
	return found[0], nil
}

// sameZones are zones with daylight saving of an hour, of half an hour,
// negative (Dublin), with a skipped day (Apia), none, and an offset that is
// not whole hours.
var sameZones = []string{"Europe/Berlin", "UTC", "America/New_York", "Australia/Lord_Howe", "Europe/Dublin",
	"Pacific/Apia", "Asia/Kathmandu", "America/St_Johns", "Africa/Casablanca"}

func loadZones(tb testing.TB) []*time.Location {
	tb.Helper()
	var locs []*time.Location
	for _, name := range sameZones {
		locs = append(locs, zone(tb, name))
	}
	return append(locs, time.FixedZone("", 5*3600+30*60), time.FixedZone("CET", 3600))
}

// checkTimeSame fails unless parseTime and parseTimeRef read s alike in
// loc: the same time, compared with == so that the location and the
// encoding count too, or the same error.
func checkTimeSame(t *testing.T, s string, loc *time.Location) {
	t.Helper()
	got, gotErr := parseTime(s, loc)
	want, wantErr := parseTimeRef(s, loc)
	if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Errorf("parseTime(%q, %s) = %v, %v; want %v, %v", s, loc, got, gotErr, want, wantErr)
	}
}

// timeInputs are times in every accepted form and near them: days the
// clocks change on somewhere, the ends of every field's range, other
// offsets, fractions, lower case, spaces and digits missing.
func timeInputs() []string {
	in := []string{"", " ", "T", "2020", "2020-10-25", "2020-10-25T", "2020-10-25 02:30 ", " 2020-10-25 02:30",
		"2020-10-25  02:30", "2020-10-25t02:30:00Z", "2020-10-25T02:30:00z", "2020-10-25T02:30:00+0100",
		"2020-10-25T02:30:00+01", "2020-10-25T02:30:00 +01:00", "2020-10-25T02:30:00.Z", "+2020-10-25T02:30:00Z",
		"2020-10-25T02:30:00.1234567891Z", "２０２０-10-25 02:30", "2020-1O-25 02:30", "tomorrow", "22.10.2020 09:30"}
	days := []string{"2020-03-29", "2020-10-25", "2020-03-08", "2020-11-01", "2020-04-05", "2020-10-04", "2011-12-29",
		"2011-12-30", "2011-12-31", "2020-05-17", "2020-05-24", "2019-10-27", "2021-03-28", "2020-02-29", "2021-02-29",
		"2020-02-30", "2020-04-31", "2020-12-31", "2020-01-01", "2020-00-10", "2020-13-10", "2020-06-00", "2020-06-32",
		"0000-01-01", "0001-01-01", "9999-12-31", "1969-12-31", "1970-01-01", "2038-01-19", "2100-02-29"}
	clocks := []string{"00:00", "01:59", "02:00", "02:15", "02:30", "02:59", "03:00", "03:30", "09:30", "12:00", "23:59",
		"24:00", "23:60", "1:30", "01:3", "99:99"}
	seconds := []string{"", ":00", ":59", ":60", ":5", ":00.5", ":00.000000001", ":00,5"}
	zones := []string{"", "Z", "+00:00", "-00:00", "+01:00", "+02:00", "-05:00", "+05:45", "-03:30", "+14:00",
		"-12:00", "+23:59", "+24:00", "+01:60", "+1:00"}
	rng := rand.New(rand.NewPCG(7, 8))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	for range 4000 {
		sep := "T"
		if rng.IntN(2) == 0 {
			sep = " "
		}
		in = append(in, pick(days)+sep+pick(clocks)+pick(seconds)+pick(zones))
	}
	// Every minute of the hours around a change in Berlin and Lord Howe.
	for _, day := range []string{"2020-03-29", "2020-10-25", "2020-10-04", "2020-04-05"} {
		for m := 0; m < 4*60; m += 7 {
			in = append(in, fmt.Sprintf("%s %02d:%02d", day, m/60, m%60))
		}
	}
	return in
}

func TestParseTimeSame(t *testing.T) {
	locs := loadZones(t)
	for _, s := range timeInputs() {
		for _, loc := range locs {
			checkTimeSame(t, s, loc)
		}
	}
}

// FuzzParseTime holds parseTime to parseTimeRef.
func FuzzParseTime(f *testing.F) {
	for _, s := range timeInputs()[:300] {
		f.Add(s, uint8(0))
	}
	locs := loadZones(f)
	f.Fuzz(func(t *testing.T, s string, zone uint8) {
		checkTimeSame(t, s, locs[int(zone)%len(locs)])
	})
}

// checkCSVSame fails unless CSVReader and refCSVReader read data alike.
func checkCSVSame(t *testing.T, data []byte, loc *time.Location) {
	t.Helper()
	c, err := NewCSV(bytes.NewReader(data), "ukd", loc)
	ref, refErr := newRefCSV(bytes.NewReader(data), "ukd", loc)
	if fmt.Sprint(err) != fmt.Sprint(refErr) {
		t.Fatalf("NewCSV: %v, want %v", err, refErr)
	}
	if err != nil {
		return
	}
	for i := 0; ; i++ {
		got, err := c.Next()
		want, wantErr := ref.Next()
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("row %d: %v, want %v", i, err, wantErr)
		}
		if err != nil {
			return
		}
		if fmt.Sprint(got.Err) != fmt.Sprint(want.Err) || !reflect.DeepEqual(got.Err, want.Err) {
			t.Errorf("row %d: %#v, want %#v", i, got.Err, want.Err)
		}
		// == and not Equal: the same location and encoding too.
		ga, wa := got.Appointment, want.Appointment
		if ga.Start != wa.Start || ga.End != wa.End {
			t.Errorf("row %d: start and end %v, %v; want %v, %v", i, ga.Start, ga.End, wa.Start, wa.End)
		}
		if got.Line != want.Line || !reflect.DeepEqual(ga, wa) {
			t.Errorf("row %d:\ngot  line %d %+v\nwant line %d %+v", i, got.Line, ga, want.Line, wa)
		}
	}
}

// csvSameInputs are files of generated rows: valid ones as the synthetic
// data has them, fields of every kind of text and time, and broken
// quoting, field counts, blank and overlong lines among them; the fuzz
// seeds and example files too.
func csvSameInputs(tb testing.TB) [][]byte {
	tb.Helper()
	var in [][]byte
	for _, dir := range []string{"../examples", "testdata/fuzz/FuzzCSV"} {
		names, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, name := range names {
			data, err := os.ReadFile(name)
			if err != nil {
				tb.Fatal(err)
			}
			if strings.HasPrefix(dir, "testdata") {
				// go test fuzz v1, then []byte("…")
				var s string
				if _, err := fmt.Sscanf(strings.TrimPrefix(string(data), "go test fuzz v1\n[]byte("), "%q", &s); err != nil {
					tb.Fatalf("%s: %v", name, err)
				}
				data = []byte(s)
			} else if !strings.HasSuffix(name, ".csv") {
				continue
			}
			in = append(in, data)
		}
	}
	loc := berlin(tb)
	in = append(in, benchCSV(tb, 300, loc, time.RFC3339), benchCSV(tb, 300, loc, "2006-01-02 15:04"),
		benchCSV(tb, 300, loc, "2006-01-02T15:04:05"))

	rng := rand.New(rand.NewPCG(9, 10))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	times := timeInputs()
	text := []string{"", " ", "A-1", "A.1", "P-7", "cardiology", " Oncology ", "Building 13, level 2", "BOOKED", "booked",
		"Checked-In", "postponed", "cancelled", "Elective", "de", "DE-de", "tr_TR", "Deutsch", "Jürgen Müller",
		"Jörg \"Jockel\" Groß", "p4711@example.org", "Jana <a@b>", "a b@c", "+49 211 5550101", "call me",
		"a\tb", "a\nb", "a\r\nb", "\x00", "\u0085", "\u200b", "\u202e", "\ufeff", "\xff", strings.Repeat("ö", 201)}
	headers := []string{strings.TrimSuffix(header, "\n"), "id,start,patient_id", "Patient_ID , START,id,End",
		"id,start,patient_id,status,kind,email", "id,start,patient_id,diagnosis", "id,id,start,patient_id"}
	for range 300 {
		var b bytes.Buffer
		if rng.IntN(10) == 0 {
			b.WriteString("\uFEFF")
		}
		h := pick(headers)
		columns := strings.Split(h, ",")
		nl := "\n"
		if rng.IntN(5) == 0 {
			nl = "\r\n"
		}
		b.WriteString(h + nl)
		w := csv.NewWriter(&b)
		w.UseCRLF = nl == "\r\n"
		for range rng.IntN(30) {
			switch rng.IntN(20) {
			case 0:
				w.Flush()
				b.WriteString(pick([]string{"\n", "A-9,\"B13\"x,2020-10-22 09:30,P-1\n", "A-9,Jörg \"J\" G,x\n",
					"A-9,\"unclosed,2020-10-22 09:30,P-1\n", "A-9,P-1\n", "A-9," + strings.Repeat("x", MaxLineLength) + ",P-1\n",
					"\"" + strings.Repeat("y", MaxLineLength+10) + "\n\",1,2\n"}))
				continue
			}
			fields := make([]string, len(columns))
			for i, col := range columns {
				switch strings.ToLower(strings.TrimSpace(col)) {
				case "start", "end":
					fields[i] = pick(times)
					if rng.IntN(3) == 0 {
						fields[i] = "2020-10-22T09:30:00+02:00"
					}
				case "id", "patient_id":
					fields[i] = fmt.Sprintf("X-%d", rng.IntN(1000))
					if rng.IntN(10) == 0 {
						fields[i] = pick(text)
					}
				default:
					fields[i] = pick(text)
				}
			}
			if rng.IntN(15) == 0 {
				fields = fields[:rng.IntN(len(fields))]
			}
			_ = w.Write(fields)
		}
		w.Flush()
		in = append(in, b.Bytes())
	}
	return in
}

func TestCSVSame(t *testing.T) {
	locs := loadZones(t)
	for i, data := range csvSameInputs(t) {
		checkCSVSame(t, data, locs[i%len(locs)])
	}
}

// FuzzCSVSame holds CSVReader to refCSVReader.
func FuzzCSVSame(f *testing.F) {
	for _, data := range csvSameInputs(f)[:100] {
		f.Add(data, uint8(0))
	}
	locs := loadZones(f)
	f.Fuzz(func(t *testing.T, data []byte, zone uint8) {
		checkCSVSame(t, data, locs[int(zone)%len(locs)])
	})
}
