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
}

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

// sorted returns a copy of rows ordered by earliest appointment, then patient
// id, then notice id, each with its appointments soonest first. Rows without
// any appointment go last. The caller's slices are left as they were.
func sorted(rows []Row) []Row {
	out := slices.Clone(rows)
	for i := range out {
		out[i].Appointments = slices.Clone(out[i].Appointments)
		slices.SortStableFunc(out[i].Appointments, func(a, b Appointment) int {
			return a.Start.Compare(b.Start)
		})
	}
	slices.SortStableFunc(out, func(a, b Row) int {
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
