package app

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/postponement/notifier/notifier"
)

// ReportCSVHeader is the header of the report's CSV form. Every line is one
// record, named in the first column:
//   - total: the notices of an outage with one outcome (delivered, manual,
//     pending, held for approval), delivered ones once per channel, those
//     confirmed and failed after acceptance, and the call list's rows by
//     where staff stand (calllist-to-call, -later, -claimed, -reached,
//     -unreachable);
//   - soonest-unreached: the soonest appointment (earliest) of a patient
//     not yet reached, when there is one;
//   - manual: a notice staff must phone about, with its call status,
//     unanswered calls and the last call's outcome;
//   - reject: refused input.
//
// Columns a record has no value for are empty.
var ReportCSVHeader = []string{"record", "outage_id", "state", "outcome", "channel", "count",
	"notice_id", "patient_id", "earliest", "appointment_ids", "stream", "subject", "seq", "at", "reason",
	"call_status", "call_attempts", "last_outcome"}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	return writeJSON(w, r)
}

// WriteCSV writes the report as CSV, see ReportCSVHeader.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	col := make(map[string]int, len(ReportCSVHeader))
	for i, h := range ReportCSVHeader {
		col[h] = i
	}
	write := func(fields map[string]string) {
		rec := make([]string, len(ReportCSVHeader))
		for k, v := range fields {
			rec[col[k]] = v
		}
		_ = cw.Write(rec)
	}
	_ = cw.Write(ReportCSVHeader)
	for _, o := range r.Outages {
		state := o.State
		if o.Planning && state != statePlanning {
			state += " (planning)"
		}
		total := func(outcome, channel string, n int) {
			write(map[string]string{"record": "total", "outage_id": o.OutageID, "state": state,
				"outcome": outcome, "channel": channel, "count": strconv.Itoa(n)})
		}
		for _, c := range o.ByChannel {
			total("delivered", c.Channel, c.Delivered)
		}
		total("manual", "", o.Manual)
		total("pending", "", o.Pending)
		total("confirmed", "", o.Confirmed)
		total("failed-after-acceptance", "", o.FailedAfterAcceptance)
		if o.State == notifier.OutageHeld {
			total("held", "", o.Held)
		}
		c := o.Calls
		total("calllist-to-call", "", c.ToCall)
		total("calllist-later", "", c.Later)
		total("calllist-claimed", "", c.Claimed)
		total("calllist-reached", "", c.Reached)
		total("calllist-unreachable", "", c.Unreachable)
		if !o.SoonestUnreached.IsZero() {
			write(map[string]string{"record": "soonest-unreached", "outage_id": o.OutageID, "state": state,
				"earliest": rfc3339(o.SoonestUnreached)})
		}
		for _, m := range o.ManualNotices {
			write(map[string]string{"record": "manual", "outage_id": o.OutageID, "state": state, "outcome": "manual",
				"notice_id": m.NoticeID, "patient_id": m.PatientID, "earliest": rfc3339(m.Earliest),
				"appointment_ids": strings.Join(m.AppointmentIDs, " "), "reason": strings.Join(m.Reasons, "; "),
				"call_status": m.CallStatus, "call_attempts": strconv.Itoa(m.CallAttempts), "last_outcome": m.LastOutcome})
		}
	}
	for _, j := range r.Rejects {
		write(map[string]string{"record": "reject", "stream": j.Stream, "subject": j.Subject,
			"seq": strconv.FormatUint(j.Seq, 10), "at": rfc3339(j.At), "reason": j.Reason})
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the report for people, in aligned columns.
func (r *Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	if len(r.Outages) == 0 {
		ew.printf("no outages\n")
	}
	for i, o := range r.Outages {
		if i > 0 {
			ew.printf("\n")
		}
		switch {
		case o.DeclaredAt.IsZero():
			ew.printf("outage %s at facility %s: its first event is being planned\n", o.OutageID, o.Facility)
		case o.Planning:
			ew.printf("outage %s at facility %s, declared %s: %s, an event is being planned\n", o.OutageID, o.Facility, o.DeclaredAt.Format(localTime), o.State)
		default:
			ew.printf("outage %s at facility %s, declared %s: %s\n", o.OutageID, o.Facility, o.DeclaredAt.Format(localTime), o.State)
		}
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  notices\t%d\t(%d appointments)\n", o.Notices, o.Appointments)
		fmt.Fprintf(tw, "  delivered\t%d\n", o.Delivered)
		for _, c := range o.ByChannel {
			fmt.Fprintf(tw, "    via %s\t%d\n", c.Channel, c.Delivered)
		}
		fmt.Fprintf(tw, "  manual\t%d\t(staff must phone)\n", o.Manual)
		if c := o.Calls; o.Manual > 0 {
			fmt.Fprintf(tw, "    calls\t%d to call, %d later, %d being called, %d reached, %d unreachable\n",
				c.ToCall, c.Later, c.Claimed, c.Reached, c.Unreachable)
		}
		fmt.Fprintf(tw, "  pending\t%d\n", o.Pending)
		fmt.Fprintf(tw, "  confirmed\t%d\t(by the patient, through the notice's link)\n", o.Confirmed)
		fmt.Fprintf(tw, "  failed after acceptance\t%d\t(bounced or SMS not delivered; sent on)\n", o.FailedAfterAcceptance)
		if !o.SoonestUnreached.IsZero() {
			fmt.Fprintf(tw, "  soonest not yet reached\t%s\t(neither confirmed nor reached by phone)\n", o.SoonestUnreached.Format(localTime))
		}
		if o.State == notifier.OutageHeld {
			fmt.Fprintf(tw, "  held\t%d\t(for approval: notifier approve %s --facility %s --scope %s)\n", o.Held, o.OutageID, o.Facility, o.ApprovalScope)
		}
		tw.Flush()
		if len(o.ManualNotices) == 0 {
			continue
		}
		ew.printf("\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  patient\tearliest appointment\tappointments\tcall\treasons\n")
		for _, m := range o.ManualNotices {
			earliest := "unknown"
			if !m.Earliest.IsZero() {
				earliest = m.Earliest.Format(localTime)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", m.PatientID, earliest, strings.Join(m.AppointmentIDs, " "), m.CallStatus, strings.Join(m.Reasons, "; "))
		}
		tw.Flush()
		writeCalls(ew, o.ManualNotices)
	}
	ew.printf("\nrejected input: %d\n", len(r.Rejects))
	if len(r.Rejects) > 0 {
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  at\tstream\tsubject\tseq\treason\n")
		for _, j := range r.Rejects {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", j.At.UTC().Format(time.DateTime+"Z"), j.Stream, j.Subject, j.Seq, j.Reason)
		}
		tw.Flush()
	}
	switch {
	case r.Complete:
		ew.printf("\nevery notice has an outcome\n")
	case r.Pending > 0:
		ew.printf("\nnot finished: %s without an outcome yet\n", plural(r.Pending, "notice"))
	case r.Held > 0:
		ew.printf("\nnot finished: %s held for approval, nothing sent for them\n", plural(r.Held, "notice"))
	default:
		ew.printf("\nnot finished: an outage is still being planned\n")
	}
	return ew.err
}

// writeCalls writes what staff did to each call list row, who and when.
func writeCalls(ew *errWriter, notices []ManualEntry) {
	if !slices.ContainsFunc(notices, func(m ManualEntry) bool { return len(m.Calls) > 0 }) {
		return
	}
	ew.printf("\n  calls made\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, m := range notices {
		for _, c := range m.Calls {
			what := c.Action
			if c.Outcome != "" {
				what = c.Outcome
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\tby %s\n", m.PatientID, c.At.Format(localTime), what, c.By)
		}
	}
	tw.Flush()
}

// rfc3339 writes t, or nothing for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
