// Package sample makes synthetic appointments for tests and benchmarks:
// seeded, so every run sees the same data.
package sample

import (
	"fmt"
	"strings"
	"time"
)

// OutageStart and OutageEnd bound the window of examples/outage.json (and
// of the tests' sample outage): 2020-10-21 to 2020-10-28, Europe/Berlin.
var (
	OutageStart = time.Date(2020, 10, 21, 0, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	OutageEnd   = time.Date(2020, 10, 28, 0, 0, 0, 0, time.FixedZone("CET", 3600))
)

// CSV returns n appointments of n patients in the CSV import format, all
// outpatient, booked, with an e-mail address, spread over the outage window
// in German, English and Turkish.
func CSV(n int) string {
	var b strings.Builder
	b.WriteString("id,department,start,status,kind,patient_id,patient_name,language,email\n")
	start := OutageStart.Add(8 * time.Hour)
	for i := range n {
		at := start.Add(time.Duration(i%96) * time.Hour).Add(time.Duration(i%4) * 15 * time.Minute)
		fmt.Fprintf(&b, "A-%d,dept-%d,%s,booked,outpatient,P-%d,Patient %d,%s,p%d@example.org\n",
			i, i%7, at.Format(time.RFC3339), i, i, []string{"de", "en", "tr"}[i%3], i)
	}
	return b.String()
}
