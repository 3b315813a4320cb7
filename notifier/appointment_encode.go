package notifier

// appendAppointment appends a's record exactly as encoding/json writes it
// without HTML escaping: the publishers encode every appointment of an
// import. It reports false when a time has no RFC 3339 form, for
// encoding/json to give its error.
func appendAppointment(b []byte, a *Appointment) ([]byte, bool) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, a.ID)
	b = append(b, `,"facility":`...)
	b = appendJSONString(b, a.Facility)
	b = appendOptional(b, `,"department":`, a.Department)
	b = appendOptional(b, `,"location":`, a.Location)
	b = append(b, `,"start":`...)
	b, ok := appendJSONTime(b, a.Start)
	if !ok {
		return nil, false
	}
	if !a.End.IsZero() {
		b = append(b, `,"end":`...)
		if b, ok = appendJSONTime(b, a.End); !ok {
			return nil, false
		}
	}
	b = append(b, `,"status":`...)
	b = appendJSONString(b, a.Status)
	b = appendOptional(b, `,"kind":`, a.Kind)
	b = append(b, `,"patient":`...)
	b = appendPatient(b, &a.Patient)
	return append(b, '}'), true
}

// recordSize is a capacity for a's record that escapes rarely exceed.
func (a *Appointment) recordSize() int {
	return 176 + len(a.ID) + len(a.Facility) + len(a.Department) + len(a.Location) + len(a.Status) + len(a.Kind) +
		a.Patient.patientSize()
}
