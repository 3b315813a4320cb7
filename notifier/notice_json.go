package notifier

import "slices"

// DecodeNotice decodes a notice as json.Unmarshal does, to the same Notice
// and error: the dispatcher decodes every notice it sends. The common
// shape is read without encoding/json (parseNotice).
func DecodeNotice(data []byte) (Notice, error) {
	return decodeJSON(data, parseNotice)
}

// noticeMembers and noticeAppointmentMembers name the members of a notice
// and of its appointments.
var (
	noticeMembers = []string{"id", "kind", "outage_id", "facility", "facility_name", "facility_short_name", "time_zone",
		"country", "language", "patient", "appointments", "more_appointment_ids", "hotline", "info_url", "note",
		"planned_at", "event_key"}
	noticeAppointmentMembers = []string{"id", "department", "location", "start", "end", "neutral"}
)

// parseNotice decodes the common shape of a notice, as recordParser reads
// it, or reports false.
func parseNotice(data []byte) (Notice, bool) {
	var n Notice
	p := recordParser{data: data}
	p.text.Grow(len(data))
	ok := p.members(noticeMembers, func(name string) bool {
		switch name {
		case "id":
			return p.string(&n.ID)
		case "kind":
			return p.string(&n.Kind)
		case "outage_id":
			return p.string(&n.OutageID)
		case "facility":
			return p.string(&n.Facility)
		case "facility_name":
			return p.string(&n.FacilityName)
		case "facility_short_name":
			return p.string(&n.FacilityShortName)
		case "time_zone":
			return p.string(&n.TimeZone)
		case "country":
			return p.string(&n.Country)
		case "language":
			return p.string(&n.Language)
		case "patient":
			return p.patient(&n.Patient)
		case "appointments":
			return p.noticeAppointments(&n.Appointments)
		case "more_appointment_ids":
			return p.stringList(&n.MoreAppointmentIDs)
		case "hotline":
			return p.string(&n.Hotline)
		case "info_url":
			return p.string(&n.InfoURL)
		case "note":
			return p.string(&n.Note)
		case "planned_at":
			return p.time(&n.PlannedAt)
		case "event_key":
			return p.string(&n.EventKey)
		}
		return false
	})
	if !ok || !p.end() {
		return Notice{}, false
	}
	return n, true
}

// noticeAppointments reads an array of NoticeAppointment into *dst, never
// nil.
func (p *recordParser) noticeAppointments(dst *[]NoticeAppointment) bool {
	var buf [4]NoticeAppointment
	list := buf[:0]
	ok := p.elements(func() bool {
		list = append(list, NoticeAppointment{})
		a := &list[len(list)-1]
		return p.members(noticeAppointmentMembers, func(name string) bool {
			switch name {
			case "id":
				return p.string(&a.ID)
			case "department":
				return p.string(&a.Department)
			case "location":
				return p.string(&a.Location)
			case "start":
				return p.time(&a.Start)
			case "end":
				return p.time(&a.End)
			case "neutral":
				return p.boolean(&a.Neutral)
			}
			return false
		})
	})
	if ok {
		*dst = slices.Clone(list)
	}
	return ok
}

// appendNotice appends n's record, or reports false where encoding/json
// would fail: the planner encodes every notice it plans.
func appendNotice(b []byte, n *Notice) ([]byte, bool) {
	b = appendMember(b, `{"id":`, n.ID)
	b = appendMember(b, `,"kind":`, n.Kind)
	b = appendMember(b, `,"outage_id":`, n.OutageID)
	b = appendMember(b, `,"facility":`, n.Facility)
	b = appendOptional(b, `,"facility_name":`, n.FacilityName)
	b = appendOptional(b, `,"facility_short_name":`, n.FacilityShortName)
	b = appendMember(b, `,"time_zone":`, n.TimeZone)
	b = appendOptional(b, `,"country":`, n.Country)
	b = appendMember(b, `,"language":`, n.Language)
	b = appendPatient(append(b, `,"patient":`...), &n.Patient)
	b, ok := appendList(append(b, `,"appointments":`...), n.Appointments, appendNoticeAppointment)
	if !ok {
		return nil, false
	}
	if len(n.MoreAppointmentIDs) > 0 {
		b = appendStringList(append(b, `,"more_appointment_ids":`...), n.MoreAppointmentIDs)
	}
	b = appendMember(b, `,"hotline":`, n.Hotline)
	b = appendOptional(b, `,"info_url":`, n.InfoURL)
	b = appendOptional(b, `,"note":`, n.Note)
	if b, ok = appendTime(b, `,"planned_at":`, n.PlannedAt); !ok {
		return nil, false
	}
	b = appendOptional(b, `,"event_key":`, n.EventKey)
	return append(b, '}'), true
}

// appendNoticeAppointment appends a's object.
func appendNoticeAppointment(b []byte, a *NoticeAppointment) ([]byte, bool) {
	b = appendMember(b, `{"id":`, a.ID)
	b = appendOptional(b, `,"department":`, a.Department)
	b = appendOptional(b, `,"location":`, a.Location)
	b, ok := appendTime(b, `,"start":`, a.Start)
	if !ok {
		return nil, false
	}
	if !a.End.IsZero() {
		if b, ok = appendTime(b, `,"end":`, a.End); !ok {
			return nil, false
		}
	}
	if a.Neutral {
		b = append(b, `,"neutral":true`...)
	}
	return append(b, '}'), true
}

// recordSize is a capacity for n's record that escapes rarely exceed.
func (n *Notice) recordSize() int {
	size := 320 + len(n.ID) + len(n.Kind) + len(n.OutageID) + len(n.Facility) + len(n.FacilityName) +
		len(n.FacilityShortName) + len(n.TimeZone) + len(n.Country) + len(n.Language) + len(n.Hotline) +
		len(n.InfoURL) + len(n.Note) + len(n.EventKey) + n.Patient.patientSize() + listSize(n.MoreAppointmentIDs)
	for i := range n.Appointments {
		a := &n.Appointments[i]
		size += 144 + len(a.ID) + len(a.Department) + len(a.Location)
	}
	return size
}
