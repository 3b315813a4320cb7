// Package templates writes notices as the messages patients read: a subject,
// a plain-text and an HTML part in German, English or Turkish, and a short
// text for SMS.
//
// Each language has one file in lang/ that defines its wording, piece by
// piece (subject, greeting, lead, …); the layouts in layout/ arrange the
// pieces once for plain text and once for HTML. The pieces that depend on
// the notice's kind are defined once per kind, named after it
// ("postponed/subject", "reinstated/subject", …); Render lays a notice out
// with its own kind's pieces, so the layouts name only "subject". The pieces
// are parsed into a text/template set and an html/template set, so the HTML
// part escapes every field of the notice while both parts say the same. Each
// kind also has a "short" piece, the SMS: the facility's short name, the
// earliest appointment and how many more there are, what to do and the
// hotline, in one GSM-7 message where the wording allows (see package sms),
// and never the patient's name or a department, as others may read a
// phone's screen.
package templates

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	// The zone database is built in, so that appointment times do not depend
	// on the zoneinfo files of the host or container the worker runs in.
	_ "time/tzdata"

	"github.com/postponement/notifier/internal/oneline"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/sms"
)

// Fallback is the language of a notice whose language has no templates.
const Fallback = "en"

//go:embed lang/*.tmpl layout/*.tmpl
var files embed.FS

// kinds are the kinds of notice the renderer has wording for.
var kinds = []string{notifier.KindPostponed, notifier.KindCancelled, notifier.KindReinstated, notifier.KindResumed}

// kindPieces are the pieces each language defines once per kind, as
// "<kind>/<piece>". The other pieces (greeting, contact, …) say the same
// whatever the kind.
var kindPieces = []string{"subject", "lead", "instruction", "listed", "short"}

// sharedPieces are the pieces every language defines once, whatever the
// kind: New refuses a language without one of them.
var sharedPieces = []string{"greeting", "contact", "signoff", "automatic", "unlisted",
	"confirm-ask", "confirm-button", "confirm-short",
	"confirm-page/title", "confirm-page/ask", "confirm-page/done", "confirm-page/expired",
	"confirm-page/invalid", "confirm-page/later"}

// Renderer renders notices with the embedded templates. It is safe for
// concurrent use once set up.
type Renderer struct {
	langs map[string]language
	// ConfirmURL, when set, is the personal confirmation link of a notice:
	// every notice then asks its patient to confirm reading it, in the
	// e-mail and, where it still fits one message, in the SMS.
	ConfirmURL func(noticeID string) string

	mu      sync.Mutex
	outages map[outageKey]*outagePieces
}

var _ notifier.Renderer = (*Renderer)(nil)

// language is one language's templates, one set for each kind of notice.
type language map[string]*set

// set is one language's pieces for one kind of notice, laid out for each
// part: the templates Render executes, looked up once.
type set struct {
	subject, short, text, confirmShort *texttemplate.Template
	html                               *htmltemplate.Template
	// contact and automatic are the pieces Render writes once per outage.
	contact, automatic         *texttemplate.Template
	contactHTML, automaticHTML *htmltemplate.Template
	// page is the confirmation page.
	page *htmltemplate.Template
}

// buffers hold the parts of a message while Render writes them.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBuffer returns buf to buffers, unless an unusual notice grew it.
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		buf.Reset()
		buffers.Put(buf)
	}
}

