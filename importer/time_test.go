package importer

import (
	"strings"
	"testing"
	"time"
)

func TestNextStart(t *testing.T) {
	tests := []struct {
		name    string
		start   string
		want    string // RFC 3339 in Europe/Berlin
		wantErr string
	}{
		{"RFC 3339 with offset", "2020-09-14T09:30:00+02:00", "2020-09-14T09:30:00+02:00", ""},
		{"RFC 3339 in UTC is shown in the facility's zone", "2020-09-14T07:30:00Z", "2020-09-14T09:30:00+02:00", ""},
		{"RFC 3339 with another offset keeps the instant", "2020-12-01T09:30:00+03:00", "2020-12-01T07:30:00+01:00", ""},
		{"summer, T and seconds", "2020-09-14T09:30:00", "2020-09-14T09:30:00+02:00", ""},
		{"summer, T", "2020-09-14T09:30", "2020-09-14T09:30:00+02:00", ""},
		{"summer, space", "2020-09-14 09:30", "2020-09-14T09:30:00+02:00", ""},
		{"summer, space and seconds", "2020-09-14 09:30:00", "2020-09-14T09:30:00+02:00", ""},
		{"winter, T and seconds", "2020-12-01T09:30:00", "2020-12-01T09:30:00+01:00", ""},
		{"winter, space", "2020-12-01 09:30", "2020-12-01T09:30:00+01:00", ""},
		{"the day before the clocks go back", "2020-10-24 09:30", "2020-10-24T09:30:00+02:00", ""},
		{"the day after the clocks go back", "2020-10-26 09:30", "2020-10-26T09:30:00+01:00", ""},
		{"the night the clocks go back, before", "2020-10-25 01:59", "2020-10-25T01:59:00+02:00", ""},
		{"the night the clocks go back, after", "2020-10-25 03:00", "2020-10-25T03:00:00+01:00", ""},
		{"spaces around", " 2020-09-14 09:30 ", "2020-09-14T09:30:00+02:00", ""},
		{"a repeated hour is ambiguous", "2020-10-25 02:30",
			"", "start: 2020-10-25 02:30 occurs twice in Europe/Berlin (the clocks go back); give an offset, +02:00 or +01:00"},
		{"a repeated hour with an offset is fine", "2020-10-25T02:30:00+01:00", "2020-10-25T02:30:00+01:00", ""},
		{"a skipped hour does not exist", "2020-03-29 02:30",
			"", "start: 2020-03-29 02:30 does not exist in Europe/Berlin (the clocks skip it); give an offset"},
		{"German date", "14.09.2020 09:30", "", "start: not a time (want RFC 3339 or YYYY-MM-DD HH:MM)"},
		{"date only", "2020-09-14", "", "start: not a time"},
		{"no leading zero", "2020-9-14 9:30", "", "start: not a time"},
		{"hour 24", "2020-09-14 24:00", "", "start: not a time"},
		{"text", "tomorrow", "", "start: not a time"},
		{"empty", "", "", "start: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := readOne(t, "id,start,patient_id\nA-1,"+tt.start+",P-1\n")
			if tt.wantErr != "" {
				want := "line 2: " + tt.wantErr
				if row.Err == nil || !strings.HasPrefix(row.Err.Error(), want) {
					t.Fatalf("got error %v, want it to start with %q", row.Err, want)
				}
				return
			}
			got := mustAppointment(t, row).Start.Format(time.RFC3339)
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNextEnd(t *testing.T) {
	file := "id,start,end,patient_id\n" +
		"A-1,2020-10-22 09:30,2020-10-22 10:00,P-1\n" +
		"A-2,2020-10-22 09:30,,P-1\n" +
		"A-3,2020-10-22 09:30,10:00,P-1\n" +
		"A-4,2020-10-22 09:30,2020-10-22 09:00,P-1\n" +
		"A-5,half past nine,soon,P-1\n"
	rows := readAll(t, file)
	t.Run("read like start", func(t *testing.T) {
		if got, want := mustAppointment(t, rows[0]).End.Format(time.RFC3339), "2020-10-22T10:00:00+02:00"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("optional", func(t *testing.T) {
		if got := mustAppointment(t, rows[1]).End; !got.IsZero() {
			t.Errorf("got %s, want the zero time", got)
		}
	})
	for i, want := range []string{
		"line 4: end: not a time",
		"line 5: end: before start",
		"line 6: start: not a time (want RFC 3339 or YYYY-MM-DD HH:MM); end: not a time (want RFC 3339 or YYYY-MM-DD HH:MM)",
	} {
		t.Run(want, func(t *testing.T) {
			row := rows[2+i]
			if row.Err == nil || !strings.HasPrefix(row.Err.Error(), want) {
				t.Errorf("got error %v, want it to start with %q", row.Err, want)
			}
		})
	}
}
