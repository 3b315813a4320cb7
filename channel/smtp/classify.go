package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/notifier"
)

// stage is the part of an SMTP session a failure happened in; it decides
// whether a 5.1.x reply is about the recipient and whether a retry is safe.
type stage int

// Stages of a session.
const (
	stageConnect stage = iota + 1 // TCP connect
	stageSetup                    // greeting, EHLO, STARTTLS, TLS, AUTH
	stageMail                     // MAIL FROM
	stageRcpt                     // RCPT TO
	stageData                     // DATA and writing the message
	stageEnd                      // the reply to the end of the data
)

// String names the stage in reasons and logs.
func (s stage) String() string {
	switch s {
	case stageConnect:
		return "connect"
	case stageSetup:
		return "setup"
	case stageMail:
		return "mail"
	case stageRcpt:
		return "rcpt"
	case stageData:
		return "data"
	case stageEnd:
		return "end of data"
	}
	return "unknown"
}

// refusal is what a relay's refusal at each stage means, for reasons.
var refusal = map[stage]string{
	stageSetup: "relay refused the session",
	stageMail:  "relay refused the sender",
	stageRcpt:  "relay refused the recipient",
	stageData:  "relay refused the message data",
	stageEnd:   "relay refused the message",
}

// stageError records the stage an error happened in. It stays inside the
// package: its text may hold a relay reply that echoes the recipient.
type stageError struct {
	stage stage
	err   error
}

// Error describes the failure for debugging; see stageError.
func (e *stageError) Error() string { return e.stage.String() + ": " + e.err.Error() }

// Unwrap returns the failure itself.
func (e *stageError) Unwrap() error { return e.err }

// stageOf returns the stage err happened in.
func stageOf(err error) stage {
	var se *stageError
	if errors.As(err, &se) {
		return se.stage
	}
	return 0
}

// classify turns a failed exchange into a SendError whose reason and
// wrapped error carry nothing of to.
func classify(err error, to notifier.Recipient) *notifier.SendError {
	st := stageOf(err)
	var reply *smtp.SMTPError
	if errors.As(err, &reply) {
		return classifyReply(st, reply, to)
	}
	se := &notifier.SendError{Class: notifier.Transient, Err: scrub(err, to)}
	var timeout net.Error
	if st == stageEnd && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &timeout) && timeout.Timeout()) {
		// The relay has the whole message and fell silent: it may deliver
		// it (one that closes the connection instead has not taken
		// responsibility for it, RFC 5321 4.1.1.4, and is retried).
		// Sending it again here could make it arrive twice.
		se.Class, se.Unconfirmed = notifier.Permanent, true
		se.Reason = "sent, unconfirmed: the relay took the message but did not answer after its end (the patient may have it)"
		return se
	}
	missing := missingFeature(err)
	var (
		netErr    net.Error
		verifyErr *tls.CertificateVerificationError
		alertErr  tls.AlertError
		recordErr tls.RecordHeaderError
	)
	switch {
	case missing != nil:
		se.Class, se.Reason = notifier.Permanent, missing.Error()
	case errors.As(err, &verifyErr):
		se.Class, se.Reason = notifier.Permanent, "relay's TLS certificate not accepted"
	case errors.As(err, &alertErr), errors.As(err, &recordErr):
		se.Class, se.Reason = notifier.Permanent, "TLS handshake with the relay failed"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		se.Reason = fmt.Sprintf("relay timed out (%s)", st)
	case errors.Is(err, syscall.ECONNREFUSED):
		se.Reason = "relay refused the connection"
	case isNetwork(err):
		se.Reason = fmt.Sprintf("connection to the relay failed (%s)", st)
	default:
		se.Reason = fmt.Sprintf("relay session failed (%s)", st)
	}
	return se
}

