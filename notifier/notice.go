package notifier

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Notice kinds.
const (
	// KindPostponed: do not come, you will be contacted to rebook.
	KindPostponed = "postponed"
	// KindCancelled: do not come, the appointment is cancelled.
	KindCancelled = "cancelled"
	// KindReinstated: an appointment postponed earlier goes ahead as
	// planned after all (the outage's scope shrank).
	KindReinstated = "reinstated"
	// KindResumed: services have resumed; we will contact you, or call the
	// hotline to rebook.
	KindResumed = "resumed"
)

// Notice is what one patient is told about one outage: every affected
// appointment of theirs in one message. It travels on the NOTICES stream and
// carries all a channel needs, so any worker can dispatch it.
type Notice struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	OutageID string `json:"outage_id"`
	Facility string `json:"facility"`
	// FacilityName is the facility's display name from the configuration.
	FacilityName string `json:"facility_name,omitempty"`
	// FacilityShortName is a short name for SMS (e.g. "UKD"); FacilityName
	// when empty.
	FacilityShortName string `json:"facility_short_name,omitempty"`
	// TimeZone is the IANA zone in which appointment times are written.
	TimeZone string `json:"time_zone"`
	// Country is the facility's ISO 3166 region code (e.g. "DE"), used to
	// read phone numbers written without a country code.
	Country string `json:"country,omitempty"`
	// Language is the language the notice is written in: the patient's,
	// else the facility's, else English.
	Language     string              `json:"language"`
	Patient      Patient             `json:"patient"`
	Appointments []NoticeAppointment `json:"appointments"`
	// MoreAppointmentIDs are the patient's affected appointments beyond
	// the MaxNoticeAppointments soonest, which the notice counts but does
	// not list (it asks the patient to call the hotline about them): a
	// notice stays small however many appointments one patient has.
	MoreAppointmentIDs []string `json:"more_appointment_ids,omitempty"`
	Hotline            string   `json:"hotline"`
	InfoURL            string   `json:"info_url,omitempty"`
	// Note is the operator's note in the notice's language, if any.
	Note      string    `json:"note,omitempty"`
	PlannedAt time.Time `json:"planned_at"`
	// EventKey names the outage event the notice was planned for.
	EventKey string `json:"event_key,omitempty"`
}

// NoticeAppointment is the part of an appointment a notice may show.
type NoticeAppointment struct {
	ID         string    `json:"id"`
	Department string    `json:"department,omitempty"`
	Location   string    `json:"location,omitempty"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end,omitzero"`
	// Neutral marks an appointment of a sensitive department: the notice
	// names neither department nor location, only "our hospital".
	Neutral bool `json:"neutral,omitempty"`
}

// Earliest is the start of the notice's soonest appointment.
func (n *Notice) Earliest() time.Time {
	if len(n.Appointments) == 0 {
		return time.Time{}
	}
	return n.Appointments[0].Start
}

// MaxNoticeAppointments is how many appointments a notice lists; the
// others are counted (MoreAppointmentIDs).
const MaxNoticeAppointments = 50

// AppointmentIDs lists the ids of the notice's appointments, listed and
// unlisted.
func (n *Notice) AppointmentIDs() []string {
	ids := make([]string, 0, len(n.Appointments)+len(n.MoreAppointmentIDs))
	for _, a := range n.Appointments {
		ids = append(ids, a.ID)
	}
	return append(ids, n.MoreAppointmentIDs...)
}

// NoticeID derives a notice's id from what makes it one notice: the outage,
// the kind, the patient and the set of appointments. Replaying an event
// therefore yields the same ids, which JetStream and the store deduplicate.
func NoticeID(outageID, kind, patientID string, appointmentIDs []string) string {
	ids := slices.Clone(appointmentIDs)
	slices.Sort(ids)
	h := sha256.New()
	for _, part := range []string{outageID, kind, patientID, strings.Join(ids, "\x1f")} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "n-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// NoticeKind is the kind of notice an outage action calls for.
func NoticeKind(action string) string {
	if action == ActionCancel {
		return KindCancelled
	}
	return KindPostponed
}

// NewNotice starts the notice of one patient about an outage, in language
// lang, as planned at now; the caller adds the appointments and the id.
func NewNotice(o *Outage, fac Facility, patient Patient, kind, lang string, now time.Time) *Notice {
	return &Notice{
		Kind:              kind,
		OutageID:          o.OutageID,
		Facility:          o.Facility,
		FacilityName:      fac.Name,
		FacilityShortName: fac.ShortName,
		TimeZone:          fac.TimeZone,
		Country:           fac.Country,
		Language:          lang,
		Patient:           patient,
		Hotline:           o.Hotline,
		InfoURL:           o.InfoURL,
		Note:              o.Note[lang],
		PlannedAt:         now.UTC(),
	}
}

// FallbackLanguage is the language of a notice when neither the patient's
// nor the facility's language has templates.
const FallbackLanguage = "en"

// Language picks the notice language: the patient's, else the facility's,
// else English, among the available ones.
func Language(available []string, patient, facility string) string {
	for _, l := range []string{patient, facility} {
		if l != "" && slices.Contains(available, l) {
			return l
		}
	}
	return FallbackLanguage
}
