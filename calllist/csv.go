package calllist

import (
	"cmp"
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/postponement/notifier/notifier"
)

// csvTimeLayout is how the CSV writes times, in the outage's time zone.
const csvTimeLayout = "2006-01-02 15:04"

// csvHeader names the CSV's columns. The call_ columns to next_try say
// where staff's calls stand (call_status and last_outcome as on the CALLS
// stream). The last, done, is left empty for staff to tick in their
// spreadsheet.
var csvHeader = []string{
	"earliest_appointment", "patient_id", "name", "phone", "language",
	"appointments", "reasons", "urgent", "notice_id",
	"call_status", "claimed_by", "claimed_until", "attempts", "last_outcome", "outcome_by", "outcome_at", "next_try", "done",
}

// utf8BOM starts the CSV so that spreadsheet programs, Excel above all, read
// it as UTF-8 rather than a legacy code page that garbles names like Müller.
const utf8BOM = "\uFEFF"

// WriteCSV writes the call list as UTF-8 CSV with a header row: a byte-order
// mark, then one row per patient, soonest appointment first. Times are in
// o.TimeZone. Several appointments or reasons share a cell, joined by " | ".
//
// A spreadsheet would run a cell that starts with =, +, -, @, tab or CR as a
// formula, and names and reasons come from outside. Such a cell is written
// with a leading single quote, as OWASP recommends against CSV injection;
// spreadsheets show it as text and hide the quote. Every phone number is
// written with that quote: most start with +, and the rest would lose their
// leading zero to a spreadsheet reading them as numbers. A program reading
// the file strips one leading quote from the phone column.
func WriteCSV(w io.Writer, o Outage, rows []Row) error {
	if err := o.check(); err != nil {
		return err
	}
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range sorted(rows) {
		if err := cw.Write(csvRecord(o, r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvRecord is one row's cells, in the order of csvHeader.
func csvRecord(o Outage, r Row) []string {
	appointments := make([]string, len(r.Appointments))
	for i, a := range r.Appointments {
		appointments[i] = appointmentText(a, o.TimeZone, csvTimeLayout)
	}
	claimedBy, claimedUntil := r.claim()
	urgent := "no"
	if r.Urgent {
		urgent = "yes"
	}
	return []string{
		textCell(localTime(r.earliest(), o.TimeZone, csvTimeLayout)),
		textCell(r.PatientID),
		textCell(r.Name),
		phoneCell(r.Phone),
		textCell(r.Language),
		textCell(strings.Join(appointments, " | ")),
		textCell(strings.Join(reasonTexts(r.Reasons), " | ")),
		urgent,
		textCell(r.NoticeID),
		cmp.Or(r.Status, notifier.CallToCall),
		textCell(claimedBy),
		localTime(claimedUntil, o.TimeZone, csvTimeLayout),
		strconv.Itoa(r.Call.Attempts),
		r.Call.Outcome,
		textCell(r.Call.OutcomeBy),
		localTime(r.Call.OutcomeAt, o.TimeZone, csvTimeLayout),
		localTime(r.Call.NextTry, o.TimeZone, csvTimeLayout),
		"",
	}
}

// textCell is s as valid UTF-8, with a single quote before it if a
// spreadsheet would take it for a formula.
func textCell(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// phoneCell is the phone number as valid UTF-8, always with a single quote
// before it.
func phoneCell(s string) string {
	if s == "" {
		return ""
	}
	return "'" + strings.ToValidUTF8(s, "\uFFFD")
}
