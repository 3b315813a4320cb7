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
	ApplyAppointments(ctx context.Context, changes []AppointmentChange) error
	ApplyDeliveries(ctx context.Context, changes []DeliveryChange) error
	AddReject(ctx context.Context, r Reject) error
	// HasEvent reports whether an event with this source and id was handled.
	HasEvent(ctx context.Context, source, id string) (bool, error)
	// AddEvent records a handled event and reports whether it is new.
	AddEvent(ctx context.Context, ev *Event) (bool, error)
	PutOutage(ctx context.Context, o *Outage, state string) error
	// Outage returns an outage's latest data and state; ok is false when
	// it is unknown.
	Outage(ctx context.Context, id string) (o Outage, state string, ok bool, err error)
	// Affected calls fn for every appointment the outage affects, patient
	// by patient, soonest first, each patient's appointments consecutive.
	Affected(ctx context.Context, o *Outage, fn func(AffectedAppointment) error) error
	// AddNotices records planned notices and reports, for each, whether it
	// already has an outcome.
	AddNotices(ctx context.Context, notices []*Notice) ([]bool, error)
	NoticeDone(ctx context.Context, id string) (bool, error)
	// OutageNotices lists the notices planned for an outage, in the order
	// they were planned.
	OutageNotices(ctx context.Context, outageID string) ([]PlannedNotice, error)
	// AppointmentsByID calls fn for the facility's appointments with these
	// ids, grouped and ordered like Affected.
	AppointmentsByID(ctx context.Context, facility string, ids []string, fn func(AffectedAppointment) error) error
}

// PlannedNotice is what the store keeps of a planned notice.
type PlannedNotice struct {
	ID             string
	Kind           string
	PatientID      string
	AppointmentIDs []string
	// EventKey names the event the notice was planned for.
	EventKey string
}

// Reject is input that was refused, with the reason.
type Reject struct {
	At      time.Time
	Stream  string
	Subject string
	Seq     uint64
	Reason  string
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

// AffectedAppointment is an appointment an outage affects, with the stream
// sequence of its record (the highest is the patient's freshest contact data).
type AffectedAppointment struct {
	Appointment
	Seq uint64
}
