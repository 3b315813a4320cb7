package notifier

import (
	"context"
	"time"
)

// Store is the worker's materialised view of the streams: the appointment
// replica, accepted and rejected input, planned notices and their outcomes.
// Package store implements it on SQLite.
type Store interface {
	// Position is the sequence of the last message of stream applied.
	Position(ctx context.Context, stream string) (uint64, error)
	// ApplyAppointments, ApplyDeliveries and ApplyPlans apply a batch of
	// a stream's messages in one transaction with the stream's position;
	// an empty batch changes nothing.
	ApplyAppointments(ctx context.Context, changes []AppointmentChange) error
	ApplyDeliveries(ctx context.Context, changes []DeliveryChange) error
	// ApplyPlans records planned notices, handled events and refused
	// events from the PLANS stream.
	ApplyPlans(ctx context.Context, changes []PlanChange) error
	// ApplyContacts applies contact records from the PATIENTS stream to
	// the appointments of their patients.
	ApplyContacts(ctx context.Context, changes []ContactChange) error
	// ApplyCalls records what staff did on the call list (the CALLS
	// stream); the same event twice counts once.
	ApplyCalls(ctx context.Context, changes []CallChange) error
	AddReject(ctx context.Context, r Reject) error
	// HasEvent reports whether an event of this facility with this source
	// and id was handled.
	HasEvent(ctx context.Context, facility, source, id string) (bool, error)
	// Outage returns an outage's latest data and state; ok is false when
	// it is unknown.
	Outage(ctx context.Context, id string) (o Outage, state string, ok bool, err error)
	// Affected calls fn for every appointment the outage affects, patient
	// by patient, soonest first, each patient's appointments consecutive.
	Affected(ctx context.Context, o *Outage, fn func(AffectedAppointment) error) error
	// OutageNotices lists the notices planned for an outage, in the order
	// they were planned.
	OutageNotices(ctx context.Context, outageID string) ([]PlannedNotice, error)
	// NoticeOutcome returns a notice as planned and its outcome so far
	// (nil while it has none); ok is false for an unknown notice.
	NoticeOutcome(ctx context.Context, id string) (p PlannedNotice, d *Delivery, ok bool, err error)
	// HasOutcome reports whether notice id has an outcome.
	HasOutcome(ctx context.Context, id string) (bool, error)
	// AppointmentsByID calls fn for the facility's appointments with these
	// ids, grouped and ordered like Affected.
	AppointmentsByID(ctx context.Context, facility string, ids []string, fn func(AffectedAppointment) error) error
	// Unconfirmed lists the notices that tell a patient not to come
	// (postponed, cancelled), were delivered and are not confirmed, whose
	// outage is not resolved and whose earliest appointment is after now.
	Unconfirmed(ctx context.Context, now time.Time) ([]UnconfirmedNotice, error)
}

// UnconfirmedNotice is a delivered notice its patient has not confirmed.
type UnconfirmedNotice struct {
	ID, Facility string
	Earliest     time.Time
	DeliveredAt  time.Time
}

// PlannedNotice is what the store, and the PLANS stream, keep of a planned
// notice: no contact data.
type PlannedNotice struct {
	ID             string   `json:"id"`
	Kind           string   `json:"kind"`
	PatientID      string   `json:"patient_id"`
	AppointmentIDs []string `json:"appointment_ids"`
	// EventKey names the event the notice was planned for.
	EventKey  string    `json:"event_key"`
	OutageID  string    `json:"outage_id"`
	Facility  string    `json:"facility"`
	Language  string    `json:"language"`
	Earliest  time.Time `json:"earliest"`
	PlannedAt time.Time `json:"planned_at"`
}

// Reject is input that was refused, with the reason. Seq is the refused
// message's sequence in Stream; for input refused before it reached a
// stream (Stream HL7 or FHIR), the sequence of its record in PLANS.
type Reject struct {
	At      time.Time `json:"at"`
	Stream  string    `json:"stream"`
	Subject string    `json:"subject"`
	Seq     uint64    `json:"seq"`
	Reason  string    `json:"reason"`
}

// AppointmentChange is one message of the APPOINTMENTS stream as the
// replica applies it: an appointment to upsert, or a refused record.
type AppointmentChange struct {
	Seq         uint64
	Appointment *Appointment
	Reject      *Reject
}

// DeliveryChange is one message of the DELIVERIES stream.
type DeliveryChange struct {
	Seq      uint64
	Delivery *Delivery
	Reject   *Reject
}

// CallChange is one message of the CALLS stream: a call event, or nil for
// a message that is not one (it only moves the position).
type CallChange struct {
	Seq   uint64
	Event *CallEvent
}

// AffectedAppointment is an appointment an outage affects, with the stream
// sequence of its record (the highest is the patient's freshest contact data).
type AffectedAppointment struct {
	Appointment
	Seq uint64
}
