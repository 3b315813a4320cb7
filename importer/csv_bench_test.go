package importer

import (
	"bytes"
	"encoding/csv"
	"io"
	"testing"
	"time"

	"github.com/postponement/notifier/bench/synth"
)

// benchCSV is a file of n synthetic appointments, as `notifier bench
// --write-data` writes them, with times written in layout in loc.
func benchCSV(tb testing.TB, n int, loc *time.Location, layout string) []byte {
	tb.Helper()
	set, err := synth.New(synth.Options{Appointments: n, Affected: n / 5, PatientsWithTwo: 0.1, Seed: 1,
		From: time.Date(2030, 3, 4, 0, 0, 0, 0, loc)})
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(knownColumns)
	records := set.Records()
	for a, ok := records.Next(); ok; a, ok = records.Next() {
		p := a.Patient
		_ = w.Write([]string{a.ID, a.Department, a.Location, a.Start.In(loc).Format(layout), a.End.In(loc).Format(layout),
			a.Status, a.Kind, p.ID, p.Name, p.Language, p.Email, p.Phone})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkCSVReader is the import's work per row before publishing: one op
// is one row read, checked and normalized.
func BenchmarkCSVReader(b *testing.B) {
	loc := berlin(b)
	for _, bc := range []struct{ name, layout string }{
		{"offset", time.RFC3339},
		{"wall-clock", "2006-01-02 15:04"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data := benchCSV(b, 10_000, loc, bc.layout)
			var c *CSVReader
			open := func() {
				var err error
				if c, err = NewCSV(bytes.NewReader(data), "ukd", loc); err != nil {
					b.Fatal(err)
				}
			}
			open()
			b.SetBytes(int64(len(data) / 10_000))
			b.ReportAllocs()
			for b.Loop() {
				row, err := c.Next()
				if err == io.EOF {
					open()
					row, err = c.Next()
				}
				if err != nil || row.Err != nil {
					b.Fatal(err, row.Err)
				}
			}
		})
	}
}
