package notifier

import "time"

// Grouper turns affected appointments, which come one patient after another
// (soonest first, as Store.Affected yields them), into one notice per
// patient, exactly as the planner writes them: the freshest record's
// contact data and language, the outage's note in that language, a
// sensitive department's appointments under a neutral label, at most
// MaxNoticeAppointments listed. The planner, preview and the benchmarks
// all group with it.
type Grouper struct {
	Outage   *Outage
	Facility Facility
	// Kind is the kind of every notice; Base is the outage input of their
	// ids (NoticeID), the outage id unless the planner says otherwise.
	Kind, Base string
	// Languages are those the renderer has templates for.
	Languages []string
	// EventKey names the event the notices are planned for.
	EventKey string
	// Now is the planning time written into each notice.
	Now time.Time

	current *Notice
	seq     uint64
}

// Add takes the next appointment. When it is another patient's, the
// previous patient's notice is complete and returned; otherwise nil.
func (g *Grouper) Add(a AffectedAppointment) *Notice {
	var done *Notice
	if g.current != nil && g.current.Patient.ID != a.Patient.ID {
		done = g.Flush()
	}
	if g.current == nil {
		g.current = NewNotice(g.Outage, g.Facility, a.Patient, g.Kind, Language(g.Languages, a.Patient.Language, g.Facility.Language), g.Now)
		g.current.EventKey = g.EventKey
		g.seq = a.Seq
	}
	if a.Seq > g.seq {
		// A later record of the same patient: its contact data wins.
		n := g.current
		n.Patient, g.seq = a.Patient, a.Seq
		n.Language = Language(g.Languages, a.Patient.Language, g.Facility.Language)
		n.Note = g.Outage.Note[n.Language]
	}
	if len(g.current.Appointments) >= MaxNoticeAppointments {
		// Appointments come soonest first: the later ones are counted.
		g.current.MoreAppointmentIDs = append(g.current.MoreAppointmentIDs, a.ID)
		return done
	}
	na := NoticeAppointment{ID: a.ID, Department: a.Department, Location: a.Location, Start: a.Start, End: a.End}
	if g.Facility.Sensitive(a.Department) {
		na = NoticeAppointment{ID: a.ID, Start: a.Start, End: a.End, Neutral: true}
	}
	g.current.Appointments = append(g.current.Appointments, na)
	return done
}

// Flush completes and returns the current patient's notice, or nil when
// there is none.
func (g *Grouper) Flush() *Notice {
	n := g.current
	if n == nil {
		return nil
	}
	g.current = nil
	base := g.Base
	if base == "" {
		base = g.Outage.OutageID
	}
	n.ID = NoticeID(base, n.Kind, n.Patient.ID, n.AppointmentIDs())
	return n
}

// Each adapts the grouper to a Store.Affected callback: add takes each
// appointment, flush the end, and emit is called with every complete
// notice.
func (g *Grouper) Each(emit func(*Notice) error) (add func(AffectedAppointment) error, flush func() error) {
	add = func(a AffectedAppointment) error {
		if n := g.Add(a); n != nil {
			return emit(n)
		}
		return nil
	}
	flush = func() error {
		if n := g.Flush(); n != nil {
			return emit(n)
		}
		return nil
	}
	return add, flush
}
