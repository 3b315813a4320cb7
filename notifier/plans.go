package notifier

import (
	"encoding/json"
)

// PlanRecord is one message of the PLANS stream: a planner's decision, so
// that every worker's store holds the same notices, outages and refused
// events, whichever worker planned them. Exactly one field is set: Notices
// for a chunk of notices planned together (Notice, one notice, is still
// read).
type PlanRecord struct {
	Notices []*PlannedNotice `json:"notices,omitempty"`
	Notice  *PlannedNotice   `json:"notice,omitempty"`
	Event   *HandledEvent    `json:"event,omitempty"`
	Reject  *Reject          `json:"reject,omitempty"`
}

// HandledEvent records an outage event whose planning is complete, with
// the outage's data and state after it.
type HandledEvent struct {
	Source string `json:"source"`
	ID     string `json:"id"`
	Type   string `json:"type"`
	Outage Outage `json:"outage"`
	State  string `json:"state"`
	// Data is the event's data as received.
	Data json.RawMessage `json:"data"`
	// Released, for an approval, is how many held notices it released.
	Released int `json:"released,omitempty"`
}

// Key names the event in notices planned for it.
func (e *HandledEvent) Key() string { return e.Source + "#" + e.ID }

// PlanChange is one message of the PLANS stream as the store applies it.
type PlanChange struct {
	Seq    uint64
	Record *PlanRecord
}

// PlannedRecord is what PLANS keeps of a notice: no contact data.
func PlannedRecord(n *Notice) *PlannedNotice {
	return &PlannedNotice{
		ID: n.ID, Kind: n.Kind, PatientID: n.Patient.ID, AppointmentIDs: n.AppointmentIDs(), EventKey: n.EventKey,
		OutageID: n.OutageID, Facility: n.Facility, Language: n.Language, Earliest: n.Earliest(), PlannedAt: n.PlannedAt,
	}
}
