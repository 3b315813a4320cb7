package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// Stream names.
const (
	StreamAppointments = "APPOINTMENTS"
	StreamOutages      = "OUTAGES"
	StreamNotices      = "NOTICES"
	StreamDeliveries   = "DELIVERIES"
	StreamPlans        = "PLANS"
	StreamFeedback     = "FEEDBACK"
	StreamPatients     = "PATIENTS"
	StreamCalls        = "CALLS"
)

// Subject prefixes: appointments.<facility>.<id>, outages.<facility>,
// notices.<facility>.urgent|normal (and notices.<facility>.held.<outage in
// hex> while held for approval), deliveries.<facility>, plans.<facility>
// (plans._ for refusals that name no facility), patients.<facility>.<patient
// id>, feedback.<facility>, calls.<facility>.<notice id>.
const (
	SubjectAppointments = "appointments"
	SubjectOutages      = "outages"
	SubjectNotices      = "notices"
	SubjectDeliveries   = "deliveries"
	SubjectPlans        = "plans"
	SubjectFeedback     = "feedback"
	SubjectPatients     = "patients"
	SubjectCalls        = "calls"
)

// Consumer names shared by every worker.
const (
	ConsumerPlanner          = "planner"
	ConsumerDispatcher       = "dispatcher"
	ConsumerDispatcherUrgent = "dispatcher-urgent"
	ConsumerFeedback         = "feedback"
)

// Notices are published on notices.<facility>.<priority>.
const (
	priorityUrgent = "urgent"
	priorityNormal = "normal"
)

// ChannelCallList is the channel of every manual outcome: the list staff
// phone from. It is always the last resort.
const ChannelCallList = "calllist"

// dedupWindow is how long JetStream remembers a Nats-Msg-Id on the streams
// that set one: long enough to cover a re-declared outage during a day, and
// an interface engine's resend of an HL7 message after a day's outage of
// the listener.
const dedupWindow = 24 * time.Hour

// streamConfigs describes every stream the worker uses.
func streamConfigs(replicas int) []jetstream.StreamConfig {
	if replicas <= 0 {
		replicas = 1
	}
	return []jetstream.StreamConfig{
		{
			Name:              StreamAppointments,
			Description:       "Appointment records; the latest per subject wins.",
			Subjects:          []string{SubjectAppointments + ".>"},
			MaxMsgsPerSubject: 1,
			Storage:           jetstream.FileStorage,
			Replicas:          replicas,
			Duplicates:        dedupWindow,
			// Fast batches for imports are set by SetFastImport.
		},
		{
			Name:              StreamPatients,
			Description:       "Patient contact records (HL7 ADT A08/A31); the latest per patient wins.",
			Subjects:          []string{SubjectPatients + ".>"},
			MaxMsgsPerSubject: 1,
			Storage:           jetstream.FileStorage,
			Replicas:          replicas,
			Duplicates:        dedupWindow,
		},
		{
			Name:        StreamOutages,
			Description: "Outage events (CloudEvents).",
			Subjects:    []string{SubjectOutages + ".>"},
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		},
		{
			Name:        StreamNotices,
			Description: "Planned notices awaiting dispatch (work queue).",
			Subjects:    []string{SubjectNotices + ".>"},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
			Duplicates:  dedupWindow,
		},
		{
			Name:        StreamPlans,
			Description: "What the planners decided: notices planned and events handled, for every worker's store.",
			Subjects:    []string{SubjectPlans + ".>"},
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
			Duplicates:  dedupWindow,
		},
		{
			Name:        StreamDeliveries,
			Description: "Notice outcomes with their attempts (audit trail).",
			Subjects:    []string{SubjectDeliveries + ".>"},
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
			Duplicates:  dedupWindow,
		},
		{
			Name:        StreamFeedback,
			Description: "What channels learn of notices after accepting them (SMS delivery receipts).",
			Subjects:    []string{SubjectFeedback + ".>"},
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
			Duplicates:  dedupWindow,
		},
		{
			Name:        StreamCalls,
			Description: "What staff did on the call list: claims, releases and call outcomes, each with the row's state after it.",
			Subjects:    []string{SubjectCalls + ".>"},
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
			Duplicates:  dedupWindow,
		},
	}
}