// missingFeature returns the refusal err stands for when the relay lacks
// something this channel insists on, or nil.
func missingFeature(err error) error {
	for _, missing := range []error{errNoStartTLS, errNoAuth, errNoTLS, errNoSMTPUTF8} {
		if errors.Is(err, missing) {
			return missing
		}
	}
	return nil
}

// scrub returns err without its stage wrapper, or a plain error with the
// redacted text if err's text mentions the recipient (a malformed reply
// quoted by net/textproto could).
func scrub(err error, to notifier.Recipient) error {
	var se *stageError
	if errors.As(err, &se) {
		err = se.err
	}
	if text := err.Error(); redact(text, to) != text {
		return errors.New(redact(text, to))
	}
	return err
}

// classifyReply classifies a refusal by its reply code: 4xx is Transient;
// 5xx is BadAddress when its enhanced code says the recipient's address is
// bad, else Permanent.
func classifyReply(st stage, reply *smtp.SMTPError, to notifier.Recipient) *notifier.SendError {
	text := oneLine(redact(reply.Message, to), maxReplyText)
	se := &notifier.SendError{
		Code: reply.Code,
		Err:  &smtp.SMTPError{Code: reply.Code, EnhancedCode: reply.EnhancedCode, Message: text},
	}
	if reply.EnhancedCode[0] > 0 {
		e := reply.EnhancedCode
		se.Enhanced = fmt.Sprintf("%d.%d.%d", e[0], e[1], e[2])
	}
	phrase := refusal[st]
	switch {
	case reply.Code == 421:
		se.Class, phrase = notifier.Transient, "relay is closing the connection"
	case reply.Code/100 == 4:
		se.Class = notifier.Transient
	case reply.Code/100 == 5 && badRecipient(st, reply.EnhancedCode):
		se.Class = notifier.BadAddress
	case reply.Code/100 == 5:
		se.Class = notifier.Permanent
	default:
		se.Class, phrase = notifier.Transient, "unexpected reply"
	}
	if phrase == "" {
		phrase = "relay refused"
	}
	se.Reason = phrase
	if text != "" {
		se.Reason += ": " + text
	}
	return se
}

// badRecipient reports whether a 5xx reply at st says the recipient's
// address is bad (RFC 3463 5.1.x, "addressing status"). 5.1.7 and 5.1.8 are
// about the sender, and nothing said about MAIL FROM concerns the patient.
func badRecipient(st stage, e smtp.EnhancedCode) bool {
	if st != stageRcpt && st != stageEnd {
		return false
	}
	return e[0] == 5 && e[1] == 1 && e[2] != 7 && e[2] != 8
}

// retryable reports whether err on a reused connection means the relay
// never took the message: the connection had died while idle, or the relay
// said 421 before the end of the data. After the end of the data the relay
// may have accepted the message, so that is never retried.
func retryable(err error) bool {
	switch stageOf(err) {
	case stageMail, stageRcpt, stageData:
	default:
		return false
	}
	var reply *smtp.SMTPError
	if errors.As(err, &reply) {
		return reply.Code == 421
	}
	return isBroken(err)
}

// refusedOnLiveConn reports whether err is a refusal inside a transaction
// after which the connection is still usable once reset.
func refusedOnLiveConn(err error) bool {
	switch stageOf(err) {
	case stageMail, stageRcpt, stageData, stageEnd:
	default:
		return false
	}
	if errors.Is(err, errNoSMTPUTF8) {
		return true
	}
	var reply *smtp.SMTPError
	return errors.As(err, &reply) && reply.Code != 421
}

// isReply reports whether err is a reply from the relay.
func isReply(err error) bool {
	var reply *smtp.SMTPError
	return errors.As(err, &reply)
}

// isBroken reports whether err says the connection was lost.
func isBroken(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, net.ErrClosed)
}

// isNetwork reports whether err comes from the network rather than the
// SMTP conversation.
func isNetwork(err error) bool {
	var netErr net.Error
	return isBroken(err) || errors.As(err, &netErr)
}
