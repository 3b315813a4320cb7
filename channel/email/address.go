package email

import (
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"

	"github.com/postponement/notifier/internal/oneline"
)

// ErrBadAddress marks a recipient address that no mail channel can use: it
// is empty, is not a plain addr-spec, or carries control characters. Errors
// wrapping it never repeat the address, as they end up in logs.
var ErrBadAddress = errors.New("not a plain e-mail address")

// maxAddressLen is the longest path RFC 5321 allows (section 4.5.3.1.3)
// without its angle brackets.
const maxAddressLen = 254

// CheckAddress reports whether addr is a bare addr-spec such as
// "jane@example.org", safe to put into a header and an SMTP envelope.
// Display names, angle brackets, lists and control characters are refused,
// so that a recipient can never smuggle a header line or a second recipient
// into a message. The error wraps ErrBadAddress and does not contain addr.
func CheckAddress(addr string) error {
	switch {
	case addr == "":
		return fmt.Errorf("empty: %w", ErrBadAddress)
	case len(addr) > maxAddressLen:
		return fmt.Errorf("longer than %d bytes: %w", maxAddressLen, ErrBadAddress)
	case strings.IndexFunc(addr, unicode.IsControl) >= 0:
		return fmt.Errorf("contains a control character: %w", ErrBadAddress)
	}
	parsed, err := netmail.ParseAddress(addr)
	if err != nil || parsed.Name != "" || parsed.Address != addr {
		return fmt.Errorf("not a bare addr-spec: %w", ErrBadAddress)
	}
	if _, domain := splitAddress(addr); domain == "" {
		return fmt.Errorf("no domain: %w", ErrBadAddress)
	}
	return nil
}

// ParseFrom parses a configured sender such as "UKD <noreply@example.org>"
// or "noreply@example.org". Unlike a patient's address, a sender may carry a
// display name, which may be RFC 2047 encoded.
func ParseFrom(s string) (*mail.Address, error) {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return nil, errors.New("from: contains a control character")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := CheckAddress(a.Address); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	return a, nil
}

// splitAddress splits an addr-spec at its last "@".
func splitAddress(addr string) (local, domain string) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, ""
	}
	return addr[:at], addr[at+1:]
}

// headerText makes free text safe for a header field: control characters
// (CR, LF, NUL, tabs) become spaces, runs of spaces collapse, and invalid
// UTF-8 is replaced. go-message then encodes what is not ASCII per RFC 2047,
// but leaves ASCII as it is, so "=?" is split: readers would take it for the
// start of an encoded word and decode what follows, control characters and
// all. Text that is already safe, as most names and subjects are, comes
// back as it is, without a copy.
func headerText(s string) string {
	return strings.ReplaceAll(oneline.String(strings.ToValidUTF8(s, "\uFFFD")), "=?", "= ?")
}

// formatAddress writes a for an address header. net/mail Q-encodes a name
// that is not ASCII and leaves a backslash in it as it is, which no parser
// reads back (golang/go#80592); such a name is B-encoded instead.
func formatAddress(a *mail.Address) string {
	if strings.Contains(a.Name, `\`) && strings.IndexFunc(a.Name, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
		return mime.BEncoding.Encode("utf-8", a.Name) + " " + (&mail.Address{Address: a.Address}).String()
	}
	return a.String()
}
