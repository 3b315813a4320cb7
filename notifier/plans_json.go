package notifier

// DecodePlanRecord decodes a PLANS message as json.Unmarshal does, to the
// same PlanRecord and error: every worker's plans view decodes the record
// of every notice planned. A chunk of notice records, the common shape, is
// read without encoding/json (parsePlanRecord).
func DecodePlanRecord(data []byte) (PlanRecord, error) {
	return decodeJSON(data, parsePlanRecord)
}

// planMembers and plannedNoticeMembers name the members of a plan record
// of notices and of a notice's record.
var (
	planMembers          = []string{"notices", "notice"}
	plannedNoticeMembers = []string{"id", "kind", "patient_id", "appointment_ids", "event_key", "outage_id", "facility",
		"language", "earliest", "planned_at"}
)

// parsePlanRecord decodes the common shape of a plan record, notice
// records, as recordParser reads it, or reports false; an event or a
// refusal is left to encoding/json.
func parsePlanRecord(data []byte) (PlanRecord, bool) {
	var r PlanRecord
	p := recordParser{data: data}
	p.text.Grow(len(data))
	ok := p.members(planMembers, func(name string) bool {
		switch name {
		case "notices":
			return p.plannedNotices(&r.Notices)
		case "notice":
			r.Notice = new(PlannedNotice)
			return p.plannedNotice(r.Notice)
		}
		return false
	})
	if !ok || !p.end() {
		return PlanRecord{}, false
	}
	return r, true
}

// plannedNotices reads an array of notice records into *dst, never nil.
// They share one allocation, for as many records as the planner's, of a
// few hundred bytes each, fill the data.
func (p *recordParser) plannedNotices(dst *[]*PlannedNotice) bool {
	list := make([]PlannedNotice, 0, len(p.data)/256+1)
	ok := p.elements(func() bool {
		list = append(list, PlannedNotice{})
		return p.plannedNotice(&list[len(list)-1])
	})
	if !ok {
		return false
	}
	*dst = make([]*PlannedNotice, len(list))
	for i := range list {
		(*dst)[i] = &list[i]
	}
	return true
}

// plannedNotice reads a notice's record.
func (p *recordParser) plannedNotice(n *PlannedNotice) bool {
	return p.members(plannedNoticeMembers, func(name string) bool {
		switch name {
		case "id":
			return p.string(&n.ID)
		case "kind":
			return p.string(&n.Kind)
		case "patient_id":
			return p.string(&n.PatientID)
		case "appointment_ids":
			return p.stringList(&n.AppointmentIDs)
		case "event_key":
			return p.string(&n.EventKey)
		case "outage_id":
			return p.string(&n.OutageID)
		case "facility":
			return p.string(&n.Facility)
		case "language":
			return p.string(&n.Language)
		case "earliest":
			return p.time(&n.Earliest)
		case "planned_at":
			return p.time(&n.PlannedAt)
		}
		return false
	})
}

// appendPlannedNotice appends n's record, or reports false where
// encoding/json would fail: the planner encodes the record of every notice
// it plans.
func appendPlannedNotice(b []byte, n *PlannedNotice) ([]byte, bool) {
	b = appendMember(b, `{"id":`, n.ID)
	b = appendMember(b, `,"kind":`, n.Kind)
	b = appendMember(b, `,"patient_id":`, n.PatientID)
	b = appendStringList(append(b, `,"appointment_ids":`...), n.AppointmentIDs)
	b = appendMember(b, `,"event_key":`, n.EventKey)
	b = appendMember(b, `,"outage_id":`, n.OutageID)
	b = appendMember(b, `,"facility":`, n.Facility)
	b = appendMember(b, `,"language":`, n.Language)
	b, ok := appendTime(b, `,"earliest":`, n.Earliest)
	if !ok {
		return nil, false
	}
	if b, ok = appendTime(b, `,"planned_at":`, n.PlannedAt); !ok {
		return nil, false
	}
	return append(b, '}'), true
}

// recordSize is a capacity for n's record that escapes rarely exceed.
func (n *PlannedNotice) recordSize() int {
	return 208 + len(n.ID) + len(n.Kind) + len(n.PatientID) + len(n.EventKey) + len(n.OutageID) + len(n.Facility) +
		len(n.Language) + listSize(n.AppointmentIDs)
}
