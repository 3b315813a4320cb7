package calllist

import (
	"bytes"
	"encoding/csv"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postponement/notifier/notifier"
)

func TestWriteCSVGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, sampleOutage(t), sampleRows(t)); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("testdata", "calllist.csv.golden"), b.String())
}

func TestWriteCSV(t *testing.T) {
	t.Run("starts with a UTF-8 byte-order mark for spreadsheets", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteCSV(&b, sampleOutage(t), nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b.Bytes(), []byte{0xEF, 0xBB, 0xBF}) {
			t.Errorf("got % x…, want the byte-order mark EF BB BF first", b.Bytes()[:3])
		}
	})
	t.Run("an empty list is the header alone", func(t *testing.T) {
		records := readCSV(t, sampleOutage(t), nil)
		want := []string{"earliest_appointment", "patient_id", "name", "phone", "language", "appointments", "reasons", "urgent", "notice_id",
			"call_status", "claimed_by", "claimed_until", "attempts", "last_outcome", "outcome_by", "outcome_at", "next_try", "done"}
		if len(records) != 1 || !slices.Equal(records[0], want) {
			t.Errorf("got %q, want only the header %q", records, want)
		}
	})
	t.Run("rows are sorted and times are in the outage's zone", func(t *testing.T) {
		records := readCSV(t, sampleOutage(t), sampleRows(t))
		var got [][]string
		for _, r := range records[1:] {
			got = append(got, []string{r[0], r[1]})
		}
		want := [][]string{{"2024-03-04 08:15", "p-0999"}, {"2024-03-04 08:15", "p-1001"}, {"2024-03-04 14:00", "p-1002"}}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("several appointments and reasons share a cell", func(t *testing.T) {
		r := readCSV(t, sampleOutage(t), sampleRows(t))[3]
		if got, want := r[5], "2024-03-04 14:00 Radiologie | 2024-03-05 09:30 Kardiologie @ Gebäude 13.1, Ebene 2"; got != want {
			t.Errorf("appointments: got %q, want %q", got, want)
		}
		if got, want := r[6], "email: skipped patient has no e-mail address | sms: transient 503 gateway unavailable (3 attempts)"; got != want {
			t.Errorf("reasons: got %q, want %q", got, want)
		}
	})
	t.Run("requires a time zone", func(t *testing.T) {
		o := sampleOutage(t)
		o.TimeZone = nil
		var b bytes.Buffer
		if err := WriteCSV(&b, o, sampleRows(t)); !errors.Is(err, errNoTimeZone) {
			t.Errorf("got %v, want %v", err, errNoTimeZone)
		}
		if b.Len() != 0 {
			t.Errorf("wrote %d bytes, want nothing", b.Len())
		}
	})
}

func TestWriteCSVFormulaInjection(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"equals sign", "=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"},
		{"plus sign", "+1+1", "'+1+1"},
		{"minus sign", "-2+3", "'-2+3"},
		{"at sign", "@SUM(A1)", "'@SUM(A1)"},
		{"tab", "\t=1", "'\t=1"},
		{"carriage return", "\r=1", "'\r=1"},
		{"harmless text is unchanged", "Mustermann = Muster", "Mustermann = Muster"},
		{"a quote inside is unchanged", "O'Brien", "O'Brien"},
	}
	for _, c := range cases {
		t.Run(c.name+" in a name", func(t *testing.T) {
			rows := sampleRows(t)[:1]
			rows[0].Name = c.in
			if got := readCSV(t, sampleOutage(t), rows)[1][2]; got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
		t.Run(c.name+" in a reason", func(t *testing.T) {
			rows := sampleRows(t)[:1]
			rows[0].Reasons = []notifier.Attempt{{Channel: c.in, Result: notifier.ResultFailed}}
			got := readCSV(t, sampleOutage(t), rows)[1][6]
			if want := c.want + ": failed"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	t.Run("every phone number starts with a quote", func(t *testing.T) {
		for _, phone := range []string{"+49 30 1234567", "030 1234567", "=1+1"} {
			rows := sampleRows(t)[:1]
			rows[0].Phone = phone
			if got, want := readCSV(t, sampleOutage(t), rows)[1][3], "'"+phone; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}
	})
	t.Run("no phone number stays empty", func(t *testing.T) {
		rows := sampleRows(t)[:1]
		rows[0].Phone = ""
		if got := readCSV(t, sampleOutage(t), rows)[1][3]; got != "" {
			t.Errorf("got %q, want empty", got)
		}
	})
}

// readCSV writes rows with WriteCSV and reads them back, byte-order mark
// stripped.
func readCSV(t *testing.T, o Outage, rows []Row) [][]string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteCSV(&b, o, rows); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), utf8BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records
}
