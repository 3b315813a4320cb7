package importer

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zoneinfo

	"github.com/postponement/notifier/notifier"
)

const header = "id,department,location,start,end,status,kind,patient_id,patient_name,language,email,phone\n"

// berlin is the time zone the tests read times in; its daylight-saving
// changes make wall-clock times ambiguous twice a year.
func berlin(tb testing.TB) *time.Location {
	tb.Helper()
	return zone(tb, "Europe/Berlin")
}

// zone loads the time zone name, or fails the test.
func zone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// readAll reads every row of a file for facility ukd in Europe/Berlin.
func readAll(t *testing.T, file string) []Row {
	t.Helper()
	c, err := NewCSV(strings.NewReader(file), "ukd", berlin(t))
	if err != nil {
		t.Fatalf("NewCSV: %v", err)
	}
	var rows []Row
	for {
		row, err := c.Next()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("Next after %d rows: %v", len(rows), err)
		}
		rows = append(rows, row)
	}
}

// readOne reads a file of one row.
func readOne(t *testing.T, file string) Row {
	t.Helper()
	rows := readAll(t, file)
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	return rows[0]
}

// mustAppointment fails unless row holds an appointment.
func mustAppointment(t *testing.T, row Row) notifier.Appointment {
	t.Helper()
	if row.Err != nil {
		t.Fatalf("row at line %d: %v", row.Line, row.Err)
	}
	return row.Appointment
}

func TestNewCSVHeader(t *testing.T) {
	row := "A1,cardiology,2020-10-22 09:30,P1\n"
	tests := []struct {
		name    string
		file    string
		wantErr string // "" when the header is fine
	}{
		{"contract order", header, ""},
		{"required columns only", "id,start,patient_id\n", ""},
		{"another order", "patient_id,start,id\n", ""},
		{"names in any case, with spaces", " ID ,Start,\tPATIENT_ID\n", ""},
		{"byte order mark", "\uFEFFid,start,patient_id\n", ""},
		{"CRLF", "id,start,patient_id\r\n", ""},
		{"unknown columns are named", "id,start,patient_id,Diagnosis,ward\n" + row,
			`line 1: header: unknown columns "Diagnosis", "ward" (known are id, department,`},
		{"missing required columns are named", "id,department,end\n" + row,
			"line 1: header: missing required columns start, patient_id"},
		{"a column twice", "id,start,patient_id,ID\n", "line 1: header: columns named twice: id"},
		{"an empty column name", "id,start,patient_id,\n", `line 1: header: unknown columns ""`},
		{"empty file", "", "line 1: header: missing, the file is empty"},
		{"byte order mark only", "\uFEFF", "line 1: header: missing, the file is empty"},
		{"bad quoting", "id,sta\"rt,patient_id\n", `line 1, column 7: bare " in non-quoted-field`},
		{"longer than a line may be", "id,start,patient_id," + strings.Repeat("x", MaxLineLength) + "\n",
			"line 1: longer than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCSV(strings.NewReader(tt.file), "ukd", berlin(t))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %q, want none", err)
			case tt.wantErr == "":
			case err == nil:
				t.Fatalf("got no error, want %q", tt.wantErr)
			case !strings.HasPrefix(err.Error(), tt.wantErr):
				t.Errorf("got error %q, want it to start with %q", err, tt.wantErr)
			case !errors.Is(err, notifier.ErrInvalid):
				t.Errorf("got error %q, want it to wrap notifier.ErrInvalid", err)
			}
		})
	}
}

func TestNewCSVArguments(t *testing.T) {
	t.Run("facility must be an id", func(t *testing.T) {
		if _, err := NewCSV(strings.NewReader(header), "uk d", berlin(t)); err == nil {
			t.Error("got no error for facility \"uk d\"")
		}
	})
	t.Run("time zone is required", func(t *testing.T) {
		if _, err := NewCSV(strings.NewReader(header), "ukd", nil); err == nil {
			t.Error("got no error for a nil location")
		}
	})
}

func TestNextColumns(t *testing.T) {
	loc := berlin(t)
	full := header + "A-1, cardiology ,\"Building 13, level 2\",2020-10-22T09:30:00+02:00,2020-10-22T10:15:00+02:00," +
		"pending,Elective,P-7,Jürgen Müller,de,juergen.mueller@example.org,+49 211 555 0101\n"
	want := notifier.Appointment{
		ID: "A-1", Facility: "ukd", Department: "cardiology", Location: "Building 13, level 2",
		Start:  time.Date(2020, 10, 22, 9, 30, 0, 0, loc),
		End:    time.Date(2020, 10, 22, 10, 15, 0, 0, loc),
		Status: "pending", Kind: "elective",
		Patient: notifier.Patient{ID: "P-7", Name: "Jürgen Müller", Language: "de",
			Email: "juergen.mueller@example.org", Phone: "+49 211 555 0101"},
	}
	t.Run("every column in contract order", func(t *testing.T) {
		row := readOne(t, full)
		if row.Line != 2 {
			t.Errorf("got line %d, want 2", row.Line)
		}
		equalAppointment(t, mustAppointment(t, row), want)
	})
	t.Run("every column in another order", func(t *testing.T) {
		file := "phone,email,language,patient_name,patient_id,kind,status,end,start,location,department,id\n" +
			"+49 211 555 0101,juergen.mueller@example.org,de,Jürgen Müller,P-7,elective,pending," +
			"2020-10-22T10:15:00+02:00,2020-10-22T09:30:00+02:00,\"Building 13, level 2\",cardiology,A-1\n"
		equalAppointment(t, mustAppointment(t, readOne(t, file)), want)
	})
	t.Run("required columns only", func(t *testing.T) {
		got := mustAppointment(t, readOne(t, "start,patient_id,id\n2020-10-22 09:30,P-7,A-1\n"))
		equalAppointment(t, got, notifier.Appointment{ID: "A-1", Facility: "ukd",
			Start: want.Start, Status: "booked", Patient: notifier.Patient{ID: "P-7"}})
	})
}

