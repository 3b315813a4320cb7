package importer

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/postponement/notifier/notifier"
)

func TestNextLongLine(t *testing.T) {
	long := strings.Repeat("x", MaxLineLength)
	tests := []struct {
		name     string
		row      string
		wantLine int
		wantErr  string
	}{
		{"exactly the limit is fine", "A-2,,," + long[:MaxLineLength-6] + "\n", 3, "line 3: location: 65530 characters, at most 200 allowed"},
		{"one byte over", "A-2,,," + long[:MaxLineLength-5] + "\n", 3, "line 3: longer than 65536 bytes"},
		{"far over", "A-2,,," + strings.Repeat(long, 20) + "\n", 3, "line 3: longer than 65536 bytes"},
		{"in a quoted field", "A-2,\"" + long + "\",,\n", 3, "line 3: longer than 65536 bytes"},
		{"in the second line of a quoted field", "A-2,\"B13\n" + long + "x\n\",,\n", 3, "line 4: longer than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := "id,start,patient_id,location\n" +
				"A-1,2020-10-22 09:30,P-1,B13\n" +
				tt.row +
				"A-3,2020-10-22 09:30,P-1,B13\n"
			rows := readAll(t, file)
			if len(rows) != 3 {
				t.Fatalf("got %d rows, want 3", len(rows))
			}
			got := rows[1]
			if got.Line != tt.wantLine || got.Err == nil || !strings.HasPrefix(got.Err.Error(), tt.wantErr) {
				t.Errorf("got line %d, error %v; want line %d, error %q", got.Line, got.Err, tt.wantLine, tt.wantErr)
			}
			if got := rows[2]; got.Err != nil || got.Appointment.ID != "A-3" {
				t.Errorf("row after: got %q, error %v; want A-3", got.Appointment.ID, got.Err)
			}
		})
	}
}

func TestNextLongLines(t *testing.T) {
	over := strings.Repeat("x", MaxLineLength+1)
	file := "id,start,patient_id\n" +
		over + "\n" +
		over + "\r\n" +
		"A-1,2020-10-22 09:30,P-1\n" +
		over
	var got []string
	for _, row := range readAll(t, file) {
		if row.Err != nil {
			got = append(got, row.Err.Error())
		} else {
			got = append(got, row.Appointment.ID)
		}
	}
	want := []string{"line 2: longer than 65536 bytes", "line 3: longer than 65536 bytes", "A-1", "line 5: longer than 65536 bytes"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNextUnclosedQuote(t *testing.T) {
	t.Run("in a small file, the rest of the file is one broken row", func(t *testing.T) {
		file := "id,start,patient_id,location\n" +
			"A-1,2020-10-22 09:30,P-1,\"B13\n" +
			"A-2,2020-10-22 09:30,P-1,B13\n"
		row := readOne(t, file)
		want := `line 3, column 30: extraneous or missing " in quoted-field`
		if row.Line != 2 || row.Err == nil || row.Err.Error() != want {
			t.Errorf("got line %d, error %v; want line 2, error %q", row.Line, row.Err, want)
		}
	})
	t.Run("past a mebibyte, reading stops", func(t *testing.T) {
		rest := strings.Repeat("A-2,2020-10-22 09:30,P-1,B13\n", maxRecordLength/20)
		file := "id,start,patient_id,location\n" +
			"A-1,2020-10-22 09:30,P-1,B13\n" +
			"A-2,2020-10-22 09:30,P-1,\"B13\n" + rest
		c, err := NewCSV(strings.NewReader(file), "ukd", berlin(t))
		if err != nil {
			t.Fatal(err)
		}
		if row, err := c.Next(); err != nil || row.Err != nil {
			t.Fatalf("first row: got %v, %v; want an appointment", row.Err, err)
		}
		want := "line 3: a row starting at or after this line runs past 1048576 bytes; is a quoted field not closed?"
		for i := range 2 {
			_, err := c.Next()
			if err == nil || err.Error() != want {
				t.Fatalf("call %d: got error %v, want %q", i+1, err, want)
			}
			if !errors.Is(err, notifier.ErrInvalid) {
				t.Errorf("call %d: error does not wrap notifier.ErrInvalid", i+1)
			}
		}
	})
}

func TestNextReader(t *testing.T) {
	file := "\uFEFFid,start,patient_id,location\r\n" +
		"A-1,2020-10-22 09:30,P-1,\"B13\r\n\"\r\n" +
		"A-2,2020-10-22 09:30,P-1," + strings.Repeat("x", MaxLineLength+1) + "\r\n" +
		"A-3,2020-10-22 09:30,P-1,B13\r\n"
	t.Run("one byte at a time", func(t *testing.T) {
		c, err := NewCSV(iotest.OneByteReader(strings.NewReader(file)), "ukd", berlin(t))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			row, err := c.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if row.Err != nil {
				got = append(got, row.Err.Error())
			} else {
				got = append(got, row.Appointment.ID)
			}
		}
		want := []string{"A-1", "line 4: longer than 65536 bytes", "A-3"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("an I/O error stops reading", func(t *testing.T) {
		boom := errors.New("disk on fire")
		r := io.MultiReader(strings.NewReader("id,start,patient_id\nA-1,2020-10-22 09:30,P-1\n"), iotest.ErrReader(boom))
		c, err := NewCSV(r, "ukd", berlin(t))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			row, err := c.Next()
			if errors.Is(err, boom) {
				if errors.Is(err, notifier.ErrInvalid) {
					t.Errorf("I/O error %q wraps notifier.ErrInvalid", err)
				}
				return
			}
			if err != nil || row.Err != nil {
				t.Fatalf("call %d: got %v, %v; want a row or %v", i+1, row.Err, err, boom)
			}
		}
		t.Errorf("got no error, want %v", boom)
	})
}
