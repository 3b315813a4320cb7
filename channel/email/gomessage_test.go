package email

import (
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/postponement/notifier/notifier"
)

// composeGoMessage writes m through go-message's writers, as Compose once
// did: Compose must write the same bytes for every message it accepts.
func composeGoMessage(w io.Writer, from *mail.Address, m *notifier.Message, date time.Time) error {
	header := func(contentType string, params map[string]string) mail.Header {
		var h mail.Header
		h.SetContentType(contentType, params)
		h.Set("MIME-Version", "1.0")
		if m.Language != "" {
			h.Set("Content-Language", m.Language)
		}
		h.Set("Auto-Submitted", "auto-generated")
		_, domain := splitAddress(from.Address)
		h.SetMessageID(MessageID(m.NoticeID, domain))
		h.SetSubject(headerText(m.Subject))
		h.Set("To", formatAddress(&mail.Address{Name: headerText(m.To.Name), Address: m.To.Email}))
		h.Set("From", formatAddress(&mail.Address{Name: headerText(from.Name), Address: from.Address}))
		h.SetDate(date)
		return h
	}
	lineBreaks := strings.NewReplacer("\r\n", "\n", "\r", "\n")
	writeBody := func(wc io.WriteCloser, body string) error {
		if _, err := io.WriteString(wc, lineBreaks.Replace(body)); err != nil {
			return err
		}
		return wc.Close()
	}
	if m.HTML == "" {
		h := header("text/plain", map[string]string{"charset": "utf-8"})
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		bw, err := message.CreateWriter(w, h.Header)
		if err != nil {
			return err
		}
		return writeBody(bw, m.Text)
	}
	h := header("multipart/alternative", map[string]string{"boundary": "=_" + m.NoticeID})
	mw, err := message.CreateWriter(w, h.Header)
	if err != nil {
		return err
	}
	for _, p := range []struct{ contentType, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		var h message.Header
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		h.SetContentType(p.contentType, map[string]string{"charset": "utf-8"})
		pw, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if err := writeBody(pw, p.body); err != nil {
			return err
		}
	}
	return mw.Close()
}
