package calllist

import (
	"cmp"
	_ "embed"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// htmlTimeLayout is how the page writes times, in the outage's time zone.
// The weekday helps staff on the phone ("your appointment on Tuesday").
const htmlTimeLayout = "Mon 2006-01-02 15:04"

//go:embed page.html.tmpl
var pageSource string

// page is the HTML template; it escapes every field it is given.
var page = template.Must(template.New("page").Funcs(template.FuncMap{"rowForm": newRowForm}).Parse(pageSource))

// rowForm is what a row's forms are written from.
type rowForm struct {
	Live     *Worklist
	Row      pageRow
	Outcomes []outcomeButton
}

func newRowForm(live *Worklist, row pageRow, outcomes []outcomeButton) rowForm {
	return rowForm{live, row, outcomes}
}

// WriteSignIn writes a page with only the sign-in form, for browsers that
// cannot reach the call list before signing in. It has the call list's
// style sheet, so the page's policy allows both.
func WriteSignIn(w io.Writer, live Worklist) error {
	return page.ExecuteTemplate(w, "signin-page", &live)
}

// pageData is what the page shows, every time already written in the
// outage's zone.
type pageData struct {
	Facility, OutageID, Hotline string
	Window, Generated, Zone     string
	Urgent                      int
	Counts                      notifier.CallCounts
	Rows                        []pageRow
	// Live is set on the worklist served to staff, nil in the files.
	Live *Worklist
	// Outcomes are the buttons of a row's form.
	Outcomes []outcomeButton
}

// outcomeButton is one outcome staff can record.
type outcomeButton struct{ Value, Label string }

// Worklist is what the page served to staff adds to the printable list:
// who is signed in, and forms to claim rows and record how calls went.
// The forms are plain HTML posting to Action; the page needs no script.
type Worklist struct {
	// Action is the URL the rows' forms post to, Login the sign-in form's
	// and Logout the sign-out form's.
	Action, Login, Logout string
	// Next is the page's own path, where signing in returns to.
	Next string
	// Caller is the signed-in staff member's name, "" when nobody is.
	Caller string
	// Off, when set, says why nobody can sign in: then the page is only
	// read.
	Off string
	// Message says what the last write did or why it was refused.
	Message string
}

// pageRow is one row of the page's table.
type pageRow struct {
	N                         int
	Earliest                  string
	Name, PatientID, NoticeID string
	Phone                     string
	Tel                       template.URL
	Language                  string
	Appointments, Reasons     []string
	Urgent                    bool
	Added                     string
	Status, StatusText        string
	Finished                  bool
	// ClaimedBy is the row's holder while somebody holds it; Mine says
	// it is the signed-in staff member.
	ClaimedBy string
	Mine      bool
	Seq       uint64
}

// WriteHTML writes the call list as a page to print or to open on a laptop
// or phone: a header naming the facility, the outage, its window, when the
// list was generated and how many patients are on it, then a table soonest
// appointment first, with a box to tick and room for handwritten notes.
// Urgent rows say URGENT in words, so the mark survives a black-and-white
// printer. An empty list says plainly that there is nobody to call. The page
// holds no JavaScript; times are in o.TimeZone.
func WriteHTML(w io.Writer, o Outage, rows []Row, generated time.Time) error {
	return writePage(w, o, rows, generated, nil)
}

// WriteWorklist writes the page staff work the list on: WriteHTML's page
// with each row's forms ("I am calling", the outcomes, release) for the
// signed-in staff member, or a sign-in form. Rows being called by somebody
// else offer nothing but their status.
func WriteWorklist(w io.Writer, o Outage, rows []Row, generated time.Time, live Worklist) error {
	return writePage(w, o, rows, generated, &live)
}

func writePage(w io.Writer, o Outage, rows []Row, generated time.Time, live *Worklist) error {
	if err := o.check(); err != nil {
		return err
	}
	data := pageData{
		Facility:  o.title(),
		OutageID:  o.ID,
		Hotline:   o.Hotline,
		Window:    window(o),
		Generated: localTime(generated, o.TimeZone, htmlTimeLayout),
		Zone:      o.TimeZone.String(),
		Live:      live,
	}
	for _, v := range notifier.CallOutcomes {
		data.Outcomes = append(data.Outcomes, outcomeButton{v, outcomeText(v)})
	}
	for i, r := range sorted(rows) {
		pr := pageRow{
			N:          i + 1,
			Earliest:   localTime(r.earliest(), o.TimeZone, htmlTimeLayout),
			Name:       r.Name,
			PatientID:  r.PatientID,
			NoticeID:   r.NoticeID,
			Phone:      r.Phone,
			Tel:        telURL(r.Phone),
			Language:   r.Language,
			Reasons:    reasonTexts(r.Reasons),
			Urgent:     r.Urgent,
			Added:      localTime(r.AddedAt, o.TimeZone, htmlTimeLayout),
			Status:     cmp.Or(r.Status, notifier.CallToCall),
			StatusText: statusText(r, o.TimeZone, htmlTimeLayout),
			Finished:   r.finished(),
			Seq:        r.CallSeq,
		}
		pr.ClaimedBy, _ = r.claim()
		pr.Mine = live != nil && live.Caller != "" && strings.EqualFold(pr.ClaimedBy, live.Caller)
		data.Counts.Add(pr.Status, r.Call.Attempts)
		for _, a := range r.Appointments {
			pr.Appointments = append(pr.Appointments, appointmentText(a, o.TimeZone, htmlTimeLayout))
		}
		if r.Urgent {
			data.Urgent++
		}
		data.Rows = append(data.Rows, pr)
	}
	return page.Execute(w, data)
}

// window writes the outage's bounds, either of which may be unknown.
func window(o Outage) string {
	from := localTime(o.From, o.TimeZone, htmlTimeLayout)
	until := localTime(o.Until, o.TimeZone, htmlTimeLayout)
	switch {
	case from != "" && until != "":
		return from + " – " + until
	case from != "":
		return "from " + from + ", until further notice"
	case until != "":
		return "until " + until
	}
	return "not given"
}

// telURL is a tel: link for phone, so a phone's browser dials with one tap,
// or "" when phone is not plainly a number: then staff dial what the page
// shows rather than a link that may be wrong. Spaces, dashes, slashes, dots
// and brackets are dropped, and so is the "(0)" of numbers written like
// +49 (0)30 …; what is left is a leading + and digits only, which makes the
// URL safe to mark as trusted.
func telURL(phone string) template.URL {
	var b strings.Builder
	for i, r := range strings.ReplaceAll(strings.TrimSpace(phone), "(0)", "") {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case strings.ContainsRune(" -/.()", r):
		default:
			return ""
		}
	}
	if len(strings.TrimPrefix(b.String(), "+")) < 3 {
		return ""
	}
	return template.URL("tel:" + b.String())
}
