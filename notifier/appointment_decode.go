package notifier

// appointmentMembers and patientMembers name the members of an
// appointment record and of its patient.
var (
	appointmentMembers = []string{"id", "facility", "department", "location", "start", "end", "status", "kind", "patient"}
	patientMembers     = []string{"id", "name", "language", "email", "phone", "channels"}
)

// parseAppointment decodes the common shape of an appointment record: one
// object of the members of Appointment and Patient, each named exactly as
// its tag and given at most once, with strings where strings belong. It
// reports false for anything else, for decodeRecord to decode or refuse;
// what it accepts, decodeRecord accepts as well, to the same Appointment.
// The replica decodes every record of an import.
func parseAppointment(data []byte) (Appointment, bool) {
	var a Appointment
	p := recordParser{data: data}
	p.text.Grow(len(data))
	ok := p.members(appointmentMembers, func(name string) bool {
		switch name {
		case "id":
			return p.string(&a.ID)
		case "facility":
			return p.string(&a.Facility)
		case "department":
			return p.string(&a.Department)
		case "location":
			return p.string(&a.Location)
		case "start":
			return p.time(&a.Start)
		case "end":
			return p.time(&a.End)
		case "status":
			return p.string(&a.Status)
		case "kind":
			return p.string(&a.Kind)
		case "patient":
			return p.patient(&a.Patient)
		}
		return false
	})
	if !ok || !p.end() {
		return Appointment{}, false
	}
	return a, true
}

// patient reads a Patient.
func (p *recordParser) patient(pt *Patient) bool {
	return p.members(patientMembers, func(name string) bool {
		switch name {
		case "id":
			return p.string(&pt.ID)
		case "name":
			return p.string(&pt.Name)
		case "language":
			return p.string(&pt.Language)
		case "email":
			return p.string(&pt.Email)
		case "phone":
			return p.string(&pt.Phone)
		case "channels":
			return p.stringList(&pt.Channels)
		}
		return false
	})
}
