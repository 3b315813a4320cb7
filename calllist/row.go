package calllist

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// Row is one patient staff must phone.
type Row struct {
	NoticeID  string
	PatientID string
	Name      string
	Phone     string
	// Language is the patient's language code, so staff can pick a speaker.
	Language string
	// Appointments are all of the patient's affected appointments. They are
	// listed soonest first whatever their order here.
	Appointments []Appointment
	// Reasons say why each channel failed, as the delivery trail recorded
	// them. Repeated identical attempts of a channel are shown once.
	Reasons []notifier.Attempt
	// Urgent marks a patient whose earliest appointment is soon; the caller
	// decides what soon means.
	Urgent bool
	// AddedAt is when the patient joined the list. The HTML shows it, so
	// staff can tell rows that are new since the last printout.
	AddedAt time.Time
	// Call is where staff's calls to the patient stand, and Status its
	// status when the list was read (notifier.CallState.Status; "" is
	// to call). CallSeq names the row's latest call event, for the
	// page's forms to say which state they were made on.
	Call    notifier.CallState
	Status  string
	CallSeq uint64
}

// rank orders rows by what is left to do: rows to call or being called,
// then rows waiting for their next try, then rows whose work ended.
func (r Row) rank() int {
	switch r.Status {
	case notifier.CallLater:
		return 1
	case notifier.CallReached, notifier.CallUnreachable:
		return 2
	}
	return 0
}

// claim is who holds the row and until when, while somebody does.
func (r Row) claim() (by string, until time.Time) {
	if r.Status != notifier.CallClaimed {
		return "", time.Time{}
	}
	return r.Call.ClaimedBy, r.Call.ClaimedUntil
}

// finished reports whether the row's work ended.
func (r Row) finished() bool { return r.rank() == 2 }

// Appointment is one appointment of a row's patient.
type Appointment struct {
	ID, Department, Location string
	Start                    time.Time
}

// Outage is the outage a call list belongs to.
type Outage struct {
	ID string
	// Facility is the facility's id; FacilityName its display name, used in
	// the title when set.
	Facility, FacilityName string
	// Hotline is the number patients are told to call; staff may pass it on.
	Hotline string
	// From and Until bound the outage; either may be zero when unknown.
	From, Until time.Time
	// TimeZone is the facility's zone, in which every time is written. It
	// is required: a time in the wrong zone would send a patient to the
	// wrong hour.
	TimeZone *time.Location
}

// errNoTimeZone rejects an Outage without a TimeZone.
var errNoTimeZone = errors.New("outage has no time zone")

// check rejects an outage the list cannot be written for.
func (o Outage) check() error {
	if o.TimeZone == nil {
		return fmt.Errorf("call list for outage %q: %w", o.ID, errNoTimeZone)
	}
	return nil
}

// title is the facility's display name, else its id.
func (o Outage) title() string {
	return cmp.Or(o.FacilityName, o.Facility)
}

// sorted returns a copy of rows ordered by what is left to do (rank), then
// earliest appointment, then patient id, then notice id, each with its
// appointments soonest first. Rows without any appointment go last of
// their rank. The caller's slices are left as they were.
func sorted(rows []Row) []Row {
	out := slices.Clone(rows)
	for i := range out {
		out[i].Appointments = slices.Clone(out[i].Appointments)
		slices.SortStableFunc(out[i].Appointments, func(a, b Appointment) int {
			return a.Start.Compare(b.Start)
		})
	}
	slices.SortStableFunc(out, func(a, b Row) int {
		if c := cmp.Compare(a.rank(), b.rank()); c != 0 {
			return c
		}
		ea, eb := a.earliest(), b.earliest()
		if ea.IsZero() != eb.IsZero() {
			if ea.IsZero() {
				return 1
			}
			return -1
		}
		return cmp.Or(ea.Compare(eb), cmp.Compare(a.PatientID, b.PatientID), cmp.Compare(a.NoticeID, b.NoticeID))
	})
	return out
}

