package web

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// refreshSeconds is how often the status page reloads itself.
const refreshSeconds = 5

// Layouts of times on the page, always followed by the zone's abbreviation.
// The weekday helps: "the soonest is Thursday morning".
const (
	dateTimeLayout = "Mon 2006-01-02 15:04 MST"
	clockLayout    = "15:04:05 MST"
)

//go:embed status.html.tmpl
var statusSource string

//go:embed style.css
var styleSheet []byte

// statusTemplate escapes every value it is given.
var statusTemplate = template.Must(template.New("status").Parse(statusSource))

// pageData is what the status page shows, every time already written in
// its zone.
type pageData struct {
	Refresh   int
	Generated string
	Outages   []pageOutage
	Channels  []pageChannel
	// NotReady lists why the worker is not ready, empty when it is.
	NotReady []string
}

// pageOutage is one outage's section.
type pageOutage struct {
	ID, Title, State, Action string
	// Facility and ApprovalScope say how to approve a held outage.
	Facility, ApprovalScope string
	// Planning is true while the outage's first event is being planned.
	Planning bool
	// From and Until bound the window; Until is empty when From says
	// all there is to say.
	From, Until, Zone, Scope string
	Hotline                  string

	Planned, Delivered, Manual, Pending string
	DeliveredShare, ManualShare         string
	PendingShare                        string
	Bar                                 []barPart
	BarLabel                            string
	ByChannel                           []pageCount
	ByKind                              []pageCount

	Phase, Progress string
	Rate, Finish    string
	EarliestPending string
	PendingOverdue  bool
	EarliestManual  string
	// Confirmed and FailedAfterAccept are what patients and channels said
	// after the notices went out; EarliestUnreached is the soonest
	// appointment of a patient who has not confirmed.
	Confirmed, FailedAfterAccept string
	EarliestUnreached            string
	// Calls says where staff stand with the call list, or "" when it is
	// empty.
	Calls string
	Links apiLinks
}

// barPart is one coloured stretch of the progress bar, in a 0–1000 wide
// SVG: plain attributes, no inline style for the policy to refuse.
type barPart struct {
	Class string
	X, W  int
}

// pageCount is a named count.
type pageCount struct {
	Name, N string
}

// pageChannel is one row of the channels' table.
type pageChannel struct {
	Name, Medium, State, StateClass, Breaker string
	Failures                                 uint32
	LastFailure, LastReason                  string
}

