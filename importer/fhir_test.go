package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/postponement/notifier/notifier"
)

// bundleOf is a collection Bundle of the items: a resource becomes an entry
// without a fullUrl, anything else is an entry as it is.
func bundleOf(items ...string) string {
	entries := make([]string, len(items))
	for i, item := range items {
		var res struct {
			ResourceType string `json:"resourceType"`
		}
		if json.Unmarshal([]byte(item), &res) == nil && res.ResourceType != "" {
			item = `{"resource": ` + item + `}`
		}
		entries[i] = item
	}
	return `{"resourceType": "Bundle", "type": "collection", "entry": [` + strings.Join(entries, ",\n") + `]}`
}

// entryAt is an entry of resource with the fullUrl url.
func entryAt(url, resource string) string {
	return `{"fullUrl": "` + url + `", "resource": ` + resource + `}`
}

// readBundle reads every row of a bundle for facility ukd in Europe/Berlin.
func readBundle(t *testing.T, bundle string) ([]Row, *FHIRReader) {
	t.Helper()
	r, err := NewFHIR(strings.NewReader(bundle), "ukd", berlin(t))
	if err != nil {
		t.Fatalf("NewFHIR: %v", err)
	}
	var rows []Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, r
		}
		if err != nil {
			t.Fatalf("Next after %d rows: %v", len(rows), err)
		}
		rows = append(rows, row)
	}
}

