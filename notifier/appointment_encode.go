package notifier

// appendAppointment appends a's record exactly as encoding/json writes it
// without HTML escaping: the publishers encode every appointment of an
// import. It reports false when a time has no RFC 3339 form, for
// encoding/json to give its error.
func appendAppointment(b []byte, a *Appointment) ([]byte, bool) {
	b = appendMember(b, `{"id":`, a.ID)
	b = appendMember(b, `,"facility":`, a.Facility)
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
	b = appendMember(b, `,"status":`, a.Status)
	b = appendOptional(b, `,"kind":`, a.Kind)
	b = appendPatient(append(b, `,"patient":`...), &a.Patient)
	return append(b, '}'), true
}

// recordSize is a capacity for a's record that escapes rarely exceed.
func (a *Appointment) recordSize() int {
	return 176 + len(a.ID) + len(a.Facility) + len(a.Department) + len(a.Location) + len(a.Status) + len(a.Kind) +
		a.Patient.patientSize()
}
