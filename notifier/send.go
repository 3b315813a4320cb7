package notifier

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Medium is what a channel reaches a patient through. A bad address on one
// channel of a medium rules out every other channel of that medium.
type Medium string

// Media.
const (
	MediumEmail Medium = "email"
	MediumSMS   Medium = "sms"
)

// Recipient is the contact data of the patient a message goes to.
type Recipient struct {
	Name  string
	Email string
	Phone string
}

// Message is a notice rendered for its patient in its language, ready for a
// channel. Channels add their own envelope (From, MIME, signatures).
type Message struct {
	NoticeID string
	Language string
	To       Recipient
	Subject  string
	Text     string
	HTML     string
	// Short is the notice as a short plain text for SMS, fitting one
	// message where it can.
	Short string
	// Notice is the notice the message was rendered from.
	Notice *Notice
	// ConfirmURL is the notice's confirmation link, which Text and HTML
	// carry, if any; ShortHasLink says whether Short carries it too (only
	// when it still fits one SMS).
	ConfirmURL   string
	ShortHasLink bool
}

// CarriesLink reports whether the message, as a channel of the medium sends
// it, carries the notice's confirmation link: an SMS only when the link
// fitted in it.
func (m *Message) CarriesLink(md Medium) bool {
	if md == MediumSMS {
		return m.ShortHasLink
	}
	return m.ConfirmURL != ""
}

// Sender is one channel of the fallback chain: an SMTP relay, a Maildir,
// an SMS gateway. Send returns nil once the channel has accepted the message,
// else an error, ideally a *SendError that says whether to retry.
type Sender interface {
	// Name is the channel's configured name, used in outcomes and logs.
	Name() string
	// Medium says which contact data the channel needs.
	Medium() Medium
	Send(ctx context.Context, m *Message) error
}

// Renderer turns a notice into the message its patient reads.
type Renderer interface {
	Render(n *Notice) (*Message, error)
}

// Class says what a failed send means for the rest of the chain.
type Class int

// Failure classes.
const (
	// Transient: worth retrying on the same channel (timeouts, refused
	// connections, 4xx replies).
	Transient Class = iota + 1
	// Permanent: this channel will not take this message; try the next one.
	Permanent
	// BadAddress: the patient's address itself is bad; no channel of the
	// same medium is asked for it.
	BadAddress
)

func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case BadAddress:
		return "bad-address"
	}
	return "unknown"
}

// SendError is a classified channel failure. Reason must not contain the
// patient's address or any other patient data: it ends up in logs and in
// the audit trail.
type SendError struct {
	Class Class
	// Code and Enhanced are the SMTP reply code and enhanced status code
	// (e.g. 550 and "5.1.1") or the HTTP status, when there was one.
	Code     int
	Enhanced string
	Reason   string
	// RetryAfter, when set on a transient failure, is how long the channel
	// asked to wait before the next try (an HTTP Retry-After).
	RetryAfter time.Duration
	// Unconfirmed: the channel handed the whole message over but got no
	// answer (a relay that stored the data and then fell silent). The
	// patient may have it; it is not retried on the same channel, so that
	// it does not arrive twice, and the chain goes on as after a refusal.
	Unconfirmed bool
	Err         error
}

func (e *SendError) Error() string {
	msg := e.Class.String()
	if e.Code != 0 {
		msg += fmt.Sprintf(" %d", e.Code)
	}
	if e.Enhanced != "" {
		msg += " " + e.Enhanced
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

func (e *SendError) Unwrap() error { return e.Err }

// ClassOf classifies any send error. Unclassified errors are transient: a
// network error or a timeout says nothing about the message itself.
func ClassOf(err error) Class {
	var se *SendError
	if errors.As(err, &se) {
		return se.Class
	}
	return Transient
}