// statusPage serves the page for people.
func (s *server) statusPage(w http.ResponseWriter, r *http.Request) {
	now := s.Now()
	list, err := s.DB.OutageStatuses(r.Context(), now.Add(-rateWindow))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := pageData{Refresh: refreshSeconds, Generated: now.In(s.home).Format(clockLayout)}
	for _, o := range list {
		data.Outages = append(data.Outages, s.pageOutage(o, now))
	}
	for _, h := range s.Health() {
		data.Channels = append(data.Channels, s.pageChannel(h, now))
	}
	data.NotReady = s.notReady(r.Context())
	var b bytes.Buffer
	if err := statusTemplate.Execute(&b, data); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

func (s *server) pageOutage(o store.OutageStatus, now time.Time) pageOutage {
	loc := s.zone(o.Outage.Facility)
	p := pace(o, now)
	out := pageOutage{
		ID: o.Outage.OutageID, Title: cmp.Or(s.Facilities[o.Outage.Facility].Name, o.Outage.Facility),
		State: o.State, Action: o.Outage.Action,
		Facility: o.Outage.Facility, ApprovalScope: o.Outage.Scope,
		Zone:    loc.String(),
		Scope:   departments(o.Outage.Departments) + "; " + kinds(o.Outage.Kinds),
		Hotline: o.Outage.Hotline,
		Planned: count(o.Planned), Delivered: count(o.Delivered), Manual: count(o.Manual), Pending: count(o.Pending),
		DeliveredShare: share(o.Delivered, o.Planned), ManualShare: share(o.Manual, o.Planned), PendingShare: share(o.Pending, o.Planned),
		Bar:      bar(o),
		BarLabel: fmt.Sprintf("%d of %d notices delivered, %d on the call list, %d pending", o.Delivered, o.Planned, o.Manual, o.Pending),
		Phase:    p.Phase,
		Links:    outageLinks(o.Outage.OutageID),
	}
	out.From, out.Until = window(o.Outage.From, o.Outage.Until, loc)
	if o.State == store.StatePlanning {
		out.Planning = true
		out.From, out.Until = "known once its first event is planned", ""
		out.Scope = out.From
	}
	for _, name := range slices.Sorted(maps.Keys(o.ByChannel)) {
		out.ByChannel = append(out.ByChannel, pageCount{name, count(o.ByChannel[name])})
	}
	for _, kind := range slices.Sorted(maps.Keys(o.ByKind)) {
		out.ByKind = append(out.ByKind, pageCount{kind, count(o.ByKind[kind])})
	}
	if p.PerMinute > 0 {
		out.Rate = rate(p.PerMinute) + " per minute"
	}
	switch p.Phase {
	case phaseWaiting:
		out.Progress = "No notice planned yet: the outage is being planned, or it affects no appointment."
	case phaseStarting:
		out.Progress = "Notices planned; no outcome yet."
	case phaseStalled:
		out.Progress = fmt.Sprintf("No notice finished in the last %s. Check the channels below.", duration(rateWindow))
	case phaseDone:
		out.Progress = "Every notice has an outcome."
		if !o.LastOutcome.IsZero() {
			out.Finish = "finished " + o.LastOutcome.In(loc).Format(dateTimeLayout)
		}
	default:
		out.Progress = "Sending."
	}
	if p.Remaining > 0 {
		out.Finish = fmt.Sprintf("about %s to go, around %s", duration(p.Remaining), now.Add(p.Remaining).In(loc).Format(clockLayout))
	}
	out.EarliestPending = when(o.EarliestPending, loc, now)
	out.PendingOverdue = !o.EarliestPending.IsZero() && o.EarliestPending.Before(now)
	out.EarliestManual = when(o.EarliestManual, loc, now)
	out.Confirmed, out.FailedAfterAccept = count(o.Confirmed), count(o.FailedAfterAccept)
	out.EarliestUnreached = when(o.EarliestUnreached, loc, now)
	if c := o.Calls; c.Total() > 0 {
		out.Calls = fmt.Sprintf("%s to call, %s to try again later, %s being called, %s reached, %s unreachable",
			count(c.ToCall), count(c.Later), count(c.Claimed), count(c.Reached), count(c.Unreachable))
	}
	return out
}

// when is t in the facility's time and relative to now, or "" for zero.
func when(t time.Time, loc *time.Location, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(dateTimeLayout) + " (" + relative(t, now) + ")"
}

func (s *server) pageChannel(h notifier.ChannelHealth, now time.Time) pageChannel {
	c := pageChannel{Name: h.Name, Medium: string(h.Medium), State: h.State, Breaker: h.Breaker,
		Failures: h.ConsecutiveFailures, LastReason: h.LastFailureReason}
	c.StateClass = map[string]string{
		notifier.ChannelUp: "up", notifier.ChannelFailing: "failing",
		notifier.ChannelBreakerOpen: "open", notifier.ChannelRateLimited: "limited",
	}[h.State]
	if !h.LastFailure.IsZero() {
		c.LastFailure = h.LastFailure.In(s.home).Format(dateTimeLayout) + " (" + relative(h.LastFailure, now) + ")"
	}
	return c
}

// bar divides the progress bar among delivered, manual and pending
// notices. A share too thin to see still gets a sliver.
func bar(o store.OutageStatus) []barPart {
	if o.Planned == 0 {
		return []barPart{{Class: "pending", W: 1000}}
	}
	var parts []barPart
	x := 0
	for _, p := range []struct {
		class string
		n     int
	}{{"delivered", o.Delivered}, {"manual", o.Manual}, {"pending", o.Pending}} {
		if p.n == 0 {
			continue
		}
		w := max(p.n*1000/o.Planned, 4)
		parts = append(parts, barPart{Class: p.class, X: x, W: w})
		x += w
	}
	// The last stretch ends the bar exactly, whatever rounding did.
	if n := len(parts); n > 0 {
		parts[n-1].W = max(1000-parts[n-1].X, 0)
	}
	return parts
}

// window writes an outage's bounds in its zone, or, when they are not
// both known, a text that says what is.
func window(from, until time.Time, loc *time.Location) (string, string) {
	switch {
	case !from.IsZero() && !until.IsZero():
		return from.In(loc).Format(dateTimeLayout), until.In(loc).Format(dateTimeLayout)
	case !from.IsZero():
		return "from " + from.In(loc).Format(dateTimeLayout), ""
	}
	return "not given", ""
}

// departments writes an outage's departments.
func departments(d []string) string {
	if len(d) == 0 || (len(d) == 1 && d[0] == notifier.AllDepartments) {
		return "all departments"
	}
	return strings.Join(d, ", ")
}

// kinds writes an outage's appointment kinds by the planner's rule.
func kinds(k []string) string {
	if len(k) == 0 {
		return "every kind but " + notifier.KindInpatient
	}
	return strings.Join(k, ", ")
}

// count writes n with its thousands apart (narrow no-break spaces), which
// reads the same in English and German.
func count(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// share writes n of total as a whole percentage, "<1%" rather than a
// misleading 0% when some exist.
func share(n, total int) string {
	switch {
	case total == 0:
		return "0%"
	case n > 0 && n*100 < total:
		return "<1%"
	}
	return strconv.Itoa(n*100/total) + "%"
}

// rate writes a per-minute rate: whole above ten, one decimal below.
func rate(perMinute float64) string {
	if perMinute >= 10 {
		return count(int(perMinute + 0.5))
	}
	return strconv.FormatFloat(perMinute, 'f', 1, 64)
}

// duration writes d coarsely: people plan in minutes and hours.
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute).Minutes()))
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	d = d.Round(time.Hour)
	days, h := int(d.Hours())/24, int(d.Hours())%24
	if h == 0 {
		return fmt.Sprintf("%d d", days)
	}
	return fmt.Sprintf("%d d %d h", days, h)
}

// relative writes how far t is from now: "in 3 h" or "3 h ago".
func relative(t, now time.Time) string {
	if t.Before(now) {
		return duration(now.Sub(t)) + " ago"
	}
	return "in " + duration(t.Sub(now))
}

// serveStyle serves the status page's style sheet.
func serveStyle(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=300")
	w.Write(styleSheet)
}
