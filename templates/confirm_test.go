package templates

import (
	"strings"
	"testing"

	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/sms"
)

func TestRenderConfirmLink(t *testing.T) {
	for _, lang := range []string{"de", "en", "tr"} {
		t.Run(lang, func(t *testing.T) {
			r := newRenderer(t)
			plain := render(t, r, sampleNotice(t, lang))
			r.ConfirmURL = func(id string) string { return "https://k.example/c/" + notifier.ConfirmToken(id, secret) }
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
			if m.ConfirmURL != url || m.ShortHasLink != strings.HasSuffix(m.Short, url) {
				t.Errorf("the message says link %q, in the SMS %v; want %q, %v", m.ConfirmURL, m.ShortHasLink, url, strings.HasSuffix(m.Short, url))
			}
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

// TestRenderConfirmLinkFitsAShortSMS: a real link, with the token the
// worker makes, fits a short SMS (a cancellation), in one message, and the
// message says the SMS carries it; a postponement with a full hotline
// number has no room for it.
func TestRenderConfirmLinkFitsAShortSMS(t *testing.T) {
	r := newRenderer(t)
	r.ConfirmURL = func(id string) string { return "https://ukd.de/c/" + notifier.ConfirmToken(id, secret) }
	for _, tc := range []struct {
		lang, kind, hotline string
		fits                bool
	}{
		{"en", notifier.KindCancelled, "112", true},
		{"de", notifier.KindCancelled, "", true},
		{"tr", notifier.KindCancelled, "", true},
		{"en", notifier.KindPostponed, "+49 211 81-04444", false},
	} {
		n := sampleNotice(t, tc.lang)
		n.ID = "n-0123456789abcdef0123456789abcdef" // as the planner names notices
		n.Kind, n.Hotline = tc.kind, tc.hotline
		m := render(t, r, n)
		url := r.ConfirmURL(n.ID)
		if got := strings.HasSuffix(m.Short, " "+url); got != tc.fits || m.ShortHasLink != tc.fits {
			t.Errorf("%s %s: the SMS takes the link %v (says %v), want %v: %q", tc.lang, tc.kind, got, m.ShortHasLink, tc.fits, m.Short)
		}
		if enc, segs := sms.Segments(m.Short); segs != 1 {
			t.Errorf("%s %s: the SMS takes %d messages (%s): %q", tc.lang, tc.kind, segs, enc, m.Short)
		}
	}
}

// secret signs the confirmation links of these tests.
var secret = []byte("a confirmation secret of some length")

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
