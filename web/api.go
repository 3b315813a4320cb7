package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// apiStatus is the body of GET /api/outages; the package comment describes
// its fields, which are a contract.
type apiStatus struct {
	GeneratedAt time.Time    `json:"generated_at"`
	Outages     []apiOutage  `json:"outages"`
	Channels    []apiChannel `json:"channels"`
	// Ready is false while the worker cannot do its job; NotReady says why.
	Ready    bool     `json:"ready"`
	NotReady []string `json:"not_ready,omitempty"`
}

// apiOutage is one outage, the body of GET /api/outages/{id}.
type apiOutage struct {
	ID           string     `json:"id"`
	Facility     string     `json:"facility"`
	FacilityName string     `json:"facility_name"`
	State        string     `json:"state"`
	Action       string     `json:"action"`
	From         *time.Time `json:"from"`
	Until        *time.Time `json:"until"`
	TimeZone     string     `json:"time_zone"`
	Departments  []string   `json:"departments"`
	Kinds        []string   `json:"kinds"`
	Hotline      string     `json:"hotline"`
	DeclaredAt   *time.Time `json:"declared_at"`
	UpdatedAt    *time.Time `json:"updated_at"`

	Planned            int            `json:"planned"`
	Delivered          int            `json:"delivered"`
	Manual             int            `json:"manual"`
	Pending            int            `json:"pending"`
	Held               int            `json:"held"`
	ApprovalScope      string         `json:"approval_scope,omitempty"`
	DeliveredByChannel map[string]int `json:"delivered_by_channel"`
	PlannedByKind      map[string]int `json:"planned_by_kind"`

	Phase             string     `json:"phase"`
	FirstOutcomeAt    *time.Time `json:"first_outcome_at"`
	LastOutcomeAt     *time.Time `json:"last_outcome_at"`
	RatePerMinute     float64    `json:"rate_per_minute"`
	RateWindowSeconds int        `json:"rate_window_seconds"`
	RemainingSeconds  *int64     `json:"remaining_seconds"`
	EstimatedFinishAt *time.Time `json:"estimated_finish_at"`

	EarliestPendingAppointment *time.Time `json:"earliest_pending_appointment"`
	EarliestManualAppointment  *time.Time `json:"earliest_manual_appointment"`
	// Confirmed counts notices their patient confirmed (reached);
	// FailedAfterAcceptance those a channel accepted, then reported failed
	// (bounced, SMS not delivered), which were sent on.
	Confirmed                    int        `json:"confirmed"`
	FailedAfterAcceptance        int        `json:"failed_after_acceptance"`
	EarliestUnreachedAppointment *time.Time `json:"earliest_unreached_appointment"`
	// CallList counts the call list's rows by where staff stand with them.
	CallList store.CallCounts `json:"calllist"`

	Links apiLinks `json:"links"`
}

// apiLinks are the outage's other resources, as paths on this server.
type apiLinks struct {
	Self         string `json:"self"`
	CallListHTML string `json:"calllist_html"`
	CallListCSV  string `json:"calllist_csv"`
}

// apiChannel is one channel of the chain.
type apiChannel struct {
	Name                string     `json:"name"`
	Medium              string     `json:"medium"`
	State               string     `json:"state"`
	Breaker             string     `json:"breaker"`
	ConsecutiveFailures uint32     `json:"consecutive_failures"`
	LastFailureAt       *time.Time `json:"last_failure_at"`
	LastFailureReason   string     `json:"last_failure_reason"`
}

// apiList serves every outage and channel.
func (s *server) apiList(w http.ResponseWriter, r *http.Request) {
	now := s.Now()
	list, err := s.DB.OutageStatuses(r.Context(), now.Add(-rateWindow))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := apiStatus{GeneratedAt: now.UTC(), Outages: []apiOutage{}, Channels: apiChannels(s.Health())}
	body.NotReady = s.notReady(r.Context())
	body.Ready = len(body.NotReady) == 0
	for _, o := range list {
		body.Outages = append(body.Outages, s.apiOutage(o, now))
	}
	writeJSON(w, body)
}

// apiOne serves one outage.
func (s *server) apiOne(w http.ResponseWriter, r *http.Request) {
	now := s.Now()
	o, ok, err := s.DB.OutageStatus(r.Context(), r.PathValue("id"), now.Add(-rateWindow))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		http.Error(w, "No such outage.", http.StatusNotFound)
		return
	}
	writeJSON(w, s.apiOutage(o, now))
}

func (s *server) apiOutage(o store.OutageStatus, now time.Time) apiOutage {
	p := pace(o, now)
	out := apiOutage{
		ID: o.Outage.OutageID, Facility: o.Outage.Facility, FacilityName: s.Facilities[o.Outage.Facility].Name,
		State: o.State, Action: o.Outage.Action,
		From: optional(o.Outage.From), Until: optional(o.Outage.Until), TimeZone: s.zone(o.Outage.Facility).String(),
		Departments: nonNil(o.Outage.Departments), Kinds: nonNil(o.Outage.Kinds), Hotline: o.Outage.Hotline,
		DeclaredAt: optional(o.DeclaredAt), UpdatedAt: optional(o.UpdatedAt),
		Planned: o.Planned, Delivered: o.Delivered, Manual: o.Manual, Pending: o.Pending,
		DeliveredByChannel: o.ByChannel, PlannedByKind: o.ByKind,
		Phase: p.Phase, FirstOutcomeAt: optional(o.FirstOutcome), LastOutcomeAt: optional(o.LastOutcome),
		RatePerMinute: math.Round(p.PerMinute*10) / 10, RateWindowSeconds: int(rateWindow.Seconds()),
		EarliestPendingAppointment: optional(o.EarliestPending), EarliestManualAppointment: optional(o.EarliestManual),
		Confirmed: o.Confirmed, FailedAfterAcceptance: o.FailedAfterAccept, EarliestUnreachedAppointment: optional(o.EarliestUnreached),
		CallList: o.Calls,
		Links:    outageLinks(o.Outage.OutageID),
	}
	if o.State == notifier.OutageHeld {
		out.Held, out.Pending, out.ApprovalScope = o.Pending, 0, o.Outage.Scope
	}
	if p.Remaining > 0 {
		secs := int64(p.Remaining.Seconds())
		out.RemainingSeconds = &secs
		out.EstimatedFinishAt = optional(now.Add(p.Remaining))
	}
	return out
}

// outageLinks are the paths of an outage's resources.
func outageLinks(id string) apiLinks {
	e := url.PathEscape(id)
	return apiLinks{
		Self:         "/api/outages/" + e,
		CallListHTML: "/outages/" + e + "/calllist.html",
		CallListCSV:  "/outages/" + e + "/calllist.csv",
	}
}

func apiChannels(health []notifier.ChannelHealth) []apiChannel {
	out := make([]apiChannel, len(health))
	for i, h := range health {
		out[i] = apiChannel{Name: h.Name, Medium: string(h.Medium), State: h.State, Breaker: h.Breaker,
			ConsecutiveFailures: h.ConsecutiveFailures, LastFailureAt: optional(h.LastFailure), LastFailureReason: h.LastFailureReason}
	}
	return out
}

// optional is t in UTC, or nil for the zero time, which JSON writes as null.
func optional(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// nonNil makes a nil list an empty one, which JSON writes as [].
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, fmt.Sprintf("encode: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(body, '\n'))
}
