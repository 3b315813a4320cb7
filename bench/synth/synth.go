// Package synth makes a synthetic hospital's appointments for benchmarks.
//
// A Set is seeded, so the same Options give the same records in the same
// order (times relative to the window's start), and it is shaped so that its
// Outage affects exactly Options.Affected of them: the others lie outside
// the window, or inside it in a department, kind or status the outage does
// not cover. Records are made one at a time, so a set of ten million costs
// no memory.
package synth

import (
	"errors"
	"fmt"
	"time"

	"github.com/postponement/notifier/notifier"
)

// Options shape a set.
type Options struct {
	// Appointments is how many records the set has.
	Appointments int
	// Affected is how many of them the outage affects.
	Affected int
	// PatientsWithTwo is the share (0 to 1) of affected patients with two
	// affected appointments; the others have one.
	PatientsWithTwo float64
	// Seed picks the set; the same seed gives the same records.
	Seed uint64
	// Facility is the records' facility (default "ukd").
	Facility string
	// From is the start of the outage window (required); appointment times
	// are laid out in its time zone.
	From time.Time
	// Days is the window's length in days (default 7).
	Days int
}

// Departments the outage covers, and the one it leaves running.
var (
	covered    = []string{"cardiology", "oncology", "radiology", "orthopaedics", "neurology", "dermatology", "urology", "gastroenterology"}
	notCovered = "dialysis"
	every      = append(covered[:len(covered):len(covered)], notCovered)
)

// outsideDays is how far before and after the window the other
// appointments are spread: a replica holds history and future bookings.
const outsideDays = 180

// Set is a planned set of records; Records walks it.
type Set struct {
	o Options
	// pairs patients have two affected appointments, singles one.
	pairs, singles int
	// excluded records lie in the window but out of the outage's scope.
	excluded int
	patients int
	until    time.Time
}

// New checks o and plans the set.
func New(o Options) (*Set, error) {
	if o.Facility == "" {
		o.Facility = "ukd"
	}
	if o.Days <= 0 {
		o.Days = 7
	}
	switch {
	case o.From.IsZero():
		return nil, errors.New("synth: no window start")
	case o.Appointments <= 0 || o.Affected <= 0:
		return nil, errors.New("synth: appointments and affected must be positive")
	case o.Affected > o.Appointments:
		return nil, fmt.Errorf("synth: %d affected of %d appointments", o.Affected, o.Appointments)
	case o.PatientsWithTwo < 0 || o.PatientsWithTwo > 1:
		return nil, fmt.Errorf("synth: patients with two: %v is not a share between 0 and 1", o.PatientsWithTwo)
	}
	// With p patients of whom a share f have two appointments,
	// affected = p·(1+f), so pairs = f·affected/(1+f), rounded.
	pairs := int(o.PatientsWithTwo*float64(o.Affected)/(1+o.PatientsWithTwo) + 0.5)
	s := &Set{o: o, pairs: pairs, singles: o.Affected - 2*pairs}
	others := o.Appointments - o.Affected
	// A quarter as many again as are affected are in the window but out of
	// scope, however large the replica: the index must skip them, and the
	// rest of the replica must not be read at all.
	s.excluded = min(others, o.Affected/4)
	s.patients = max(s.Notices(), o.Appointments/2)
	s.until = o.From.AddDate(0, 0, o.Days)
	return s, nil
}

// Len is the number of records.
func (s *Set) Len() int { return s.o.Appointments }

// Notices is the number of affected patients: one notice each.
func (s *Set) Notices() int { return s.pairs + s.singles }

// Pairs is the number of affected patients with two affected appointments.
func (s *Set) Pairs() int { return s.pairs }

// Outage is the outage that affects exactly Options.Affected records.
func (s *Set) Outage(id, hotline string) notifier.Outage {
	return notifier.Outage{
		OutageID: id, Facility: s.o.Facility, From: s.o.From, Until: s.until,
		Departments: append([]string(nil), covered...), Kinds: []string{"outpatient", "elective"},
		Action: notifier.ActionPostpone, Hotline: hotline, InfoURL: "https://example.org/outage",
	}
}

// Records walks the set from the first record.
func (s *Set) Records() *Records {
	return &Records{s: s, rng: rng{state: s.o.Seed ^ 0x9e3779b97f4a7c15},
		singles: s.singles, pairMembers: 2 * s.pairs, excluded: s.excluded,
		outside: s.o.Appointments - s.o.Affected - s.excluded}
}

// Records yields a set's records in order.
type Records struct {
	s   *Set
	rng rng
	i   int
	// What is left to hand out, by role.
	singles, pairMembers, excluded, outside int
	// pairsStarted counts pair members handed out; two in a row share a
	// patient.
	pairsStarted, singlesDone int
}