// New parses the embedded templates of every language. It fails only when
// the templates themselves are broken, which the tests rule out.
func New() (*Renderer, error) {
	paths, err := fs.Glob(files, "lang/*.tmpl")
	if err != nil {
		return nil, err
	}
	r := &Renderer{langs: make(map[string]language, len(paths))}
	for _, p := range paths {
		code := strings.TrimSuffix(path.Base(p), ".tmpl")
		_, ok := locales[code]
		if !ok {
			return nil, fmt.Errorf("templates: %s: no locale %q for its dates", p, code)
		}
		text, err := texttemplate.New(code).ParseFS(files, "layout/text.tmpl", p)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		html, err := htmltemplate.New(code).ParseFS(files, "layout/html.tmpl", "layout/confirm.tmpl", p)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if missing := missingPieces(text); len(missing) > 0 {
			return nil, fmt.Errorf("templates: %s: no %s", p, strings.Join(missing, ", "))
		}
		lang := make(language, len(kinds))
		for _, kind := range kinds {
			if lang[kind], err = bind(kind, text, html); err != nil {
				return nil, fmt.Errorf("templates: %s: %w", p, err)
			}
		}
		r.langs[code] = lang
	}
	if r.langs[Fallback] == nil {
		return nil, fmt.Errorf("templates: no templates for the fallback language %q", Fallback)
	}
	return r, nil
}

// missingPieces lists the kinds' pieces that t, a language's templates, does
// not define: New refuses such a language rather than Render failing on
// every notice of that kind.
func missingPieces(t *texttemplate.Template) []string {
	var missing []string
	for _, name := range sharedPieces {
		if t.Lookup(name) == nil {
			missing = append(missing, strconv.Quote(name))
		}
	}
	for _, kind := range kinds {
		for _, piece := range kindPieces {
			if name := kind + "/" + piece; t.Lookup(name) == nil {
				missing = append(missing, strconv.Quote(name))
			}
		}
	}
	return missing
}

// bind returns copies of a language's templates in which each of
// kindPieces is the kind's own: "subject" is "reinstated/subject". The
// pieces take the kind's parse trees rather than calling the kind's
// templates, which would cost a call each time; html/template gets copies
// of them, as it escapes each template's tree in place.
func bind(kind string, text *texttemplate.Template, html *htmltemplate.Template) (*set, error) {
	t, err := text.Clone()
	if err != nil {
		return nil, err
	}
	h, err := html.Clone()
	if err != nil {
		return nil, err
	}
	for _, piece := range kindPieces {
		name := kind + "/" + piece
		if _, err := t.AddParseTree(piece, t.Lookup(name).Tree); err != nil {
			return nil, err
		}
		if _, err := h.AddParseTree(piece, h.Lookup(name).Tree.Copy()); err != nil {
			return nil, err
		}
	}
	return &set{
		subject:      t.Lookup("subject"),
		short:        t.Lookup("short"),
		text:         t.Lookup("text.tmpl"),
		confirmShort: t.Lookup("confirm-short"),
		html:         h.Lookup("html.tmpl"),
		page:         h.Lookup("confirm.tmpl"),

		contact:       t.Lookup("contact"),
		automatic:     t.Lookup("automatic"),
		contactHTML:   h.Lookup("contact"),
		automaticHTML: h.Lookup("automatic"),
	}, nil
}

// Languages lists the codes of the languages the renderer writes, sorted.
func (r *Renderer) Languages() []string {
	return slices.Sorted(maps.Keys(r.langs))
}

// Render writes n in its language, or in Fallback when there are no
// templates for it; Message.Language says which. A notice that cannot be
// written as it is (no appointments, a kind without wording, an unknown time
// zone) yields an error wrapping notifier.ErrInvalid.
func (r *Renderer) Render(n *notifier.Notice) (*notifier.Message, error) {
	m, err := r.render(n)
	if err != nil {
		return nil, fmt.Errorf("render notice %s: %w", n.ID, err)
	}
	return m, nil
}

