// Package email renders a notifier.Message as an RFC 5322 message: MIME
// multipart/alternative with a plain-text and an HTML part, UTF-8 and
// quoted-printable, headers encoded per RFC 2047. It writes the bytes
// go-message's writers write, without their layers of writers and header
// maps: a fuzz test holds it to them.
//
// Composition is deterministic: the same message, sender and date give the
// same bytes, and the Message-ID and MIME boundary derive from the notice id,
// so a resent notice carries the same Message-ID and receiving systems can
// recognise it as the same message.
package email

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"time"

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

// Compose writes m as a complete message from from to m.To, dated date:
// NewSender(from), then its Compose. A channel that sends every message
// from the same address makes its Sender once.
func Compose(w io.Writer, from *mail.Address, m *notifier.Message, date time.Time) error {
	if err := CheckAddress(m.To.Email); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	if from == nil {
		return errors.New("compose: no sender")
	}
	s, err := NewSender(from)
	if err != nil {
		return fmt.Errorf("compose: sender: %w", err)
	}
	return s.Compose(w, m, date)
}

// Sender is a checked sender with its From field formatted.
type Sender struct {
	addr  *mail.Address
	field string
}

// NewSender checks a's address with CheckAddress and formats the From
// field for it.
func NewSender(a *mail.Address) (*Sender, error) {
	if err := CheckAddress(a.Address); err != nil {
		return nil, err
	}
	return &Sender{addr: a, field: formatAddress(&mail.Address{Name: headerText(a.Name), Address: a.Address})}, nil
}

// Address is the sender's address.
func (s *Sender) Address() string { return s.addr.Address }

// Compose writes m as a complete message from s to m.To, dated date.
//
// A recipient name and a subject are header-safe by construction: control
// characters become spaces before encoding. A recipient address must pass
// CheckAddress; if not, Compose writes nothing and returns an error wrapping
// ErrBadAddress. Other errors mean the message is unusable.
func (s *Sender) Compose(w io.Writer, m *notifier.Message, date time.Time) error {
	if err := CheckAddress(m.To.Email); err != nil {
		return fmt.Errorf("recipient: %w", err)
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

	n := len(m.Text) + len(m.HTML)
	size := 1024 + n + n/8
	var b []byte
	if buf, ok := w.(*bytes.Buffer); ok {
		// Compose straight into the caller's buffer.
		buf.Grow(size)
		b = buf.AvailableBuffer()
	} else {
		b = make([]byte, 0, size)
	}
	_, err := w.Write(appendMessage(b, s.addr, s.field, m, date))
	return err
}

// MessageID is the Message-ID, without angle brackets, of every message
// composed for the notice noticeID from an address at domain.
func MessageID(noticeID, domain string) string {
	return noticeID + "@" + domain
}

// Part headers, as go-message writes them.
const (
	textHeader = "Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	htmlHeader = "Content-Type: text/html; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
)

// appendMessage appends m, checked by Compose, to b: the header, then a
// multipart/alternative body, plain text first so that clients prefer the
// HTML part when they can show it, or the plain text alone.
func appendMessage(b []byte, from *mail.Address, fromField string, m *notifier.Message, date time.Time) []byte {
	if m.HTML == "" {
		b = append(b, "Content-Transfer-Encoding: quoted-printable\r\n"...)
		b = appendHeader(b, from, fromField, m, date, "text/plain; charset=utf-8")
		return appendQuotedPrintable(b, m.Text)
	}
	// A boundary starting with "=_" never occurs in quoted-printable text.
	boundary := "=_" + m.NoticeID
	b = appendHeader(b, from, fromField, m, date, `multipart/alternative; boundary="`+boundary+`"`)
	b = append(b, "--"...)
	b = append(b, boundary...)
	b = append(b, "\r\n"+textHeader...)
	b = appendQuotedPrintable(b, m.Text)
	b = append(b, "\r\n--"...)
	b = append(b, boundary...)
	b = append(b, "\r\n"+htmlHeader...)
	b = appendQuotedPrintable(b, m.HTML)
	b = append(b, "\r\n--"...)
	b = append(b, boundary...)
	return append(b, "--\r\n"...)
}

// appendHeader appends the message header and the blank line after it. Its
// values are either validated by Compose or passed through headerText, so
// none can contain a line break.
func appendHeader(b []byte, from *mail.Address, fromField string, m *notifier.Message, date time.Time, contentType string) []byte {
	b = append(b, "Date: "...)
	b = date.AppendFormat(b, "Mon, 02 Jan 2006 15:04:05 -0700")
	b = append(b, "\r\n"...)
	b = appendField(b, "From", fromField)
	b = appendField(b, "To", formatAddress(&mail.Address{Name: headerText(m.To.Name), Address: m.To.Email}))
	b = appendField(b, "Subject", mime.QEncoding.Encode("utf-8", headerText(m.Subject)))
	_, domain := splitAddress(from.Address)
	b = appendField(b, "Message-Id", "<"+MessageID(m.NoticeID, domain)+">")
	// RFC 3834: tells auto-responders and vacation replies to stay silent.
	b = append(b, "Auto-Submitted: auto-generated\r\n"...)
	if m.Language != "" {
		b = appendField(b, "Content-Language", m.Language)
	}
	b = append(b, "Mime-Version: 1.0\r\n"...)
	b = appendField(b, "Content-Type", contentType)
	return append(b, "\r\n"...)
}
