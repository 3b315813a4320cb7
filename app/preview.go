package app

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// previewProgressEvery is how many appointments are read between two calls
// of PreviewOptions.Progress.
const previewProgressEvery = 1000

// PreviewOptions tune a preview.
type PreviewOptions struct {
	// Now is when urgency is judged (default: the current time).
	Now time.Time
	// Progress, when set, is told now and then how many affected
	// appointments have been read, and once more at the end.
	Progress func(appointments int)
	// Notice, when set, is given every notice the planner would write, in
	// planning order (their PlannedAt is Now).
	Notice func(*notifier.Notice)
}

// Preview is what an outage event would do if it were published now, as
// far as this worker's replica knows: whom it affects, how they would be
// reached first, and what they would read. It holds patient data (the
// samples): it is for the operator's screen, never for logs.
type Preview struct {
	OutageID string    `json:"outage_id"`
	Facility string    `json:"facility"`
	TimeZone string    `json:"time_zone"`
	Action   string    `json:"action"`
	From     time.Time `json:"from"`
	Until    time.Time `json:"until"`
	// AsOf is the time urgency was judged at.
	AsOf         time.Time `json:"as_of"`
	UrgentWithin string    `json:"urgent_within"`

	Appointments int `json:"appointments"`
	Patients     int `json:"patients"`
	// Departments and Days break the affected appointments down; a
	// patient with appointments in several counts in each.
	Departments []DepartmentCount `json:"departments"`
	Days        []DayCount        `json:"days"`
	// FirstChannels counts, per configured channel in order, the patients
	// it would be tried first for.
	FirstChannels []ChannelCount `json:"first_channels"`
	// CallListOnly counts the patients no configured channel can reach:
	// they go straight to the call list.
	CallListOnly int `json:"call_list_only"`
	// NoContact counts the patients with neither an e-mail address nor a
	// phone number.
	NoContact int `json:"no_contact"`
	// Urgent counts the patients whose earliest affected appointment
	// starts within UrgentWithin of AsOf.
	Urgent int `json:"urgent"`
	// Samples holds one rendered notice per language used, each for the
	// soonest patient of that language.
	Samples []Sample `json:"samples"`
}

// DepartmentCount is the share of one department. Departments that differ
// only in case are one, as outages compare them; Department is the first
// spelling met.
type DepartmentCount struct {
	Department   string `json:"department"`
	Appointments int    `json:"appointments"`
	Patients     int    `json:"patients"`
}

// DayCount is the share of one day, a date in the facility's time zone.
type DayCount struct {
	Day          string `json:"day"`
	Appointments int    `json:"appointments"`
	Patients     int    `json:"patients"`
}

// ChannelCount is how many patients a channel would be tried first for.
type ChannelCount struct {
	Channel  string `json:"channel"`
	Type     string `json:"type"`
	Patients int    `json:"patients"`
}

// Sample is a notice as one patient would read it.
type Sample struct {
	Language     string    `json:"language"`
	PatientID    string    `json:"patient_id"`
	Earliest     time.Time `json:"earliest"`
	Appointments int       `json:"appointments"`
	Subject      string    `json:"subject"`
	Text         string    `json:"text"`
}

