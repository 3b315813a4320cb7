package bench

import (
	"bytes"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/postponement/notifier/channel/email"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/notifier"
)

// padded renders notices as the templates do and appends the same filler to
// every plain-text part, so that messages reach the size asked for. The
// worker and the baseline both render through it, so both put the same
// bytes through the same MIME encoder and SMTP client.
type padded struct {
	r      notifier.Renderer
	filler string
}

func (p *padded) Render(n *notifier.Notice) (*notifier.Message, error) {
	m, err := p.r.Render(n)
	if err != nil {
		return nil, err
	}
	m.Text += p.filler
	return m, nil
}

// newPadding wraps r with the filler that brings a typical notice, one
// appointment in German, to size bytes.
func newPadding(r notifier.Renderer, size int) (*padded, error) {
	p := &padded{r: r}
	if size <= 0 {
		return p, nil
	}
	from, err := email.ParseFrom(sender)
	if err != nil {
		return nil, err
	}
	fac := config.Default().FacilityMap()[facility]
	o := notifier.Outage{OutageID: "size", Hotline: hotline, InfoURL: "https://example.org/outage"}
	n := poolNotice(fac, &o, 0, false, time.Now())
	n.Language = "de"
	m, err := r.Render(n)
	if err != nil {
		return nil, err
	}
	p.filler, err = filler(m, from, size)
	return p, err
}

// fillerLine is one line of filler: plain ASCII, so quoted-printable leaves
// it as it is and it costs len+2 bytes (CRLF) on the wire.
const fillerLine = "The quick brown fox jumps over the lazy dog. 0123456789 ABCDEFGHIJKLMNOP"

// filler returns the text that brings a message composed from m up to size
// bytes, or "" when it is that large already.
func filler(m *notifier.Message, from *mail.Address, size int) (string, error) {
	var b bytes.Buffer
	if err := email.Compose(&b, from, m, time.Now()); err != nil {
		return "", err
	}
	missing := size - b.Len()
	if missing <= 0 {
		return "", nil
	}
	var f strings.Builder
	f.WriteString("\n")
	missing -= 2
	for missing > 0 {
		line := fillerLine[:min(len(fillerLine), max(missing-2, 1))]
		f.WriteString(line + "\n")
		missing -= len(line) + 2
	}
	return f.String(), nil
}