// earliest is the start of the row's soonest appointment, or zero if it has
// none.
func (r Row) earliest() time.Time {
	var t time.Time
	for _, a := range r.Appointments {
		if t.IsZero() || a.Start.Before(t) {
			t = a.Start
		}
	}
	return t
}

// localTime writes t in loc with layout, or "" for the zero time.
func localTime(t time.Time, loc *time.Location, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(layout)
}

// appointmentText is "date time department @ location", leaving out the
// parts that are empty.
func appointmentText(a Appointment, loc *time.Location, layout string) string {
	s := localTime(a.Start, loc, layout)
	if a.Department != "" {
		s += " " + a.Department
	}
	if a.Location != "" {
		s += " @ " + a.Location
	}
	return strings.TrimSpace(s)
}

// reasonTexts writes each attempt as "channel: class code enhanced reason".
// A skipped channel has no class, so its result stands in. Consecutive
// attempts that read the same, as retries of one channel do, become one
// line with their count.
func reasonTexts(attempts []notifier.Attempt) []string {
	var out []string
	for i := 0; i < len(attempts); {
		s := reasonText(attempts[i])
		n := 1
		for i+n < len(attempts) && reasonText(attempts[i+n]) == s {
			n++
		}
		if n > 1 {
			s += fmt.Sprintf(" (%d attempts)", n)
		}
		out = append(out, s)
		i += n
	}
	return out
}

// reasonText writes one attempt, leaving out the parts that are empty.
func reasonText(a notifier.Attempt) string {
	parts := []string{cmp.Or(a.Class, a.Result)}
	if a.Code != 0 {
		parts = append(parts, strconv.Itoa(a.Code))
	}
	parts = append(parts, a.Enhanced, a.Reason)
	parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
	return a.Channel + ": " + strings.Join(parts, " ")
}

// statusText says where a row's calls stand, in words for staff: who is
// calling, when to try again, how the work ended and who said so. Times
// are written in loc with layout.
func statusText(r Row, loc *time.Location, layout string) string {
	c := r.Call
	by := func() string {
		if c.OutcomeBy == "" {
			return ""
		}
		return " (" + c.OutcomeBy + ", " + localTime(c.OutcomeAt, loc, layout) + ")"
	}
	attempts := ""
	if c.Attempts > 0 {
		attempts = fmt.Sprintf(", %d unsuccessful %s", c.Attempts, plural(c.Attempts, "call", "calls"))
	}
	switch r.Status {
	case notifier.CallClaimed:
		return "Being called by " + c.ClaimedBy + " until " + localTime(c.ClaimedUntil, loc, layout) + attempts
	case notifier.CallLater:
		return outcomeText(c.Outcome) + by() + "; try again from " + localTime(c.NextTry, loc, layout) + attempts
	case notifier.CallReached:
		return "Reached" + by()
	case notifier.CallUnreachable:
		if c.Outcome == notifier.CallUnreachable || c.Outcome == "" {
			return "Unreachable" + by()
		}
		if c.Outcome == notifier.CallNoAnswer || c.Outcome == notifier.CallVoicemail {
			return fmt.Sprintf("Unreachable after %d unsuccessful %s; last: %s", c.Attempts, plural(c.Attempts, "call", "calls"),
				strings.ToLower(outcomeText(c.Outcome))) + by()
		}
		return "Unreachable: " + strings.ToLower(outcomeText(c.Outcome)) + by()
	}
	if c.Outcome != "" {
		return "To call; last: " + strings.ToLower(outcomeText(c.Outcome)) + by() + attempts
	}
	return "To call"
}

// outcomeText is an outcome as staff say it.
func outcomeText(outcome string) string {
	switch outcome {
	case notifier.CallReached:
		return "Reached"
	case notifier.CallNoAnswer:
		return "No answer"
	case notifier.CallVoicemail:
		return "Voicemail left"
	case notifier.CallWrongNumber:
		return "Wrong number"
	case notifier.CallUnreachable:
		return "Unreachable"
	}
	return outcome
}

// plural is one or many as n asks.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
