package calllist

import (
	_ "embed"
	"html/template"
	"io"
	"strings"
	"time"
)

// htmlTimeLayout is how the page writes times, in the outage's time zone.
// The weekday helps staff on the phone ("your appointment on Tuesday").
const htmlTimeLayout = "Mon 2006-01-02 15:04"

//go:embed page.html.tmpl
var pageSource string

// page is the HTML template; it escapes every field it is given.
var page = template.Must(template.New("page").Parse(pageSource))

// pageData is what the page shows, every time already written in the
// outage's zone.
type pageData struct {
	Facility, OutageID, Hotline string
	Window, Generated, Zone     string
	Urgent                      int
	Rows                        []pageRow
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
}

// WriteHTML writes the call list as a page to print or to open on a laptop
// or phone: a header naming the facility, the outage, its window, when the
// list was generated and how many patients are on it, then a table soonest
// appointment first, with a box to tick and room for handwritten notes.
// Urgent rows say URGENT in words, so the mark survives a black-and-white
// printer. An empty list says plainly that there is nobody to call. The page
// holds no JavaScript; times are in o.TimeZone.
func WriteHTML(w io.Writer, o Outage, rows []Row, generated time.Time) error {
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
	}
	for i, r := range sorted(rows) {
		pr := pageRow{
			N:         i + 1,
			Earliest:  localTime(r.earliest(), o.TimeZone, htmlTimeLayout),
			Name:      r.Name,
			PatientID: r.PatientID,
			NoticeID:  r.NoticeID,
			Phone:     r.Phone,
			Tel:       telURL(r.Phone),
			Language:  r.Language,
			Reasons:   reasonTexts(r.Reasons),
			Urgent:    r.Urgent,
			Added:     localTime(r.AddedAt, o.TimeZone, htmlTimeLayout),
		}
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
