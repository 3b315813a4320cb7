package templates

import (
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// outage is what the pieces "contact" and "automatic" see of a notice: the
// hotline and the info URL, which are the same for every notice of an
// outage. Render writes the two pieces once per outage and reuses them, as
// they cost a third of a render. A piece that asked for another field would
// fail to execute, so it cannot repeat one patient's details to another.
type outage struct {
	Hotline string
	// HotlineGlued is the hotline that never wraps, HotlineDial its digits
	// for a tel: link. Fields rather than template functions: a notice is
	// rendered once per patient, and calls from a template cost reflection.
	HotlineGlued, HotlineDial string
	InfoURL                   string
}

// outagePieces are "contact" and "automatic" as the plain-text and the HTML
// part write them.
type outagePieces struct {
	contact, automatic         string
	contactHTML, automaticHTML htmltemplate.HTML
}

// outageKey names the pieces of an outage in one language, for one kind
// of notice: the hotline and the info URL are all the pieces see, the
// rest of outage derives from them.
type outageKey struct {
	set              *set
	hotline, infoURL string
}

// maxOutages bounds the outages a Renderer keeps the pieces of. A worker
// sees a few outages at a time; beyond this many, it starts afresh.
const maxOutages = 256

// outagePieces writes o's pieces with tmpl, or returns them as they were
// written before.
func (r *Renderer) outagePieces(tmpl *set, o outage) (*outagePieces, error) {
	key := outageKey{tmpl, o.Hotline, o.InfoURL}
	r.mu.Lock()
	p := r.outages[key]
	r.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p = new(outagePieces)
	var err error
	if p.contact, err = execText(tmpl.contact, o); err != nil {
		return nil, err
	}
	if p.automatic, err = execText(tmpl.automatic, o); err != nil {
		return nil, err
	}
	if p.contactHTML, err = execHTML(tmpl.contactHTML, o); err != nil {
		return nil, err
	}
	if p.automaticHTML, err = execHTML(tmpl.automaticHTML, o); err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.outages == nil || len(r.outages) >= maxOutages {
		r.outages = make(map[outageKey]*outagePieces)
	}
	r.outages[key] = p
	r.mu.Unlock()
	return p, nil
}

func execText(t *texttemplate.Template, data any) (string, error) {
	var b strings.Builder
	err := t.Execute(&b, data)
	return b.String(), err
}

// execHTML executes t, which html/template escapes as it would where the
// layout called it, in HTML text, and marks the result as such.
func execHTML(t *htmltemplate.Template, data any) (htmltemplate.HTML, error) {
	var b strings.Builder
	err := t.Execute(&b, data)
	return htmltemplate.HTML(b.String()), err
}