func (r *Renderer) render(n *notifier.Notice) (*notifier.Message, error) {
	code, lang := r.language(n.Language)
	tmpl := lang[n.Kind]
	if tmpl == nil {
		return nil, fmt.Errorf("%w: kind %q has no wording", notifier.ErrInvalid, n.Kind)
	}
	v, err := newView(n, code, locales[code])
	if err != nil {
		return nil, err
	}
	if r.ConfirmURL != nil {
		v.ConfirmURL = r.ConfirmURL(n.ID)
	}
	p, err := r.outagePieces(tmpl, outage{v.Hotline, v.HotlineGlued, v.HotlineDial, v.InfoURL})
	if err != nil {
		return nil, err
	}
	v.Contact, v.Automatic, v.ContactHTML, v.AutomaticHTML = p.contact, p.automatic, p.contactHTML, p.automaticHTML
	// The parts go into one buffer, then into one string that the HTML
	// part keeps and the others are cut from.
	buf := buffers.Get().(*bytes.Buffer)
	defer putBuffer(buf)
	var ends [3]int
	for i, t := range []*texttemplate.Template{tmpl.subject, tmpl.short, tmpl.text} {
		if err := t.Execute(buf, v); err != nil {
			return nil, err
		}
		ends[i] = buf.Len()
	}
	if err := tmpl.html.Execute(buf, v); err != nil {
		return nil, err
	}
	out := buf.String()
	subject, short, text, html := out[:ends[0]], out[ends[0]:ends[1]], out[ends[1]:ends[2]], out[ends[2]:]
	sms, link := withLink(oneline.String(short), tmpl, v)
	return &notifier.Message{
		NoticeID: n.ID,
		Language: code,
		To: notifier.Recipient{
			Name:  n.Patient.Name,
			Email: n.Patient.Email,
			Phone: n.Patient.Phone,
		},
		Subject: oneline.String(subject),
		Text:    tidy(text),
		HTML:    html,
		Short:   sms,
		Notice:  n,
		// The e-mail always carries the link; the SMS when it fits.
		ConfirmURL:   v.ConfirmURL,
		ShortHasLink: link,
	}, nil
}

// withLink is the SMS with the confirmation link, when there is one and the
// SMS still takes one message with it; else the SMS as it was. ok says
// whether it took the link.
func withLink(short string, tmpl *set, v *view) (text string, ok bool) {
	if v.ConfirmURL == "" {
		return short, false
	}
	var ask strings.Builder
	if err := tmpl.confirmShort.Execute(&ask, v); err != nil {
		return short, false
	}
	long := short + " " + oneline.String(ask.String()) + " " + v.ConfirmURL
	if _, n := sms.Segments(long); n != 1 {
		return short, false
	}
	return long, true
}

// ConfirmPage is what the page a confirmation link opens shows.
type ConfirmPage struct {
	// Lang is the patient's language; the page falls back as notices do.
	Lang string
	// Facility, Hotline and InfoURL are the facility's and the outage's.
	Facility, Hotline, InfoURL string
	// State is ConfirmAsk, ConfirmDone, ConfirmExpired, ConfirmLater or
	// ConfirmInvalid.
	State string
}

// Confirmation page states.
const (
	ConfirmAsk     = "ask"
	ConfirmDone    = "done"
	ConfirmExpired = "expired"
	ConfirmLater   = "later"
	ConfirmInvalid = "invalid"
)

// WriteConfirmPage writes the confirmation page in p's language.
func (r *Renderer) WriteConfirmPage(w io.Writer, p ConfirmPage) error {
	code, lang := r.language(p.Lang)
	p.Lang = code
	return lang[notifier.KindPostponed].page.Execute(w, p)
}

// language is the code and templates of the language tag, or of Fallback
// when there are none for it. The worker passes base tags already; "de-DE"
// or "DE" are read as "de" all the same, rather than falling back to
// English.
func (r *Renderer) language(tag string) (string, language) {
	code := strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(code, "-_"); i >= 0 {
		code = code[:i]
	}
	if lang := r.langs[code]; lang != nil {
		return code, lang
	}
	return Fallback, r.langs[Fallback]
}