// EnsureStreams creates the named streams (all when names is empty) where
// they are missing. Existing streams are left as they are.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, replicas int, names ...string) error {
	for _, cfg := range streamConfigs(replicas) {
		if len(names) > 0 && !slices.Contains(names, cfg.Name) {
			continue
		}
		_, err := js.Stream(ctx, cfg.Name)
		if err == nil {
			continue
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("look up stream %s: %w", cfg.Name, err)
		}
		if _, err := js.CreateStream(ctx, cfg); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// lastSeq is the sequence of the last message a stream holds.
func lastSeq(ctx context.Context, js jetstream.JetStream, stream string) (uint64, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("look up stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	return info.State.LastSeq, nil
}

// AppointmentSubject is the subject an appointment record is published on.
func AppointmentSubject(facility, id string) string {
	return SubjectAppointments + "." + facility + "." + id
}

// OutageSubject is the subject a facility's outage events are published on.
func OutageSubject(facility string) string { return SubjectOutages + "." + facility }

// recordFacility reads a record subject <prefix>.<facility>.<id> and
// returns its configured facility and the two tokens. Errors wrap
// ErrInvalid.
func recordFacility(facilities map[string]notifier.Facility, subject, prefix string) (notifier.Facility, []string, error) {
	tokens, err := subjectTokens(subject, prefix, 2)
	if err != nil {
		return notifier.Facility{}, nil, notifier.Invalid(err)
	}
	f, ok := facilities[tokens[0]]
	if !ok {
		return f, nil, notifier.Invalid(notifier.ErrUnknownFacility(tokens[0]))
	}
	return f, tokens, nil
}

// subjectTokens splits a subject and checks it has n tokens after prefix.
func subjectTokens(subject, prefix string, n int) ([]string, error) {
	parts := strings.Split(subject, ".")
	if len(parts) != n+1 || parts[0] != prefix {
		return nil, fmt.Errorf("subject %q is not of the form %s%s", subject, prefix, strings.Repeat(".<token>", n))
	}
	for _, p := range parts[1:] {
		if !notifier.ValidID(p) {
			return nil, fmt.Errorf("subject %q: %q is not of the form [A-Za-z0-9_-]+", subject, p)
		}
	}
	return parts[1:], nil
}

// PublishAppointmentMsg publishes an appointment record asynchronously
// (wait for the returned future's acknowledgement) with a message id: the
// same message sent again within the stream's duplicate window (an
// interface engine's resend after a lost acknowledgement) is stored once.
func PublishAppointmentMsg(js jetstream.JetStream, a *notifier.Appointment, msgID string) (jetstream.PubAckFuture, error) {
	data, err := notifier.EncodeJSON(a)
	if err != nil {
		return nil, err
	}
	return js.PublishMsgAsync(newMsg(AppointmentSubject(a.Facility, a.ID), msgID, data))
}

// HeaderAppointmentsSeq, on a contact record, is the last sequence of the
// APPOINTMENTS stream when it was published: the record is applied only to
// appointments whose record is not newer, so a replica rebuilt from the
// streams ends as the live one did. Without it the record applies to every
// appointment of the patient.
const HeaderAppointmentsSeq = "Notifier-Appointments-Seq"

// ContactSubject is the subject a patient's contact record is published on.
func ContactSubject(facility, patientID string) string {
	return SubjectPatients + "." + facility + "." + patientID
}

// PublishContact publishes a contact record and waits for the stream to
// store it; msgID makes a resend within the duplicate window a duplicate.
func PublishContact(ctx context.Context, js jetstream.JetStream, r *notifier.ContactRecord, msgID string) error {
	data, err := notifier.EncodeJSON(r)
	if err != nil {
		return err
	}
	before, err := lastSeq(ctx, js, StreamAppointments)
	if err != nil {
		return err
	}
	msg := newMsg(ContactSubject(r.Facility, r.Patient.ID), msgID, data)
	msg.Header.Set(HeaderAppointmentsSeq, strconv.FormatUint(before, 10))
	_, err = js.PublishMsg(ctx, msg)
	return err
}

// PublishEvent publishes an outage event and waits for the stream's
// acknowledgement. The message id is the event's facility, source and id,
// so a re-published event is dropped by JetStream within its duplicate
// window, and one facility's event cannot hide another's that reuses its
// source and id.
func PublishEvent(ctx context.Context, js jetstream.JetStream, ev *notifier.Event) error {
	_, err := PublishEventAck(ctx, js, ev)
	return err
}

// PublishEventAck is PublishEvent, and returns JetStream's acknowledgement
// (the event's sequence in the OUTAGES stream).
func PublishEventAck(ctx context.Context, js jetstream.JetStream, ev *notifier.Event) (*jetstream.PubAck, error) {
	data, err := notifier.EncodeJSON(ev)
	if err != nil {
		return nil, err
	}
	return js.PublishMsg(ctx, newMsg(OutageSubject(ev.Outage.Facility), ev.Outage.Facility+"/"+ev.Source+"#"+ev.ID, data))
}

// PublishFeedback stores feedback on feedback.<facility>; the same feedback
// twice (its id) is stored once.
func PublishFeedback(ctx context.Context, js jetstream.JetStream, f *notifier.Feedback) error {
	data, err := notifier.EncodeJSON(f)
	if err != nil {
		return err
	}
	_, err = js.PublishMsg(ctx, newMsg(SubjectFeedback+"."+f.Facility, f.ID, data))
	return err
}

// newMsg is a message with a JetStream message id for deduplication (none
// when id is empty): every message the engine publishes is built by it.
func newMsg(subject, id string, data []byte) *nats.Msg {
	msg := nats.NewMsg(subject)
	msg.Data = data
	if id != "" {
		msg.Header.Set(jetstream.MsgIDHeader, id)
	}
	return msg
}
