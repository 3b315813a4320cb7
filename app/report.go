package app

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// Report is where outages stand as this worker's store has them: outcomes
// per channel, the patients staff must phone, and the input that was
// refused. It names patients by id only.
type Report struct {
	Outages []OutageReport `json:"outages"`
	// Rejects is every refused event and appointment record, oldest
	// first; they belong to no outage.
	Rejects []RejectEntry `json:"rejects"`
	// Pending counts the notices of the reported outages without an
	// outcome yet.
	Pending int `json:"pending"`
	// Held counts the notices of outages held for approval: nothing is
	// sent until an approver releases them (they are not in Pending).
	Held int `json:"held"`
	// Complete is true when every notice has an outcome and no outage is
	// still being planned.
	Complete bool `json:"complete"`
}

// OutageReport is one outage's totals and manual notices.
type OutageReport struct {
	OutageID string `json:"outage_id"`
	Facility string `json:"facility"`
	// State is declared, updated or resolved, or planning while the
	// outage's first event is being planned.
	State string `json:"state"`
	// DeclaredAt is when the outage's first event was handled; zero
	// while it is being planned.
	DeclaredAt time.Time `json:"declared_at,omitzero"`
	// Planning is true while an event of the outage is still being
	// planned: more notices may come.
	Planning     bool `json:"planning"`
	Notices      int  `json:"notices"`
	Appointments int  `json:"appointments"`
	Delivered    int  `json:"delivered"`
	Manual       int  `json:"manual"`
	Pending      int  `json:"pending"`
	// Held counts the notices waiting for approval (state held); they
	// are not counted as pending.
	Held int `json:"held"`
	// Confirmed counts the notices their patient confirmed reading;
	// FailedAfterAcceptance those a channel accepted, then reported failed
	// (bounced, SMS not delivered), which were sent on.
	Confirmed             int `json:"confirmed"`
	FailedAfterAcceptance int `json:"failed_after_acceptance"`
	// SoonestUnreached is the soonest appointment of a patient not yet
	// reached (who neither confirmed the notice nor was reached by
	// phone): the one most at risk of coming in; zero when there is none.
	SoonestUnreached time.Time `json:"soonest_unreached,omitzero"`
	// ApprovalScope is the digest an approval of the held outage names
	// (notifier approve --scope).
	ApprovalScope string `json:"approval_scope,omitempty"`
	// ByChannel counts delivered notices per channel, by channel name.
	ByChannel []ChannelTotal `json:"by_channel"`
	// ManualNotices lists the patients to phone, soonest first.
	ManualNotices []ManualEntry `json:"manual_notices"`
	// Calls counts the manual notices by where staff's calls stand.
	Calls store.CallCounts `json:"calls"`

	loc *time.Location // the facility's zone, for the text formats
}

// ChannelTotal is how many notices a channel delivered.
type ChannelTotal struct {
	Channel   string `json:"channel"`
	Delivered int    `json:"delivered"`
}

// ManualEntry is a notice no channel delivered.
type ManualEntry struct {
	NoticeID  string `json:"notice_id"`
	PatientID string `json:"patient_id"`
	// Earliest is the start of the soonest of the notice's appointments
	// as the replica has them now; zero when none is in the replica.
	Earliest       time.Time `json:"earliest,omitzero"`
	AppointmentIDs []string  `json:"appointment_ids"`
	// Reasons says why each channel failed, once per distinct reason.
	Reasons []string `json:"reasons"`
	// CallStatus is where staff's calls stand (notifier.CallState.Status),
	// CallAttempts how many went unanswered, LastOutcome the latest one.
	CallStatus   string `json:"call_status"`
	CallAttempts int    `json:"call_attempts"`
	LastOutcome  string `json:"last_outcome,omitempty"`
	// Calls is what staff did to the row, who and when, oldest first.
	Calls []store.CallRecord `json:"calls"`
}

// RejectEntry is input that was refused, with the reason.
type RejectEntry struct {
	At      time.Time `json:"at"`
	Stream  string    `json:"stream"`
	Subject string    `json:"subject"`
	Seq     uint64    `json:"seq"`
	Reason  string    `json:"reason"`
}

// statePlanning is the state reported for an outage whose first event is
// still being planned.
const statePlanning = "planning"