// view is what the templates see of a notice: only what a patient may read,
// with the appointments in order and in the facility's local time.
type view struct {
	Lang string
	// Many is whether the notice is about more than one appointment, and
	// More how many there are besides the earliest.
	Many bool
	More int
	// Unlisted is how many of the appointments the notice does not list
	// (beyond notifier.MaxNoticeAppointments): the patient is asked to
	// call about them.
	Unlisted int
	Name     string
	// Facility names the facility in the long notice, and FacilityShort in
	// the SMS, where every character counts.
	Facility      string
	FacilityShort string
	Earliest      time.Time
	// Day is the day of Earliest for subject lines, Brief its day and time
	// for an SMS, both written in the language's way.
	Day, Brief   string
	Appointments []appointment
	// The hotline and the info URL, as outage has them. Fields of view
	// itself: text/template finds a promoted field through reflection's
	// search of embedded structs, which allocates on every lookup.
	Hotline, HotlineGlued, HotlineDial, InfoURL string
	Note                                        string
	// ConfirmURL is the notice's confirmation link, if any.
	ConfirmURL string
	// Contact and Automatic are those pieces of the plain-text part, and
	// ContactHTML and AutomaticHTML of the HTML part, as written for the
	// notice's outage.
	Contact, Automatic         string
	ContactHTML, AutomaticHTML htmltemplate.HTML
}

// appointment is one line of a notice's list.
type appointment struct {
	Start time.Time
	// When is Start as the language writes an appointment's start.
	When string
	// Place is the department and the location, as far as they are known.
	Place string
}

// newView checks n and prepares it for the templates of lang.
func newView(n *notifier.Notice, lang string, l *locale) (*view, error) {
	if len(n.Appointments) == 0 {
		return nil, fmt.Errorf("%w: no appointments", notifier.ErrInvalid)
	}
	// An empty zone would load as UTC and "Local" as the host's zone: both
	// would print times that are off by hours without any error.
	if n.TimeZone == "" || n.TimeZone == "Local" {
		return nil, fmt.Errorf("%w: time zone %q: not an IANA time zone", notifier.ErrInvalid, n.TimeZone)
	}
	loc, err := loadLocation(n.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("%w: time zone %q: %w", notifier.ErrInvalid, n.TimeZone, err)
	}
	facility := cmp.Or(strings.TrimSpace(n.FacilityName), n.Facility)
	v := &view{
		Lang:          lang,
		Many:          len(n.Appointments)+len(n.MoreAppointmentIDs) > 1,
		More:          len(n.Appointments) + len(n.MoreAppointmentIDs) - 1,
		Unlisted:      len(n.MoreAppointmentIDs),
		Name:          strings.TrimSpace(n.Patient.Name),
		Facility:      facility,
		FacilityShort: cmp.Or(strings.TrimSpace(n.FacilityShortName), facility),
		Hotline:       strings.TrimSpace(n.Hotline),
		InfoURL:       strings.TrimSpace(n.InfoURL),
		Note:          strings.TrimSpace(n.Note),
	}
	for _, a := range n.Appointments {
		var place []string
		for _, s := range []string{a.Department, a.Location} {
			if s = strings.TrimSpace(s); s != "" {
				place = append(place, s)
			}
		}
		if a.Neutral {
			// A sensitive department: say where without saying what.
			place = []string{neutralPlace[lang]}
		}
		start := a.Start.In(loc)
		v.Appointments = append(v.Appointments, appointment{
			Start: start,
			When:  l.when(start),
			Place: strings.Join(place, ", "),
		})
	}
	slices.SortStableFunc(v.Appointments, func(a, b appointment) int { return a.Start.Compare(b.Start) })
	v.Earliest = v.Appointments[0].Start
	v.Day, v.Brief = l.day(v.Earliest), l.brief(v.Earliest)
	v.HotlineGlued, v.HotlineDial = glue(v.Hotline), dial(v.Hotline)
	return v, nil
}

// dial turns a hotline as people write it ("0211 81-0") into the digits of
// a tel: link ("0211810"), keeping a "+".
func dial(hotline string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' {
			return r
		}
		return -1
	}, hotline)
}

// zones caches time zones by name: loading one reads the zone database,
// and every notice of a facility asks for the same zone.
var zones sync.Map // name → *time.Location

func loadLocation(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// HotlineGlued is the hotline that never wraps, as notices write it.
func (p ConfirmPage) HotlineGlued() string { return glue(p.Hotline) }

// HotlineDial is the hotline's digits for a tel: link.
func (p ConfirmPage) HotlineDial() string { return dial(p.Hotline) }
