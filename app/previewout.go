package app

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// localTime is how the text reports write a time, already in the
// facility's zone.
const localTime = "Mon 2006-01-02 15:04"

// WriteJSON writes the preview as indented JSON.
func (p *Preview) WriteJSON(w io.Writer) error {
	return writeJSON(w, p)
}

// WriteTable writes the preview for people: counts in aligned columns,
// then each sample notice as the patient would read it.
func (p *Preview) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("preview of outage %s (%s) at facility %s, times in %s\n", p.OutageID, p.Action, p.Facility, p.TimeZone)
	ew.printf("window %s – %s; nothing was sent\n\n", p.From.Format(localTime), p.Until.Format(localTime))

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "appointments affected\t%d\n", p.Appointments)
	fmt.Fprintf(tw, "patients affected\t%d\n", p.Patients)
	fmt.Fprintf(tw, "urgent patients\t%d\t(earliest appointment within %s of %s)\n", p.Urgent, p.UrgentWithin, p.AsOf.Format(localTime))
	fmt.Fprintf(tw, "no e-mail and no phone\t%d\n", p.NoContact)
	tw.Flush()

	if p.Appointments > 0 {
		rows := make([][]any, len(p.Departments))
		for i, d := range p.Departments {
			rows[i] = []any{orNone(d.Department), d.Appointments, d.Patients}
		}
		table(ew, "department\tappointments\tpatients", rows)
		rows = make([][]any, len(p.Days))
		for i, d := range p.Days {
			rows[i] = []any{weekdayDate(d.Day), d.Appointments, d.Patients}
		}
		table(ew, "day\tappointments\tpatients", rows)
	}
	rows := make([][]any, 0, len(p.FirstChannels)+1)
	for _, c := range p.FirstChannels {
		rows = append(rows, []any{c.Channel, c.Type, c.Patients})
	}
	rows = append(rows, []any{"call list only", "", p.CallListOnly})
	table(ew, "first channel\ttype\tpatients", rows)

	for _, s := range p.Samples {
		ew.printf("\n%s\n", strings.Repeat("─", 72))
		ew.printf("sample notice in %q: patient %s, %s, the first on %s\n\n",
			s.Language, s.PatientID, plural(s.Appointments, "appointment"), s.Earliest.Format(localTime))
		ew.printf("Subject: %s\n\n%s", s.Subject, s.Text)
	}
	return ew.err
}

// weekdayDate adds the weekday to a YYYY-MM-DD date.
func weekdayDate(day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return t.Format("Mon 2006-01-02")
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// orNone shows an empty value as such.
func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// writeJSON writes v as indented JSON, leaving <, > and & as they are.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// errWriter keeps the first write error, so that a report of many writes
// checks once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}

// table writes a blank line and an aligned table with its header.
func table(w io.Writer, header string, rows [][]any) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = fmt.Sprint(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}
