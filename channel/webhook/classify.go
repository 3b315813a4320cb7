package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/postponement/notifier/notifier"
)

// MaxRetryAfter bounds the wait a gateway's Retry-After can ask for, so
// that a garbled header cannot park a notice for days; the chain's own
// deadlines still apply.
const MaxRetryAfter = time.Hour

// maxReply is how much of a gateway's reply is read; maxReplyText is how
// much of it a reason quotes.
const (
	maxReply     = 4 << 10
	maxReplyText = 200
)

// classifyReply turns the gateway's response into nil when it took the
// message, else into a SendError. phone and text are what the reply must not
// be quoted with.
func classifyReply(resp *http.Response, reply []byte, now time.Time, phone, text string) error {
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	se := &notifier.SendError{Class: notifier.Permanent, Code: code}
	switch {
	case code == http.StatusTooManyRequests:
		se.Class, se.Reason = notifier.Transient, "gateway is rate limiting"
	case code >= 500 && code <= 599:
		se.Class, se.Reason = notifier.Transient, "gateway failed"
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly:
		se.Class, se.Reason = notifier.Transient, "gateway asked to try again"
	case code >= 300 && code <= 399:
		se.Reason = "gateway redirected, which is not followed (configure the final URL)"
	case code == http.StatusUnauthorized, code == http.StatusForbidden, code == http.StatusProxyAuthRequired:
		se.Reason = "gateway refused the request's credentials (check the secret)"
	case code == http.StatusMethodNotAllowed, code == http.StatusRequestEntityTooLarge, code == http.StatusUnsupportedMediaType:
		se.Reason = "gateway does not take requests of this form (check the URL)"
	case code >= 400 && code <= 499:
		se.Class, se.Reason = notifier.BadAddress, "gateway refused the message for this number"
	default:
		se.Reason = "gateway replied with an unexpected status"
	}
	if se.Class == notifier.Transient {
		se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	}
	if quote := redact(string(reply), phone, text); quote != "" {
		se.Reason += ": " + quote
	}
	return se
}

// retryAfter reads a Retry-After header, delay-seconds or an HTTP date, as
// a wait from now between 0 and MaxRetryAfter. It is 0 when the header is
// missing or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if strings.Trim(v, "0123456789") == "" {
		// Seconds; more than fit a uint64 are more than MaxRetryAfter.
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return MaxRetryAfter
		}
		d = time.Duration(min(s, uint64(MaxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}

// classifyError turns a request that got no response into a SendError. The
// error kept is the one inside *url.Error, whose text would carry the URL
// and any token in its query.
func classifyError(err error) *notifier.SendError {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	se := &notifier.SendError{Class: notifier.Transient, Err: err}
	var (
		netErr       net.Error
		verifyErr    *tls.CertificateVerificationError
		authorityErr x509.UnknownAuthorityError
		hostErr      x509.HostnameError
	)
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &authorityErr), errors.As(err, &hostErr):
		se.Class, se.Reason = notifier.Permanent, "gateway's TLS certificate not accepted"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		se.Reason = "gateway timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		se.Reason = "gateway refused the connection"
	default:
		se.Reason = "request to the gateway failed"
	}
	return se
}

// mask replaces what a reason must not quote.
const mask = "[redacted]"

// numberLike matches runs of digits and the characters phone numbers and
// dates are written with; redact masks those with five digits or more.
var numberLike = regexp.MustCompile(`[+(]*\d[\d\s().\-/]*\d`)

// redact makes a gateway's reply fit for a reason: one line, at most
// maxReplyText bytes, with every number of five digits or more masked, as
// gateways echo the number they refuse in whatever format. A reply that
// quotes the text, even in part, is left out whole: the text names the
// appointment's date and time.
func redact(reply, phone, text string) string {
	reply = oneLine(strings.ToValidUTF8(reply, "\uFFFD"))
	if reply == "" || quotes(reply, oneLine(text)) {
		return ""
	}
	if p := strings.TrimSpace(phone); p != "" {
		reply = strings.ReplaceAll(reply, p, mask)
	}
	reply = numberLike.ReplaceAllStringFunc(reply, func(s string) string {
		if countDigits(s) >= 5 {
			return mask
		}
		return s
	})
	return truncate(reply, maxReplyText)
}

// quotes reports whether reply contains any run of 12 characters of text.
func quotes(reply, text string) bool {
	const window = 12
	runes := []rune(text)
	for i := 0; i+window <= len(runes); i++ {
		if strings.Contains(reply, string(runes[i:i+window])) {
			return true
		}
	}
	return false
}

// countDigits counts the ASCII digits in s.
func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// oneLine turns control characters and runs of white space into single
// spaces.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// truncate cuts s to at most n bytes at a character boundary, marking the
// cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
