package templates

import (
	"strings"
	"testing"

	"github.com/postponement/notifier/sms"
)

func TestRenderConfirmLink(t *testing.T) {
	for _, lang := range []string{"de", "en", "tr"} {
		t.Run(lang, func(t *testing.T) {
			r := newRenderer(t)
			plain := render(t, r, sampleNotice(t, lang))
			r.ConfirmURL = func(id string) string { return "https://k.example/c/" + id + ".0123456789abcdef0123456789abcdef" }
			n := sampleNotice(t, lang)
			m := render(t, r, n)
			url := r.ConfirmURL(n.ID)
			if strings.Contains(plain.Text, "/c/") || strings.Contains(plain.Short, "/c/") {
				t.Error("a link without ConfirmURL")
			}
			if !strings.Contains(m.Text, "\n"+url+"\n") {
				t.Errorf("the plain text has no link of its own line:\n%s", m.Text)
			}
			if !strings.Contains(m.HTML, `<a href="`+url+`"`) {
				t.Errorf("the HTML has no button to the link:\n%s", m.HTML)
			}
			// The SMS takes the link only while it stays one message.
			if _, segs := sms.Segments(m.Short); segs != 1 {
				t.Errorf("the SMS takes %d messages: %q", segs, m.Short)
			}
			if strings.HasSuffix(m.Short, url) {
				if !strings.HasPrefix(m.Short, plain.Short+" ") {
					t.Errorf("the SMS with the link %q does not start as without it: %q", m.Short, plain.Short)
				}
			} else if m.Short != plain.Short {
				t.Errorf("the SMS changed without taking the link: %q", m.Short)
			}
		})
	}
	// A long link never makes the SMS two messages.
	r := newRenderer(t)
	r.ConfirmURL = func(id string) string { return "https://" + strings.Repeat("a", 120) + ".example/c/" + id }
	m := render(t, r, sampleNotice(t, "en"))
	if strings.Contains(m.Short, "/c/") {
		t.Errorf("an SMS took a link it has no room for: %q", m.Short)
	}
	if !strings.Contains(m.Text, "/c/") {
		t.Error("the e-mail lost the long link")
	}
}

func TestRenderConfirmLinkFitsAShortSMS(t *testing.T) {
	r := newRenderer(t)
	r.ConfirmURL = func(id string) string { return "https://k.example/c/x" }
	n := sampleNotice(t, "en")
	n.Hotline, n.FacilityShortName = "112", "K"
	m := render(t, r, n)
	if !strings.HasSuffix(m.Short, " https://k.example/c/x") {
		t.Errorf("a short SMS left out a link it has room for: %q", m.Short)
	}
}

func TestConfirmPage(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range []string{"de", "en", "tr", "xx"} {
		for _, state := range []string{ConfirmAsk, ConfirmDone, ConfirmExpired, ConfirmLater, ConfirmInvalid} {
			var b strings.Builder
			err := r.WriteConfirmPage(&b, ConfirmPage{Lang: lang, Facility: "Klinik <&>", Hotline: "+49 211 81-0", State: state})
			if err != nil {
				t.Fatalf("%s %s: %v", lang, state, err)
			}
			page := b.String()
			if want := map[string]string{"xx": "en"}[lang]; want != "" && !strings.Contains(page, `lang="en"`) {
				t.Errorf("%s: not in the fallback language", lang)
			}
			if strings.Contains(page, "Klinik <&>") || !strings.Contains(page, "Klinik &lt;&amp;&gt;") {
				t.Errorf("%s %s: the facility is not escaped", lang, state)
			}
			if hasForm := strings.Contains(page, `<form method="post">`); hasForm != (state == ConfirmAsk) {
				t.Errorf("%s %s: a form is %v, want only when asking", lang, state, hasForm)
			}
			if !strings.Contains(page, "tel:&#43;49211810") {
				t.Errorf("%s %s: no hotline", lang, state)
			}
			if strings.Contains(page, "<script") {
				t.Errorf("%s %s: a script", lang, state)
			}
		}
	}
}
