package notifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Limits on outage events, so that a malformed or hostile event is rejected
// with a clear reason instead of being planned.
const (
	MaxEventSize      = 64 << 10
	MaxDepartments    = 500
	MaxKinds          = 50
	MaxNoteLength     = 500
	maxHotlineLength  = 64
	maxInfoURLLength  = 500
	maxEventIDLength  = 256
	maxEventSrcLength = 256
)

// Event types the worker accepts on outages.<facility>.
const (
	EventDeclared = "outage.declared"
	EventUpdated  = "outage.updated"
	EventResolved = "outage.resolved"
	// EventApproved releases an outage held for approval.
	EventApproved = "outage.approved"
)

// Outage actions.
const (
	ActionPostpone = "postpone"
	ActionCancel   = "cancel"
)

// Outage states, as the store records them.
const (
	OutageDeclared = "declared"
	OutageUpdated  = "updated"
	OutageResolved = "resolved"
)

// AllDepartments is the departments entry that selects every department.
const AllDepartments = "*"

// KindInpatient is excluded when an outage names no kinds.
const KindInpatient = "inpatient"

// Event is a CloudEvents 1.0 event in structured JSON mode, as published on
// outages.<facility>. Events are unique by Source and ID.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            string          `json:"time,omitempty"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data"`
	// Sig is the CloudEvents extension attribute carrying the publisher's
	// signature, "ed25519:<key-id>:<base64>" (see SignEvent).
	Sig string `json:"sig,omitempty"`

	// Outage is Data decoded; it is not part of the wire format.
	Outage Outage `json:"-"`
}

// Outage is the data of an outage event.
type Outage struct {
	OutageID    string            `json:"outage_id"`
	Facility    string            `json:"facility"`
	From        time.Time         `json:"from,omitzero"`
	Until       time.Time         `json:"until,omitzero"`
	Departments []string          `json:"departments,omitempty"`
	Kinds       []string          `json:"kinds,omitempty"`
	Action      string            `json:"action,omitempty"`
	Hotline     string            `json:"hotline,omitempty"`
	InfoURL     string            `json:"info_url,omitempty"`
	Note        map[string]string `json:"note,omitempty"`
	// Notify asks, on outage.resolved, to tell notified patients that
	// services have resumed.
	Notify bool `json:"notify,omitempty"`
	// Scope, in an outage.approved event, is the digest of the scope the
	// approver saw (ScopeDigest): the approval releases the held notices
	// only while the outage still has that scope. In the outage's state it
	// is the digest of the scope held for approval, set by the planner.
	Scope string `json:"scope,omitempty"`
	// HeldPatients is how many patients the notices held for approval
	// are for; set by the planner, never read from an event.
	HeldPatients int `json:"held_patients,omitempty"`
}

// DecodeEvent decodes and validates an outage event received on
// outages.<facility>. Errors wrap ErrInvalid and say what is wrong.
func DecodeEvent(data []byte, facility string) (*Event, error) {
	if len(data) > MaxEventSize {
		return nil, Invalid(fmt.Errorf("event is %d bytes, at most %d allowed", len(data), MaxEventSize))
	}
	var ev Event
	if err := uniqueKeys(data); err != nil {
		return nil, Invalid(fmt.Errorf("not a JSON CloudEvent: %w", err))
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, Invalid(fmt.Errorf("not a JSON CloudEvent: %w", JSONError(err)))
	}
	if err := ev.validateEnvelope(); err != nil {
		return nil, Invalid(err)
	}
	if len(ev.Data) == 0 || bytes.Equal(ev.Data, []byte("null")) {
		return nil, Invalid(errors.New("data: required"))
	}
	if err := json.Unmarshal(ev.Data, &ev.Outage); err != nil {
		return nil, Invalid(fmt.Errorf("data: %w", JSONError(err)))
	}
	if ev.Outage.Facility != facility {
		return nil, Invalid(fmt.Errorf("data.facility: %q does not match the subject's facility %q", ev.Outage.Facility, facility))
	}
	if err := ev.Outage.validate(ev.Type); err != nil {
		return nil, Invalid(err)
	}
	return &ev, nil
}

func (ev *Event) validateEnvelope() error {
	if ev.SpecVersion != "1.0" {
		return fmt.Errorf("specversion: %q, want \"1.0\"", ev.SpecVersion)
	}
	var errs []error
	if ev.ID == "" {
		errs = append(errs, errors.New("id: required"))
	}
	if ev.Source == "" {
		errs = append(errs, errors.New("source: required"))
	}
	errs = append(errs,
		checkText("id", ev.ID, maxEventIDLength),
		checkText("source", ev.Source, maxEventSrcLength))
	switch ev.Type {
	case EventDeclared, EventUpdated, EventResolved, EventApproved:
	case "":
		errs = append(errs, errors.New("type: required"))
	default:
		errs = append(errs, fmt.Errorf("type: %q is not one of %s, %s, %s, %s", ev.Type, EventDeclared, EventUpdated, EventResolved, EventApproved))
	}
	if len(ev.Sig) > 512 {
		errs = append(errs, errors.New("sig: too long"))
	}
	if ev.Time != "" {
		if _, err := time.Parse(time.RFC3339, ev.Time); err != nil {
			errs = append(errs, errors.New("time: not RFC 3339"))
		}
	}
	if ct := ev.DataContentType; ct != "" && !strings.HasPrefix(ct, "application/json") {
		errs = append(errs, fmt.Errorf("datacontenttype: %q, want application/json", ct))
	}
	return errors.Join(errs...)
}

