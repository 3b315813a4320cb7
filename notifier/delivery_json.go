package notifier

import "slices"

// DecodeDelivery decodes an outcome as json.Unmarshal does, to the same
// Delivery and error: every worker's audit view decodes every outcome. The
// common shape is read without encoding/json (parseDelivery).
func DecodeDelivery(data []byte) (Delivery, error) {
	return decodeJSON(data, parseDelivery)
}

// deliveryMembers and attemptMembers name the members of an outcome and of
// its attempts.
var (
	deliveryMembers = []string{"notice_id", "outage_id", "facility", "patient_id", "appointment_ids", "kind", "outcome",
		"channel", "attempts", "at", "trail", "revision"}
	attemptMembers = []string{"channel", "at", "result", "class", "code", "enhanced", "reason", "link"}
)

// parseDelivery decodes the common shape of an outcome, as recordParser
// reads it, or reports false.
func parseDelivery(data []byte) (Delivery, bool) {
	var d Delivery
	p := recordParser{data: data}
	p.text.Grow(len(data))
	ok := p.members(deliveryMembers, func(name string) bool {
		switch name {
		case "notice_id":
			return p.string(&d.NoticeID)
		case "outage_id":
			return p.string(&d.OutageID)
		case "facility":
			return p.string(&d.Facility)
		case "patient_id":
			return p.string(&d.PatientID)
		case "appointment_ids":
			return p.stringList(&d.AppointmentIDs)
		case "kind":
			return p.string(&d.Kind)
		case "outcome":
			return p.string(&d.Outcome)
		case "channel":
			return p.string(&d.Channel)
		case "attempts":
			return p.integer(&d.Attempts)
		case "at":
			return p.time(&d.At)
		case "trail":
			return p.trail(&d.Trail)
		case "revision":
			return p.integer(&d.Revision)
		}
		return false
	})
	if !ok || !p.end() {
		return Delivery{}, false
	}
	return d, true
}

// trail reads an array of Attempt into *dst, never nil.
func (p *recordParser) trail(dst *[]Attempt) bool {
	var buf [4]Attempt
	list := buf[:0]
	ok := p.elements(func() bool {
		list = append(list, Attempt{})
		a := &list[len(list)-1]
		return p.members(attemptMembers, func(name string) bool {
			switch name {
			case "channel":
				return p.string(&a.Channel)
			case "at":
				return p.time(&a.At)
			case "result":
				return p.string(&a.Result)
			case "class":
				return p.string(&a.Class)
			case "code":
				return p.integer(&a.Code)
			case "enhanced":
				return p.string(&a.Enhanced)
			case "reason":
				return p.string(&a.Reason)
			case "link":
				return p.boolean(&a.Link)
			}
			return false
		})
	})
	if ok {
		*dst = slices.Clone(list)
	}
	return ok
}

// appendDelivery appends d's record, or reports false where encoding/json
// would fail: the dispatcher encodes every outcome.
func appendDelivery(b []byte, d *Delivery) ([]byte, bool) {
	b = appendMember(b, `{"notice_id":`, d.NoticeID)
	b = appendMember(b, `,"outage_id":`, d.OutageID)
	b = appendMember(b, `,"facility":`, d.Facility)
	b = appendMember(b, `,"patient_id":`, d.PatientID)
	b = appendStringList(append(b, `,"appointment_ids":`...), d.AppointmentIDs)
	b = appendMember(b, `,"kind":`, d.Kind)
	b = appendMember(b, `,"outcome":`, d.Outcome)
	b = appendOptional(b, `,"channel":`, d.Channel)
	b = appendInt(b, `,"attempts":`, d.Attempts, false)
	b, ok := appendTime(b, `,"at":`, d.At)
	if !ok {
		return nil, false
	}
	if len(d.Trail) > 0 {
		if b, ok = appendList(append(b, `,"trail":`...), d.Trail, appendAttempt); !ok {
			return nil, false
		}
	}
	b = appendInt(b, `,"revision":`, d.Revision, true)
	return append(b, '}'), true
}

// appendAttempt appends a's object.
func appendAttempt(b []byte, a *Attempt) ([]byte, bool) {
	b = appendMember(b, `{"channel":`, a.Channel)
	b, ok := appendTime(b, `,"at":`, a.At)
	if !ok {
		return nil, false
	}
	b = appendMember(b, `,"result":`, a.Result)
	b = appendOptional(b, `,"class":`, a.Class)
	b = appendInt(b, `,"code":`, a.Code, true)
	b = appendOptional(b, `,"enhanced":`, a.Enhanced)
	b = appendOptional(b, `,"reason":`, a.Reason)
	if a.Link {
		b = append(b, `,"link":true`...)
	}
	return append(b, '}'), true
}

// recordSize is a capacity for d's record that escapes rarely exceed.
func (d *Delivery) recordSize() int {
	size := 240 + len(d.NoticeID) + len(d.OutageID) + len(d.Facility) + len(d.PatientID) + len(d.Kind) +
		len(d.Outcome) + len(d.Channel) + listSize(d.AppointmentIDs)
	for i := range d.Trail {
		a := &d.Trail[i]
		size += 144 + len(a.Channel) + len(a.Result) + len(a.Class) + len(a.Enhanced) + len(a.Reason)
	}
	return size
}
