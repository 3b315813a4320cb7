// Package email renders a notifier.Message as an RFC 5322 message: MIME
// multipart/alternative with a plain-text and an HTML part, UTF-8 and
// quoted-printable, headers encoded per RFC 2047 by go-message.
//
// Composition is deterministic: the same message, sender and date give the
// same bytes, and the Message-ID and MIME boundary derive from the notice id,
// so a resent notice carries the same Message-ID and receiving systems can
// recognise it as the same message.
package email

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	"github.com/postponement/notifier/notifier"
)

// noticeIDPattern is a dot-atom-text (RFC 5322 section 3.2.3) restricted to
// the characters notice ids use, so that it can form a Message-ID and a MIME
// boundary without quoting.
var noticeIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// maxNoticeIDLen keeps the MIME boundary, "=_" and the notice id, within the
// 70 characters RFC 2046 allows: go-message would otherwise put another
// boundary between the parts than the one in the header.
const maxNoticeIDLen = 68

// languagePattern is a BCP 47 language tag such as "de" or "tr-TR".
var languagePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// Compose writes m as a complete message from from to m.To, dated date.
//
// A recipient name and a subject are header-safe by construction: control
// characters become spaces before encoding. A recipient address must pass
// CheckAddress; if not, Compose writes nothing and returns an error wrapping
// ErrBadAddress. Other errors mean the message or the sender is unusable.
func Compose(w io.Writer, from *mail.Address, m *notifier.Message, date time.Time) error {
	if err := CheckAddress(m.To.Email); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	if from == nil {
		return errors.New("compose: no sender")
	}
	if err := CheckAddress(from.Address); err != nil {
		return fmt.Errorf("compose: sender: %w", err)
	}
	if !noticeIDPattern.MatchString(m.NoticeID) || len(m.NoticeID) > maxNoticeIDLen {
		return fmt.Errorf("compose: notice id is empty, longer than %d characters or not a dot-atom", maxNoticeIDLen)
	}
	if m.Language != "" && !languagePattern.MatchString(m.Language) {
		return errors.New("compose: language is not a language tag")
	}
	if m.Text == "" {
		return errors.New("compose: message has no text")
	}
	if date.IsZero() {
		return errors.New("compose: no date")
	}

	if m.HTML == "" {
		h := header(from, m, date, "text/plain", map[string]string{"charset": "utf-8"})
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		return writeText(w, h, m.Text)
	}
	// A boundary starting with "=_" never occurs in quoted-printable text.
	h := header(from, m, date, "multipart/alternative", map[string]string{"boundary": "=_" + m.NoticeID})
	return writeAlternative(w, h, m)
}

// MessageID is the Message-ID, without angle brackets, of every message
// composed for the notice noticeID from an address at domain.
func MessageID(noticeID, domain string) string {
	return noticeID + "@" + domain
}

// header builds the message header. Its values are either validated above
// or passed through headerText, so none can contain a line break. Fields are
// set bottom-up, as go-message inserts each one at the top.
func header(from *mail.Address, m *notifier.Message, date time.Time, contentType string, params map[string]string) mail.Header {
	var h mail.Header
	h.SetContentType(contentType, params)
	h.Set("MIME-Version", "1.0")
	if m.Language != "" {
		h.Set("Content-Language", m.Language)
	}
	// RFC 3834: tells auto-responders and vacation replies to stay silent.
	h.Set("Auto-Submitted", "auto-generated")
	_, domain := splitAddress(from.Address)
	h.SetMessageID(MessageID(m.NoticeID, domain))
	h.SetSubject(headerText(m.Subject))
	h.Set("To", formatAddress(&mail.Address{Name: headerText(m.To.Name), Address: m.To.Email}))
	h.Set("From", formatAddress(&mail.Address{Name: headerText(from.Name), Address: from.Address}))
	h.SetDate(date)
	return h
}

// writeAlternative writes a multipart/alternative body, plain text first so
// that clients prefer the HTML part when they can show it.
func writeAlternative(w io.Writer, h mail.Header, m *notifier.Message) error {
	mw, err := message.CreateWriter(w, h.Header)
	if err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	if err := writePart(mw, "text/plain", m.Text); err != nil {
		return err
	}
	if err := writePart(mw, "text/html", m.HTML); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	return nil
}

// writeText writes a message whose only body is plain text.
func writeText(w io.Writer, h mail.Header, text string) error {
	bw, err := message.CreateWriter(w, h.Header)
	if err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	return writeBody(bw, text)
}

// writePart writes one alternative of the body.
func writePart(mw *message.Writer, contentType, body string) error {
	var h message.Header
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	h.SetContentType(contentType, map[string]string{"charset": "utf-8"})
	pw, err := mw.CreatePart(h)
	if err != nil {
		return fmt.Errorf("compose: %s part: %w", contentType, err)
	}
	return writeBody(pw, body)
}

// lineBreaks turns every line break into a LF, which the quoted-printable
// encoder writes as CRLF. It would write a lone CR as CRLF too, but then
// drop the next LF if a byte it has to encode comes in between.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// writeBody writes body through its part's encoder and flushes it.
func writeBody(wc io.WriteCloser, body string) error {
	if _, err := io.WriteString(wc, lineBreaks.Replace(body)); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	return nil
}