// Next returns the next record, and false after the last.
func (r *Records) Next() (notifier.Appointment, bool) {
	left := r.singles + r.pairMembers + r.excluded + r.outside
	if left == 0 {
		return notifier.Appointment{}, false
	}
	// Drawing each role in proportion to what is left of it lays the roles
	// out in a uniformly random order with exact counts.
	n := r.rng.intN(left)
	id := r.i
	r.i++
	switch {
	case n < r.singles:
		r.singles--
		p := r.s.pairs + r.singlesDone
		r.singlesDone++
		return r.affected(id, p), true
	case n < r.singles+r.pairMembers:
		r.pairMembers--
		p := r.pairsStarted / 2
		r.pairsStarted++
		return r.affected(id, p), true
	case n < r.singles+r.pairMembers+r.excluded:
		r.excluded--
		return r.outOfScope(id), true
	default:
		r.outside--
		return r.outsideWindow(id), true
	}
}

// affected is an active, covered appointment in the window.
func (r *Records) affected(id, patient int) notifier.Appointment {
	a := r.base(id, patient, r.inWindow())
	a.Department = covered[r.rng.intN(len(covered))]
	a.Status = []string{"booked", "booked", "booked", "booked", "pending", "arrived", "checked-in"}[r.rng.intN(7)]
	a.Kind = []string{"outpatient", "outpatient", "elective"}[r.rng.intN(3)]
	return a
}

// outOfScope is in the window but in a department, kind or status the
// outage does not cover, one of the three in turn.
func (r *Records) outOfScope(id int) notifier.Appointment {
	a := r.base(id, r.rng.intN(r.s.patients), r.inWindow())
	a.Department, a.Status, a.Kind = covered[r.rng.intN(len(covered))], "booked", "outpatient"
	switch id % 3 {
	case 0:
		a.Department = notCovered
	case 1:
		a.Status = []string{"cancelled", "fulfilled", "noshow", "proposed"}[r.rng.intN(4)]
	default:
		a.Kind = notifier.KindInpatient
	}
	return a
}

// outsideWindow is any appointment before or after the window.
func (r *Records) outsideWindow(id int) notifier.Appointment {
	day := 1 + r.rng.intN(outsideDays)
	var start time.Time
	if r.rng.intN(2) == 0 {
		start = r.s.o.From.AddDate(0, 0, -day)
	} else {
		start = r.s.until.AddDate(0, 0, day-1)
	}
	a := r.base(id, r.rng.intN(r.s.patients), r.slot(start))
	a.Department = every[r.rng.intN(len(every))]
	a.Status = []string{"booked", "booked", "fulfilled", "cancelled"}[r.rng.intN(4)]
	a.Kind = []string{"outpatient", "elective", notifier.KindInpatient}[r.rng.intN(3)]
	return a
}

// inWindow is a start time on a day of the window.
func (r *Records) inWindow() time.Time {
	return r.slot(r.s.o.From.AddDate(0, 0, r.rng.intN(r.s.o.Days)))
}

// slot is a five-minute slot between 07:00 and 18:00 on day's date.
func (r *Records) slot(day time.Time) time.Time {
	y, m, d := day.Date()
	minute := 7*60 + 5*r.rng.intN(11*12)
	return time.Date(y, m, d, minute/60, minute%60, 0, 0, day.Location())
}

func (r *Records) base(id, patient int, start time.Time) notifier.Appointment {
	return notifier.Appointment{
		ID:       fmt.Sprintf("A-%d", id),
		Facility: r.s.o.Facility,
		Location: fmt.Sprintf("Building %d, level %d", 1+id%17, id%5),
		Start:    start,
		End:      start.Add(30 * time.Minute),
		Patient:  Patient(patient),
	}
}

// Patient is the patient numbered n: the same data in every record, so
// that the freshest record's contact data is no different from the others.
func Patient(n int) notifier.Patient {
	h := mix(uint64(n) + 1)
	return notifier.Patient{
		ID:       fmt.Sprintf("P-%d", n),
		Name:     firstNames[h%uint64(len(firstNames))] + " " + lastNames[(h>>16)%uint64(len(lastNames))],
		Language: []string{"de", "de", "de", "de", "de", "de", "de", "en", "en", "tr"}[(h>>32)%10],
		Email:    fmt.Sprintf("p%d@example.org", n),
		Phone:    fmt.Sprintf("+49 211 %07d", n%10_000_000),
	}
}

var (
	firstNames = []string{"Jana", "Lukas", "Ayşe", "Mehmet", "Sophie", "Jürgen", "Emily", "Noah", "Zeynep", "Grete"}
	lastNames  = []string{"Müller", "Schmidt", "Yılmaz", "Kaya", "Weber", "Schäfer", "Smith", "Öztürk", "Becker", "Hoffmann"}
)

// rng is splitmix64: tiny, fast and the same on every platform.
type rng struct{ state uint64 }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix(r.state)
}

// intN is a number in [0, n); the bias for n far below 2⁶⁴ is negligible.
func (r *rng) intN(n int) int { return int(r.next() % uint64(n)) }

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