func TestFHIRRows(t *testing.T) {
	bundle := bundleOf(
		with(t, appointmentA1, `{"id": "a1"}`),
		patientP1,
		with(t, appointmentA1, `{"id": "a2"}`),
		with(t, appointmentA1, `{"id": "a1", "status": "cancelled"}`),
	)
	rows, r := readBundle(t, bundle)
	t.Run("are the appointments in the order of the bundle, numbered by entry", func(t *testing.T) {
		var got []string
		for _, row := range rows {
			a := mustAppointment(t, row)
			got = append(got, fmt.Sprintf("%s/%s@%d", a.ID, a.Status, row.Line))
		}
		if want := []string{"a1/booked@1", "a2/booked@3", "a1/cancelled@4"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("end with io.EOF, again and again", func(t *testing.T) {
		for range 2 {
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("got %v, want io.EOF", err)
			}
		}
	})
	t.Run("of an empty bundle are none", func(t *testing.T) {
		rows, r := readBundle(t, `{"resourceType": "Bundle", "type": "searchset", "total": 0}`)
		if len(rows) != 0 || len(r.Skipped()) != 0 {
			t.Errorf("got %d rows, skipped %q; want none", len(rows), r.Skipped())
		}
	})
	t.Run("skip a byte order mark", func(t *testing.T) {
		rows, _ := readBundle(t, "\uFEFF"+bundle)
		if len(rows) != 3 {
			t.Errorf("got %d rows, want 3", len(rows))
		}
	})
}

func TestFHIRSkipped(t *testing.T) {
	bundle := `{"resourceType": "Bundle", "type": "searchset",
		"link": [{"relation": "self", "url": "https://fhir.example.org/fhir/Appointment?date=ge2020-10-19"},
			{"relation": "next", "url": "https://fhir.example.org/fhir/Appointment?date=ge2020-10-19&page=2"}],
		"entry": [` + strings.Join([]string{
		`{"resource": ` + appointmentA1 + `}`,
		`{"resource": ` + patientP1 + `}`,
		`{"resource": {"resourceType": "Observation", "id": "o1", "status": "final"}}`,
		`{"resource": ` + with(t, patientP1, `{"id": "p2"}`) + `}`,
		`{"resource": {"resourceType": "Practitioner", "id": "pr1"}}`,
		`{"resource": {"resourceType": "Location", "id": "l1", "name": "Herzzentrum"}}`,
		`{"fullUrl": "urn:uuid:7f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "request": {"method": "DELETE", "url": "Patient/p3"}}`,
		`{"resource": "Patient/p4"}`,
		`"Patient/p5"`,
		`{"resource": ` + with(t, patientP1, `{"name": [{"text": "Jürgen Weiss"}]}`) + `}`,
	}, ",\n") + `]}`
	rows, r := readBundle(t, bundle)
	t.Run("lists what is left out, in the order of the bundle", func(t *testing.T) {
		want := []string{
			"bundle: a page of search results with a next link; the appointments on later pages are not in this file",
			"entry 2 (Patient/p1): entry 10 has the same id and is read instead",
			"entry 3 (Observation/o1): Observation is not read",
			"entry 4 (Patient/p2): no appointment refers to it",
			"entry 7: no resource",
			"entry 8: not a FHIR resource",
			"entry 9: not a bundle entry: wrong type string, want object",
		}
		if got := r.Skipped(); !slices.Equal(got, want) {
			t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
		}
	})
	t.Run("does not stop the appointments", func(t *testing.T) {
		if len(rows) != 1 {
			t.Fatalf("got %d rows, want 1", len(rows))
		}
		if got := mustAppointment(t, rows[0]).Patient.Name; got != "Jürgen Weiss" {
			t.Errorf("got patient %q, want the later entry's, Jürgen Weiss", got)
		}
	})
}

func TestNewFHIRRejects(t *testing.T) {
	tests := []struct {
		name, file, wantErr string
	}{
		{"an empty file", "", "bundle: the file is empty"},
		{"a byte order mark and spaces", "\uFEFF \n", "bundle: the file is empty"},
		{"a CSV file", header, "bundle: not a FHIR Bundle in JSON: syntax error at byte 1"},
		{"a Patient", patientP1, `bundle: resourceType is "Patient", want "Bundle"`},
		{"an object without a resourceType", `{"entry": []}`, `bundle: resourceType is "", want "Bundle"`},
		{"an array", `[` + appointmentA1 + `]`, "bundle: not a FHIR Bundle in JSON: wrong type array, want object"},
		{"entries that are not an array", `{"resourceType": "Bundle", "entry": {}}`,
			"bundle: not a FHIR Bundle in JSON: entry: wrong type object, want array"},
		{"data after the bundle", `{"resourceType": "Bundle"} {"resourceType": "Bundle"}`,
			"bundle: not a FHIR Bundle in JSON: syntax error at byte 28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewFHIR(strings.NewReader(tt.file), "ukd", berlin(t))
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("got error %v, want %q", err, tt.wantErr)
			}
			var ee *EntryError
			if !errors.As(err, &ee) || ee.Entry != 0 || !errors.Is(err, notifier.ErrInvalid) {
				t.Errorf("got %#v, want an *EntryError for the bundle that wraps notifier.ErrInvalid", err)
			}
		})
	}
	t.Run("facility must be an id", func(t *testing.T) {
		if _, err := NewFHIR(strings.NewReader(bundleOf()), "uk.d", berlin(t)); err == nil {
			t.Error(`got no error for facility "uk.d"`)
		}
	})
	t.Run("time zone is required", func(t *testing.T) {
		if _, err := NewFHIR(strings.NewReader(bundleOf()), "ukd", nil); err == nil {
			t.Error("got no error for a nil location")
		}
	})
	t.Run("reading errors are not invalid input", func(t *testing.T) {
		broken := io.MultiReader(strings.NewReader(`{"resourceType": "Bundle"`), errReader{io.ErrUnexpectedEOF})
		_, err := NewFHIR(broken, "ukd", berlin(t))
		if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, notifier.ErrInvalid) {
			t.Errorf("got %v, want the reader's error, not invalid input", err)
		}
	})
}

func TestNewFHIRSize(t *testing.T) {
	const start, end = `{"resourceType": "Bundle", "entry": []`, `}`
	t.Run("a bundle of MaxBundleSize is read", func(t *testing.T) {
		padding := &spaces{n: MaxBundleSize - len(start) - len(end)}
		if _, err := NewFHIR(io.MultiReader(strings.NewReader(start), padding, strings.NewReader(end)), "ukd", berlin(t)); err != nil {
			t.Errorf("got %v, want no error", err)
		}
	})
	t.Run("a larger one is refused without reading it all", func(t *testing.T) {
		padding := &spaces{n: -1}
		_, err := NewFHIR(io.MultiReader(strings.NewReader(start), padding), "ukd", berlin(t))
		if want := "bundle: larger than 64 MiB; export it as several bundles"; err == nil || err.Error() != want {
			t.Errorf("got error %v, want %q", err, want)
		}
		if !errors.Is(err, notifier.ErrInvalid) {
			t.Error("does not wrap notifier.ErrInvalid")
		}
		if read := len(start) + padding.read; read > MaxBundleSize+1 {
			t.Errorf("read %d bytes, want at most %d", read, MaxBundleSize+1)
		}
	})
}