// PreviewEvent previews ev against the replica in db: it streams the
// affected appointments once, counts them, and renders only the samples,
// so it stays fast for a large outage. It sends and writes nothing.
//
// For outage.updated it shows the event's whole scope, not only what is
// new since the earlier events; outage.resolved tells no one not to come
// and has no preview.
func PreviewEvent(ctx context.Context, db *store.DB, cfg *config.Config, ev *notifier.Event, o PreviewOptions) (*Preview, error) {
	if ev.Type == notifier.EventResolved {
		return nil, fmt.Errorf("%s tells no one not to come: only %s and %s events can be previewed",
			ev.Type, notifier.EventDeclared, notifier.EventUpdated)
	}
	out := &ev.Outage
	fac, err := cfg.Facility(out.Facility)
	if err != nil {
		return nil, err
	}
	loc, err := fac.Location()
	if err != nil {
		return nil, err
	}
	r, err := NewRenderer(cfg)
	if err != nil {
		return nil, err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	policy := cfg.Policy()
	c := &previewCounter{
		loc: loc, routes: routeLinks(cfg.Senders()), policy: policy, now: o.Now,
		// The planner's own grouping: the samples are the notices it would
		// write (a sensitive department's under its neutral label).
		g:     notifier.Grouper{Outage: out, Facility: fac, Kind: notifier.NoticeKind(out.Action), Languages: r.Languages(), Now: o.Now},
		depts: map[string]*DepartmentCount{}, days: map[civilDate]*DayCount{}, samples: map[string]*notifier.Notice{},
	}
	c.firsts = make([]int, len(c.routes))
	c.each = o.Notice
	err = db.Affected(ctx, out, func(a notifier.AffectedAppointment) error {
		c.add(a)
		if o.Progress != nil && c.p.Appointments%previewProgressEvery == 0 {
			o.Progress(c.p.Appointments)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n := c.g.Flush(); n != nil {
		c.finish(n)
	}
	if o.Progress != nil {
		o.Progress(c.p.Appointments)
	}
	p := &c.p
	p.OutageID, p.Facility, p.TimeZone, p.Action = out.OutageID, out.Facility, fac.TimeZone, out.Action
	p.From, p.Until, p.AsOf = out.From.In(loc), out.Until.In(loc), o.Now.In(loc)
	p.UrgentWithin = policy.UrgentWithin.String()
	p.Departments = sortedValues(c.depts, func(a, b *DepartmentCount) int {
		return cmp.Compare(strings.ToLower(a.Department), strings.ToLower(b.Department))
	})
	p.Days = sortedValues(c.days, func(a, b *DayCount) int { return cmp.Compare(a.Day, b.Day) })
	p.FirstChannels = make([]ChannelCount, len(c.routes))
	for i, l := range c.routes {
		p.FirstChannels[i] = ChannelCount{Channel: l.name, Type: l.typ, Patients: c.firsts[i]}
	}
	langs := slices.Sorted(maps.Keys(c.samples))
	p.Samples = make([]Sample, 0, len(langs))
	for _, l := range langs {
		n := c.samples[l]
		m, err := r.Render(n)
		if err != nil {
			return nil, err
		}
		p.Samples = append(p.Samples, Sample{Language: m.Language, PatientID: n.Patient.ID, Earliest: n.Earliest().In(loc),
			Appointments: len(n.AppointmentIDs()), Subject: m.Subject, Text: m.Text})
	}
	return p, nil
}

// sortedValues returns the map's values in the order cmp gives.
func sortedValues[K comparable, V any](m map[K]*V, cmp func(a, b *V) int) []V {
	ptrs := make([]*V, 0, len(m))
	for _, v := range m {
		ptrs = append(ptrs, v)
	}
	slices.SortFunc(ptrs, cmp)
	out := make([]V, len(ptrs))
	for i, v := range ptrs {
		out[i] = *v
	}
	return out
}

// civilDate is a day in the facility's time zone; cheaper to key a map by
// than a formatted date.
type civilDate struct {
	year  int
	month time.Month
	day   int
}

func (d civilDate) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.year, d.month, d.day) }

// previewCounter counts affected appointments as the store streams them,
// one patient after another, holding only the current patient's.
type previewCounter struct {
	p       Preview
	g       notifier.Grouper
	loc     *time.Location
	routes  []routeLink
	firsts  []int // patients per route link, in order
	policy  notifier.Policy
	now     time.Time
	depts   map[string]*DepartmentCount // by lower-cased department
	days    map[civilDate]*DayCount
	samples map[string]*notifier.Notice // by language
	each    func(*notifier.Notice)

	// The departments and days already counted for the patient being
	// read.
	curDepts []string
	curDays  []civilDate
}

// add counts one appointment; a patient's appointments come one after
// another, in time order.
func (c *previewCounter) add(a notifier.AffectedAppointment) {
	if n := c.g.Add(a); n != nil {
		c.finish(n)
	}
	c.p.Appointments++
	key := strings.ToLower(a.Department)
	d := c.depts[key]
	if d == nil {
		d = &DepartmentCount{Department: a.Department}
		c.depts[key] = d
	}
	d.Appointments++
	if !slices.Contains(c.curDepts, key) {
		c.curDepts = append(c.curDepts, key)
		d.Patients++
	}
	y, m, dd := a.Start.In(c.loc).Date()
	date := civilDate{y, m, dd}
	day := c.days[date]
	if day == nil {
		day = &DayCount{Day: date.String()}
		c.days[date] = day
	}
	day.Appointments++
	if !slices.Contains(c.curDays, date) {
		c.curDays = append(c.curDays, date)
		day.Patients++
	}
}

// finish counts a patient's complete notice.
func (c *previewCounter) finish(n *notifier.Notice) {
	if c.each != nil {
		c.each(n)
	}
	p := n.Patient
	c.p.Patients++
	if i := firstLink(c.routes, p); i >= 0 {
		c.firsts[i]++
	} else {
		c.p.CallListOnly++
	}
	if p.Email == "" && p.Phone == "" {
		c.p.NoContact++
	}
	if c.policy.Urgent(n.Earliest(), c.now) {
		c.p.Urgent++
	}
	if c.samples[n.Language] == nil {
		// The store yields patients soonest first, so the first of each
		// language is its soonest.
		c.samples[n.Language] = n
	}
	c.curDepts, c.curDays = c.curDepts[:0], c.curDays[:0]
}

// routeLink is a configured channel as a patient's route sees it.
type routeLink struct {
	name, typ string
	medium    notifier.Medium
}

// routeLinks lists the configured channels that send, in order; the call
// list is not one, it is where notices no channel took end up.
func routeLinks(channels []config.Channel) []routeLink {
	var out []routeLink
	for _, ch := range channels {
		if md, ok := ch.Medium(); ok {
			out = append(out, routeLink{name: ch.Name, typ: ch.Type, medium: md})
		}
	}
	return out
}

// firstLink returns the index of the channel the chain would try first for
// the patient (see notifier.Route), or -1 when none can reach them.
func firstLink(links []routeLink, p notifier.Patient) int {
	media := make([]notifier.Medium, len(links))
	for i, l := range links {
		media[i] = l.medium
	}
	if order := notifier.Route(media, p); len(order) > 0 {
		return order[0]
	}
	return -1
}
