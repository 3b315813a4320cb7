package notifier

import "time"

// Outcomes. Every notice ends in one of them: never dropped, never stuck.
const (
	// OutcomeDelivered: a channel accepted the notice.
	OutcomeDelivered = "delivered"
	// OutcomeManual: no channel could deliver it; staff must phone the
	// patient.
	OutcomeManual = "manual"
)

// Attempt results.
const (
	ResultAccepted = "accepted"
	ResultFailed   = "failed"
	ResultSkipped  = "skipped"
	// ResultUnconfirmed: the channel took the whole message but never
	// confirmed it; the patient may have it. The chain goes on.
	ResultUnconfirmed = "unconfirmed"
)

// Delivery is the outcome of one notice, published on deliveries.<facility>
// and kept in the store as the audit trail.
type Delivery struct {
	NoticeID       string    `json:"notice_id"`
	OutageID       string    `json:"outage_id"`
	Facility       string    `json:"facility"`
	PatientID      string    `json:"patient_id"`
	AppointmentIDs []string  `json:"appointment_ids"`
	Kind           string    `json:"kind"`
	Outcome        string    `json:"outcome"`
	Channel        string    `json:"channel,omitempty"`
	Attempts       int       `json:"attempts"`
	At             time.Time `json:"at"`
	// Trail lists every attempt on every channel, in order: why each
	// channel before the one that worked (or all of them) failed.
	Trail []Attempt `json:"trail,omitempty"`
	// Revision is 1 for a notice's first outcome and one higher for every
	// revision of it (a bounce, a receipt, a confirmation): the highest
	// revision is the current outcome. Absent means 1.
	Revision int `json:"revision,omitempty"`
}

// Attempt is one try of one channel. Reason never holds patient data.
type Attempt struct {
	Channel  string    `json:"channel"`
	At       time.Time `json:"at"`
	Result   string    `json:"result"`
	Class    string    `json:"class,omitempty"`
	Code     int       `json:"code,omitempty"`
	Enhanced string    `json:"enhanced,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	// Link says that the message the channel accepted carried the
	// notice's confirmation link (an SMS takes it only when it fits).
	Link bool `json:"link,omitempty"`
}