// BuildReport reads the report from db: the outage with this id, or every
// outage when outageID is empty. An unknown outage id is an error.
func BuildReport(ctx context.Context, db *store.DB, cfg *config.Config, outageID string) (*Report, error) {
	all, err := db.Outages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list outages: %w", err)
	}
	if outageID != "" {
		all = slices.DeleteFunc(all, func(o store.OutageRecord) bool { return o.Outage.OutageID != outageID })
		if len(all) == 0 {
			return nil, fmt.Errorf("outage %q is unknown to this worker: no event of it has been planned here", outageID)
		}
	}
	facilities := cfg.FacilityMap()
	rep := &Report{Outages: make([]OutageReport, 0, len(all)), Rejects: []RejectEntry{}}
	for _, o := range all {
		or, err := outageReport(ctx, db, o, facilities[o.Outage.Facility])
		if err != nil {
			return nil, fmt.Errorf("outage %s: %w", o.Outage.OutageID, err)
		}
		rep.Pending += or.Pending
		rep.Held += or.Held
		rep.Outages = append(rep.Outages, or)
	}
	rep.Complete = rep.Pending == 0 && rep.Held == 0 && !slices.ContainsFunc(rep.Outages, func(o OutageReport) bool { return o.Planning })
	rejects, err := db.Rejects(ctx)
	if err != nil {
		return nil, fmt.Errorf("list rejects: %w", err)
	}
	for _, r := range rejects {
		rep.Rejects = append(rep.Rejects, RejectEntry{At: r.At, Stream: r.Stream, Subject: r.Subject, Seq: r.Seq, Reason: r.Reason})
	}
	return rep, nil
}

func outageReport(ctx context.Context, db *store.DB, o store.OutageRecord, fac notifier.Facility) (OutageReport, error) {
	loc, err := fac.Location()
	if err != nil {
		loc = time.UTC // a facility no longer configured: its times in UTC
	}
	s, err := db.Summarize(ctx, o.Outage.OutageID)
	if err != nil {
		return OutageReport{}, err
	}
	or := OutageReport{
		OutageID: o.Outage.OutageID, Facility: o.Outage.Facility, State: cmp.Or(o.State, statePlanning),
		Planning: o.Planning, Notices: s.Planned, Appointments: s.Appointments,
		Delivered: s.Delivered, Manual: s.Manual, Pending: s.Pending,
		Confirmed: s.Confirmed, FailedAfterAcceptance: s.FailedAfterAccept,
		ByChannel: []ChannelTotal{}, ManualNotices: []ManualEntry{}, loc: loc,
	}
	if o.State == notifier.OutageHeld {
		or.Held, or.Pending, or.ApprovalScope = s.Pending, 0, o.Outage.Scope
	}
	if !o.DeclaredAt.IsZero() {
		or.DeclaredAt = o.DeclaredAt.In(loc)
	}
	if !s.SoonestUnreached.IsZero() {
		or.SoonestUnreached = s.SoonestUnreached.In(loc)
	}
	for _, ch := range slices.Sorted(maps.Keys(s.ByChannel)) {
		or.ByChannel = append(or.ByChannel, ChannelTotal{Channel: ch, Delivered: s.ByChannel[ch]})
	}
	// CallEntries rather than ManualNotices: a notice planned by another
	// worker has no earliest appointment in this store, the replica has.
	entries, err := db.CallEntries(ctx, o.Outage.OutageID)
	if err != nil {
		return or, err
	}
	history, err := db.CallHistory(ctx, o.Outage.OutageID)
	if err != nil {
		return or, err
	}
	now := db.Now()
	for _, e := range entries {
		m := ManualEntry{NoticeID: e.NoticeID, PatientID: e.PatientID, AppointmentIDs: []string{}, Reasons: reasonList(e.Trail),
			CallStatus: e.Call.Status(now), CallAttempts: e.Call.Attempts, LastOutcome: e.Call.Outcome,
			Calls: append([]store.CallRecord{}, history[e.NoticeID]...)}
		for i := range m.Calls {
			m.Calls[i].At = m.Calls[i].At.In(loc)
		}
		or.Calls.Add(m.CallStatus, m.CallAttempts)
		for _, a := range e.Appointments {
			m.AppointmentIDs = append(m.AppointmentIDs, a.ID)
			if !a.Start.IsZero() && (m.Earliest.IsZero() || a.Start.Before(m.Earliest)) {
				m.Earliest = a.Start
			}
		}
		if !m.Earliest.IsZero() {
			m.Earliest = m.Earliest.In(loc)
		}
		or.ManualNotices = append(or.ManualNotices, m)
	}
	slices.SortStableFunc(or.ManualNotices, func(a, b ManualEntry) int {
		// Unknown times last: they cannot be the most pressing call.
		return cmp.Or(cmp.Compare(boolInt(a.Earliest.IsZero()), boolInt(b.Earliest.IsZero())), a.Earliest.Compare(b.Earliest))
	})
	return or, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// reasonList says why each channel of a trail failed, once per distinct
// reason, as "channel, channel: reason".
func reasonList(trail []notifier.Attempt) []string {
	var order []string
	channels := map[string][]string{}
	for _, a := range trail {
		if a.Result == notifier.ResultAccepted {
			continue
		}
		if _, ok := channels[a.Reason]; !ok {
			order = append(order, a.Reason)
		}
		if !slices.Contains(channels[a.Reason], a.Channel) {
			channels[a.Reason] = append(channels[a.Reason], a.Channel)
		}
	}
	out := make([]string, len(order))
	for i, r := range order {
		out[i] = strings.Join(channels[r], ", ") + ": " + r
	}
	return out
}