// equalAppointment compares times as instants and as offsets, the rest as
// values.
func equalAppointment(t *testing.T, got, want notifier.Appointment) {
	t.Helper()
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"start", got.Start, want.Start}, {"end", got.End, want.End}} {
		if !tm.got.Equal(tm.want) || tm.got.Format(time.RFC3339) != tm.want.Format(time.RFC3339) {
			t.Errorf("%s: got %s, want %s", tm.name, tm.got.Format(time.RFC3339), tm.want.Format(time.RFC3339))
		}
	}
	got.Start, got.End, want.Start, want.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// goodRow is a valid row in the columns of header, for the given id.
func goodRow(id string) string {
	return id + ",oncology,\"Building 13, level 2\",2020-10-22T09:30:00+02:00,2020-10-22T10:00:00+02:00,booked,outpatient," +
		"P-1,Ayşe Yılmaz,tr,ayse.yilmaz@example.net,+49 211 555 0102\n"
}

func TestNextBrokenRow(t *testing.T) {
	tests := []struct {
		name    string
		row     string
		wantErr string
	}{
		{"missing id", ",oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,,\n", "line 3: id: required"},
		{"missing start", "A-2,oncology,B13,,,booked,outpatient,P-2,Jörg Groß,de,,\n", "line 3: start: required"},
		{"missing patient_id", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,,Jörg Groß,de,,\n", "line 3: patient_id: required"},
		{"blank required values", " , ,B13, ,,booked,outpatient, ,Jörg Groß,de,,\n",
			"line 3: id: required; patient_id: required; start: required"},
		{"bad time", "A-2,oncology,B13,22.10.2020 09:30,,booked,outpatient,P-2,Jörg Groß,de,,\n",
			"line 3: start: not a time (want RFC 3339 or YYYY-MM-DD HH:MM)"},
		{"id that cannot be a subject token", "A.2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,,\n",
			`line 3: id: "A.2" is not of the form [A-Za-z0-9_-]+`},
		{"too few fields", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de\n",
			"line 3: 10 fields, want 12 as in the header"},
		{"too many fields", "A-2,oncology,Building 13, level 2,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,,\n",
			"line 3: 13 fields, want 12 as in the header"},
		{"bare quote", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,Jörg \"Jockel\" Groß,de,,\n",
			`line 3, column 64: bare " in non-quoted-field`},
		{"text after a closing quote", "A-2,oncology,\"B13\"x,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,,\n",
			`line 3, column 18: extraneous or missing " in quoted-field`},
		{"control character in a name", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,\"Jörg\tGroß\",de,,\n",
			"line 3: patient_name: contains a control character (U+0009)"},
		{"line feed in a name", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,\"Jörg\nGroß\",de,,\n",
			"line 3: patient_name: contains a control character (U+000A)"},
		{"invalid email", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,joerg.gross(at)example.org,\n",
			"line 3: email: not a plain e-mail address"},
		{"email with a display name", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,Jörg <joerg@example.org>,\n",
			"line 3: email: not a plain e-mail address"},
		{"invalid phone", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,,call the ward\n",
			"line 3: phone: not a phone number"},
		{"invalid language", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,Deutsch,,\n",
			"line 3: language: not a language code such as de, en or tr"},
		{"status that is not FHIR", "A-2,oncology,B13,2020-10-22 09:30,,postponed,outpatient,P-2,Jörg Groß,de,,\n",
			`line 3: status: "postponed" is not a FHIR appointment status`},
		{"too long a name", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2," + strings.Repeat("ö", 201) + ",de,,\n",
			"line 3: patient_name: 201 characters, at most 200 allowed"},
		{"not UTF-8", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,J\xf6rg Gro\xdf,de,,\n",
			"line 3: patient_name: not valid UTF-8"},
		{"longer than a line may be", "A-2,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2," + strings.Repeat("x", MaxLineLength) + ",de,,\n",
			"line 3: longer than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := readAll(t, header+goodRow("A-1")+tt.row+goodRow("A-3"))
			if len(rows) != 3 {
				t.Fatalf("got %d rows, want 3", len(rows))
			}
			t.Run("is reported", func(t *testing.T) {
				got := rows[1]
				if got.Line != 3 {
					t.Errorf("got line %d, want 3", got.Line)
				}
				if got.Err == nil {
					t.Fatalf("got no error, want %q", tt.wantErr)
				}
				if got.Err.Error() != tt.wantErr {
					t.Errorf("got error %q, want %q", got.Err, tt.wantErr)
				}
				if !errors.Is(got.Err, notifier.ErrInvalid) {
					t.Error("error does not wrap notifier.ErrInvalid")
				}
				var lineErr *LineError
				if !errors.As(got.Err, &lineErr) {
					t.Errorf("got error of type %T, want *LineError", got.Err)
				}
				if got.Appointment.ID != "" {
					t.Errorf("got appointment %q with the error, want none", got.Appointment.ID)
				}
			})
			t.Run("does not stop the rows after it", func(t *testing.T) {
				wantLine := 3 + strings.Count(tt.row, "\n")
				if got := mustAppointment(t, rows[2]); got.ID != "A-3" || rows[2].Line != wantLine {
					t.Errorf("got %q at line %d, want A-3 at line %d", got.ID, rows[2].Line, wantLine)
				}
			})
		})
	}
}

