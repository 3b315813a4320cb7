// Package webhook is an SMS channel that posts each message to an HTTP
// gateway: an SMS provider's adapter, or anything else that speaks its small
// protocol.
//
// Every message is one POST of a JSON Payload to Config.URL with the headers
//
//	Content-Type: application/json
//	Idempotency-Key: <notice id>
//	X-Notifier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
//
// The gateway checks the signature with the shared secret (Verify does it
// for gateways written in Go) and should send a notice at most once per
// Idempotency-Key: a request that timed out may have been taken, and is
// sent again with the same key.
//
// The gateway's status decides what the notifier does next: 2xx means it
// has taken the message; 429 and 5xx are Transient, with Retry-After
// (seconds or an HTTP date) passed on as SendError.RetryAfter; 408 and 425
// are Transient too; 3xx (redirects are not followed), 401, 403, 405, 407,
// 413 and 415 say the channel is misconfigured and are Permanent; every
// other 4xx says the number cannot be sent to and is a BadAddress, which
// rules out every SMS channel for that patient. Network failures and
// timeouts are Transient. A reason quotes at most a short, redacted part of
// the gateway's reply and never the phone number or the text.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/sms"
)

var _ notifier.Sender = (*Channel)(nil)

// ErrClosed is returned, inside a Transient SendError, by Send after Close.
var ErrClosed = errors.New("webhook channel closed")

// Payload is the JSON body of a request. Fields may be added; a gateway
// should ignore the ones it does not know.
type Payload struct {
	// NoticeID identifies the notice; it is the same on every retry and is
	// also sent as the Idempotency-Key header.
	NoticeID string `json:"notice_id"`
	// To is the patient's phone number in E.164, e.g. "+492115550101".
	To string `json:"to"`
	// Text is the SMS to send, the message's short form.
	Text string `json:"text"`
	// Language is the text's language, e.g. "de".
	Language string `json:"language"`
	// Encoding is how the text travels as SMS: "GSM-7" when every
	// character is in the GSM 03.38 default alphabet or its extension
	// table, else "UCS-2". Segments is how many SMS that takes (160 or 70
	// characters in one, 153 or 67 in each part of a longer one). A gateway
	// may use them to choose the encoding or to refuse a text that costs
	// more than it allows; see package sms.
	Encoding string `json:"encoding"`
	Segments int    `json:"segments"`
}

// Channel sends messages as SMS through one gateway. It is safe for
// concurrent use; at most Config.MaxConns requests are in flight at once.
type Channel struct {
	cfg    Config
	url    string
	client *http.Client
	// ownClient is whether client's transport is the channel's own, whose
	// idle connections Close may close.
	ownClient bool
	// slots holds a token per request in flight.
	slots  chan struct{}
	closed atomic.Bool
}

// New checks cfg and returns a channel for its gateway. It does not connect:
// the first Send does.
func New(cfg Config) (*Channel, error) {
	u, err := cfg.normalize()
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", cfg.Name, err)
	}
	return &Channel{
		cfg:       cfg,
		url:       u.String(),
		client:    cfg.client(),
		ownClient: cfg.Client == nil,
		slots:     make(chan struct{}, cfg.MaxConns),
	}, nil
}

// Name is the channel's configured name.
func (c *Channel) Name() string { return c.cfg.Name }

// Medium is SMS.
func (c *Channel) Medium() notifier.Medium { return notifier.MediumSMS }

// Send posts m's short text for m's patient to the gateway and returns nil
// once the gateway has taken it, else a *notifier.SendError. The phone
// number is read in the notice's country, or in Config.DefaultRegion when
// the notice names none. Send waits for a free slot; when ctx ends it
// returns promptly.
func (c *Channel) Send(ctx context.Context, m *notifier.Message) error {
	if err := ctx.Err(); err != nil {
		return cancelled(err)
	}
	if c.closed.Load() {
		return &notifier.SendError{Class: notifier.Transient, Reason: "channel closed", Err: ErrClosed}
	}
	if strings.TrimSpace(m.Short) == "" {
		return &notifier.SendError{Class: notifier.Permanent, Reason: "message has no short text for SMS"}
	}
	if m.NoticeID == "" {
		return &notifier.SendError{Class: notifier.Permanent, Reason: "message has no notice id to send as its idempotency key"}
	}
	to, err := e164(m.To.Phone, region(m, c.cfg.DefaultRegion))
	if err != nil {
		return err
	}
	enc, segments := sms.Segments(m.Short)
	// Strings and an int always encode.
	body, _ := json.Marshal(Payload{
		NoticeID: m.NoticeID,
		To:       to,
		Text:     m.Short,
		Language: m.Language,
		Encoding: enc,
		Segments: segments,
	})

	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return cancelled(ctx.Err())
	}
	defer func() { <-c.slots }()

	reqCtx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return &notifier.SendError{Class: notifier.Permanent, Reason: "request cannot be built", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.NoticeID)
	req.Header.Set(SignatureHeader, Sign(c.cfg.Secret, c.cfg.Now(), body))

	resp, err := c.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return cancelled(ctxErr)
		}
		return classifyError(err)
	}
	defer resp.Body.Close()
	// What the gateway says is read up to a limit, enough for an error
	// message, so that a runaway reply neither fills memory nor stalls.
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	return classifyReply(resp, reply, c.cfg.Now(), m.To.Phone, m.Short)
}

// Close releases the channel's idle connections, unless they belong to
// the caller's Config.Client. Requests in flight finish; later Sends fail
// with ErrClosed.
func (c *Channel) Close() error {
	c.closed.Store(true)
	if c.ownClient {
		c.client.CloseIdleConnections()
	}
	return nil
}

// cancelled is the error of a Send whose context ended.
func cancelled(err error) *notifier.SendError {
	return &notifier.SendError{Class: notifier.Transient, Reason: "cancelled: " + err.Error(), Err: err}
}