func (o *Outage) validate(eventType string) error {
	errs := []error{checkText("data.outage_id", o.OutageID, maxIDLen)}
	if o.OutageID == "" {
		errs = append(errs, errors.New("data.outage_id: required"))
	} else if !idChars(o.OutageID, true) {
		errs = append(errs, errors.New("data.outage_id: not of the form [A-Za-z0-9_.-]+"))
	}
	if o.HeldPatients != 0 {
		errs = append(errs, errors.New("data.held_patients: set by the worker, not by events"))
	}
	if o.Scope != "" && (eventType != EventApproved || !scopePattern.MatchString(o.Scope)) {
		errs = append(errs, errors.New("data.scope: only in outage.approved, the 16 hexadecimal digits the status page shows for a held outage"))
	}
	if eventType == EventResolved || eventType == EventApproved {
		return errors.Join(errs...)
	}
	switch {
	case o.From.IsZero():
		errs = append(errs, errors.New("data.from: required"))
	case o.Until.IsZero():
		errs = append(errs, errors.New("data.until: required"))
	case !o.Until.After(o.From):
		errs = append(errs, errors.New("data.until: not after data.from"))
	}
	if len(o.Departments) == 0 {
		errs = append(errs, errors.New(`data.departments: required (use ["*"] for every department)`))
	}
	if len(o.Departments) > MaxDepartments {
		errs = append(errs, fmt.Errorf("data.departments: %d listed, at most %d allowed", len(o.Departments), MaxDepartments))
	}
	for i, d := range o.Departments {
		errs = append(errs, checkText(fmt.Sprintf("data.departments[%d]", i), d, 200))
		if d == "" {
			errs = append(errs, fmt.Errorf("data.departments[%d]: empty", i))
		}
	}
	if slices.Contains(o.Departments, AllDepartments) && len(o.Departments) > 1 {
		errs = append(errs, errors.New(`data.departments: "*" must stand alone`))
	}
	if len(o.Kinds) > MaxKinds {
		errs = append(errs, fmt.Errorf("data.kinds: %d listed, at most %d allowed", len(o.Kinds), MaxKinds))
	}
	for i := range o.Kinds {
		o.Kinds[i] = strings.ToLower(strings.TrimSpace(o.Kinds[i]))
		errs = append(errs, checkText(fmt.Sprintf("data.kinds[%d]", i), o.Kinds[i], 64))
	}
	switch o.Action {
	case ActionPostpone, ActionCancel:
	case "":
		errs = append(errs, errors.New("data.action: required (postpone or cancel)"))
	default:
		errs = append(errs, fmt.Errorf("data.action: %q is not postpone or cancel", o.Action))
	}
	o.Hotline = strings.TrimSpace(o.Hotline)
	if o.Hotline == "" {
		errs = append(errs, errors.New("data.hotline: required, a notice must say how to reach the hospital"))
	} else if !validPhone(o.Hotline) || len(o.Hotline) > maxHotlineLength {
		errs = append(errs, errors.New("data.hotline: not a phone number"))
	}
	if o.InfoURL != "" {
		u, err := url.Parse(o.InfoURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(o.InfoURL) > maxInfoURLLength {
			errs = append(errs, errors.New("data.info_url: not an http or https URL"))
		}
		errs = append(errs, checkText("data.info_url", o.InfoURL, maxInfoURLLength))
	}
	for lang, text := range o.Note {
		if !validLanguage(lang) {
			errs = append(errs, fmt.Errorf("data.note: %q is not a language code", lang))
		}
		errs = append(errs, checkText("data.note."+lang, text, MaxNoteLength))
	}
	return errors.Join(errs...)
}

// Affects reports whether the outage covers the appointment: same facility,
// start in [From, Until), department (compared without regard to case) and
// kind in scope, status active.
// The store's query implements the same rule in SQL.
func (o *Outage) Affects(a *Appointment) bool {
	return a.Facility == o.Facility &&
		!a.Start.Before(o.From) && a.Start.Before(o.Until) &&
		(o.AllDepartments() || o.coversDepartment(a.Department)) &&
		o.CoversKind(a.Kind) && a.Active()
}

// coversDepartment compares departments without regard to case, so that
// "Cardiology" in one system and "cardiology" in another are one department.
func (o *Outage) coversDepartment(dept string) bool {
	dept = strings.ToLower(dept)
	for _, d := range o.Departments {
		if strings.ToLower(d) == dept {
			return true
		}
	}
	return false
}

// AllDepartments reports whether the outage selects every department.
func (o *Outage) AllDepartments() bool {
	return len(o.Departments) == 1 && o.Departments[0] == AllDepartments
}

// CoversKind applies the kinds rule: listed kinds, or every kind but
// inpatient when none are listed.
func (o *Outage) CoversKind(kind string) bool {
	if len(o.Kinds) == 0 {
		return kind != KindInpatient
	}
	return slices.Contains(o.Kinds, kind)
}