// spaces reads n spaces, or without end when n is negative, and counts them.
type spaces struct{ n, read int }

func (s *spaces) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	if s.n > 0 && len(p) > s.n {
		p = p[:s.n]
	}
	for i := range p {
		p[i] = ' '
	}
	if s.n > 0 {
		s.n -= len(p)
	}
	s.read += len(p)
	return len(p), nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestIsFHIR(t *testing.T) {
	tests := []struct {
		name string
		head string
		want bool
	}{
		{"a bundle", `{"resourceType":"Bundle","type":"collection","entry":[]}`, true},
		{"a bundle, pretty-printed with a byte order mark", "\uFEFF\n{\n  \"resourceType\" : \"Bundle\",\n", true},
		{"a bundle with resourceType after other members", `{"id": "b1", "meta": {"lastUpdated": "2020-10-19T05:00:00+02:00"}, "resourceType": "Bundle"`, true},
		{"the start of a bundle cut off anywhere after resourceType", `{"resourceType": "Bundle", "entry": [{"resou`, true},
		{"a Patient", patientP1, false},
		{"a Patient whose contained resource is a Bundle", `{"resourceType": "Patient", "contained": [{"resourceType": "Bundle"}]}`, false},
		{"a Bundle only inside another member", `{"meta": {"resourceType": "Bundle"}, "resourceType": "Parameters"}`, false},
		{"cut off before resourceType", `{"id": "b1", "meta": {"lastUpdated": "2020-10-19T05:00:`, false},
		{"an outage event", `{"specversion": "1.0", "id": "evt-1", "type": "outage.declared", "data": {"resourceType": "Bundle"}}`, false},
		{"a CSV file", header, false},
		{"an array of bundles", `[{"resourceType": "Bundle"}]`, false},
		{"resourceType in another case", `{"ResourceType": "Bundle"}`, false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsFHIR([]byte(tt.head)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	for _, file := range []struct {
		path string
		want bool
	}{{"testdata/bundle.json", true}, {"../examples/appointments.csv", false}, {"../examples/outage.json", false}} {
		t.Run("the first SniffLen bytes of "+file.path, func(t *testing.T) {
			data, err := os.ReadFile(file.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := IsFHIR(data[:min(len(data), SniffLen)]); got != file.want {
				t.Errorf("got %v, want %v", got, file.want)
			}
		})
	}
}

func TestEntryError(t *testing.T) {
	tests := []struct {
		name string
		err  *EntryError
		want string
	}{
		{"an entry with its resource", &EntryError{Entry: 7, Resource: "Appointment/abc", Err: errors.New("start: required")},
			"entry 7 (Appointment/abc): start: required"},
		{"an entry without", &EntryError{Entry: 7, Err: errors.New("no resource")}, "entry 7: no resource"},
		{"the bundle", &EntryError{Err: errors.New("not JSON")}, "bundle: not JSON"},
		{"fields named as in FHIR, on one line", &EntryError{Entry: 3, Resource: "Appointment/a1",
			Err: errors.Join(errors.New("patient.email: not a plain e-mail address"), errors.New("patient.language: not a language code"),
				errors.New("department: 201 characters, at most 200 allowed"))},
			"entry 3 (Appointment/a1): Patient.telecom email: not a plain e-mail address; Patient.communication: not a language code; " +
				"department (specialty or serviceType): 201 characters, at most 200 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, notifier.ErrInvalid) {
				t.Error("does not wrap notifier.ErrInvalid")
			}
		})
	}
}