func TestNextNormalizes(t *testing.T) {
	field := map[string]func(notifier.Appointment) string{
		"status":       func(a notifier.Appointment) string { return a.Status },
		"language":     func(a notifier.Appointment) string { return a.Patient.Language },
		"kind":         func(a notifier.Appointment) string { return a.Kind },
		"patient_name": func(a notifier.Appointment) string { return a.Patient.Name },
	}
	tests := []struct {
		name, column, value, want string
	}{
		{"empty status is booked", "status", "", "booked"},
		{"status in capitals", "status", "CANCELLED", "cancelled"},
		{"status with spaces", "status", " pending ", "pending"},
		{"language with a region", "language", "de-DE", "de"},
		{"language with an underscore", "language", "tr_TR", "tr"},
		{"language in capitals", "language", "EN", "en"},
		{"kind in capitals", "kind", "Inpatient", "inpatient"},
		{"name with spaces", "patient_name", "  Gülşen Kılıç  ", "Gülşen Kılıç"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := "id,start,patient_id," + tt.column + "\nA-1,2020-10-22 09:30,P-1," + tt.value + "\n"
			if got := field[tt.column](mustAppointment(t, readOne(t, file))); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNextLines(t *testing.T) {
	file := "\uFEFF" + header +
		goodRow("A-1") +
		"A-2,oncology,\"Building 13, level 2\n\",2020-10-22 09:30,,booked,outpatient,P-2,\"Groß, Jörg\",de,,\n" +
		"\n" +
		"A-3,oncology,\"Building 13,\r\n\r\nlevel 2\",2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,,\r\n" +
		"A-4,oncology,\"B13\",2020-10-22 09:30,,booked,outpatient,P-2,\"Jörg \"\"Jockel\"\" Groß\",de,,\"\n" +
		"\"\n" +
		"A-5,oncology,B13,bad time,,booked,outpatient,P-2,Jörg Groß,de,,\r\n" +
		"A-6,oncology,\"B13\n\",2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,,\"x\"y\n" +
		"A-7,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,,\n" +
		"A-8,oncology,B13,2020-10-22 09:30,,booked,outpatient,P-2,Jörg Groß,de,,"
	rows := readAll(t, file)
	want := []struct {
		line int
		id   string
		err  string
	}{
		{2, "A-1", ""},
		{3, "A-2", ""},
		{6, "", "line 6: location: contains a control character (U+000A)"},
		{9, "A-4", ""},
		{11, "", "line 11: start: not a time (want RFC 3339 or YYYY-MM-DD HH:MM)"},
		{12, "", `line 13, column 61: extraneous or missing " in quoted-field`},
		{14, "A-7", ""},
		{15, "A-8", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		got := rows[i]
		var gotErr string
		if got.Err != nil {
			gotErr = got.Err.Error()
		}
		if got.Line != w.line || got.Appointment.ID != w.id || gotErr != w.err {
			t.Errorf("row %d: got line %d, id %q, error %q; want line %d, id %q, error %q",
				i, got.Line, got.Appointment.ID, gotErr, w.line, w.id, w.err)
		}
	}
	t.Run("quoted fields keep commas and quotes", func(t *testing.T) {
		for _, tt := range []struct{ got, want string }{
			{rows[1].Appointment.Location, "Building 13, level 2"},
			{rows[1].Appointment.Patient.Name, "Groß, Jörg"},
			{rows[3].Appointment.Patient.Name, `Jörg "Jockel" Groß`},
		} {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		}
	})
}

func TestNextDuplicateID(t *testing.T) {
	file := "id,start,patient_id,status\n" +
		"A-1,2020-10-22 09:30,P-1,booked\n" +
		"A-1,2020-10-22 09:30,P-1,cancelled\n"
	rows := readAll(t, file)
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want both", len(rows))
	}
	for i, want := range []string{"booked", "cancelled"} {
		if got := mustAppointment(t, rows[i]).Status; got != want {
			t.Errorf("row %d: got status %q, want %q, in the order of the file", i, got, want)
		}
	}
}
