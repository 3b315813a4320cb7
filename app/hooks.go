package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/channel/webhook"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// Where channels' feedback is posted.
const (
	SMSStatusPath = "/hooks/sms-status"
	BouncePath    = "/hooks/bounce"
)

// maxReceipt bounds a receipt's body.
const maxReceipt = 16 << 10

// hookRetryAfter is how many seconds a gateway or provider is asked to wait
// before it sends a report again that could not be taken now.
const hookRetryAfter = "30"

var (
	noticeIDPattern  = regexp.MustCompile(`^n-[0-9a-f]{32}$`)
	enhancedPattern  = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}$`)
	messageIDPattern = regexp.MustCompile(`^<?(n-[0-9a-f]{32})@[^>]*>?$`)
	// diagnosticWords is the reply code and enhanced code that start a
	// Diagnostic-Code ("smtp; 550 5.1.1 ..."), without what follows.
	diagnosticWords = regexp.MustCompile(`[245][0-9]{2}[ -][245]\.[0-9]{1,3}\.[0-9]{1,3}`)
)

// feedbackHook takes what channels learn of notices after accepting them,
// posted by gateways and mail providers: signed as the webhook channel
// signs its requests (X-Notifier-Signature, HMAC-SHA256 of "t.body"), with
// one of the hook's secrets. Each is published as feedback; the workers
// then confirm the attempt or send the notice on.
type feedbackHook struct {
	kind    string
	db      *store.DB
	js      jetstream.JetStream
	secrets []hookSecret
	// parse reads a body into feedback (its notice, status and the rest),
	// or says what is wrong with it.
	parse func(body []byte) (*notifier.Feedback, error)
	// email names the e-mail channels: a bounce is about the notice's
	// channel only when that is one of them.
	email map[string]bool
	now   func() time.Time
	log   *slog.Logger
}

// hookSecret is a secret a hook's senders sign with, the channel it stands
// for ("" when the notice's own channel is meant) and the facilities whose
// notices it may report on (nil: any).
type hookSecret struct {
	channel    string
	secret     []byte
	facilities []string
}

// newHooks makes the feedback endpoints: SMS receipts signed with an SMS
// channel's secret; bounces signed with bounces.secret_file, when set.
func newHooks(cfg *config.Config, db *store.DB, js jetstream.JetStream, log *slog.Logger) (map[string]http.Handler, error) {
	sms := &feedbackHook{kind: notifier.FeedbackSMSStatus, db: db, js: js, parse: parseSMSStatus, now: time.Now, log: log}
	for _, ch := range cfg.Senders() {
		if ch.Type != config.TypeWebhook {
			continue
		}
		secret, err := ReadSecret(ch.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("channel %s: secret_file: %w", ch.Name, err)
		}
		sms.secrets = append(sms.secrets, hookSecret{channel: ch.Name, secret: []byte(secret)})
	}
	bounce, err := newBounceHook(cfg, db, js, log)
	if err != nil {
		return nil, err
	}
	return map[string]http.Handler{SMSStatusPath: sms, BouncePath: bounce}, nil
}

// newBounceHook takes bounces, by POST /hooks/bounce or from the SMTP
// bounce listener; its secrets are those of bounces.secret_file and of the
// facilities' own bounces, each good for the notices of the facilities that
// use it.
func newBounceHook(cfg *config.Config, db *store.DB, js jetstream.JetStream, log *slog.Logger) (*feedbackHook, error) {
	bounce := &feedbackHook{kind: notifier.FeedbackBounce, db: db, js: js, parse: parseBounce, now: time.Now, log: log, email: map[string]bool{}}
	for _, ch := range cfg.Senders() {
		if md, ok := ch.Medium(); ok && md == notifier.MediumEmail {
			bounce.email[ch.Name] = true
		}
	}
	for _, u := range cfg.AllBounces() {
		if u.SecretFile == "" {
			continue
		}
		secret, err := ReadSecret(u.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("bounces.secret_file %s: %w", u.SecretFile, err)
		}
		if len(secret) < 16 {
			return nil, fmt.Errorf("bounces.secret_file %s: the secret is shorter than 16 characters", u.SecretFile)
		}
		i := slices.IndexFunc(bounce.secrets, func(s hookSecret) bool { return string(s.secret) == secret })
		if i < 0 {
			i = len(bounce.secrets)
			bounce.secrets = append(bounce.secrets, hookSecret{secret: []byte(secret), facilities: []string{}})
		}
		bounce.secrets[i].facilities = append(bounce.secrets[i].facilities, u.Facilities...)
	}
	return bounce, nil
}

func (h *feedbackHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a report", http.StatusMethodNotAllowed)
		return
	}
	sig := r.Header.Get(webhook.SignatureHeader)
	if sig == "" || len(h.secrets) == 0 {
		http.Error(w, "unauthorized: sign the report ("+webhook.SignatureHeader+")", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReceipt+1))
	if err != nil || len(body) > maxReceipt {
		http.Error(w, "report too large", http.StatusRequestEntityTooLarge)
		return
	}
	var signer *hookSecret
	for i := range h.secrets {
		if webhook.Verify(h.secrets[i].secret, sig, body, h.now(), 0) == nil {
			signer = &h.secrets[i]
			break
		}
	}
	if signer == nil {
		http.Error(w, "unauthorized: the signature matches no secret of this endpoint (or is stale)", http.StatusUnauthorized)
		return
	}
	f, err := h.parse(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	status, err := h.record(r.Context(), f, signer)
	if err != nil {
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", hookRetryAfter)
		}
		http.Error(w, err.Error(), status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, "{\"id\":%q}\n", f.ID)
}

// record completes feedback about a notice (its facility, the channel it
// is about, its id) and publishes it; on failure it returns the HTTP
// status that says why. signer is the secret the report was signed with
// (nil when the report needs none: a bounce mailed to a bounce address).
func (h *feedbackHook) record(ctx context.Context, f *notifier.Feedback, signer *hookSecret) (int, error) {
	var channel string
	if signer != nil {
		channel = signer.channel
	}
	p, d, ok, err := h.db.NoticeOutcome(ctx, f.NoticeID)
	if err != nil {
		h.log.Error("feedback: looking up the notice", "kind", h.kind, "err", err)
		return http.StatusServiceUnavailable, errors.New("the report could not be taken; send it again")
	}
	if !ok {
		// The report is genuine (its signature checked out): the notice
		// is one this worker's store has not caught up with yet.
		return http.StatusServiceUnavailable, errors.New("notice_id: the notice is not known here yet; send it again")
	}
	if signer != nil && signer.facilities != nil && !slices.Contains(signer.facilities, p.Facility) {
		return http.StatusForbidden, errors.New("notice_id: a notice of a facility whose reports are signed with another secret")
	}
	f.Kind, f.Facility, f.Channel, f.Received = h.kind, p.Facility, channel, h.now().UTC()
	if f.Channel == "" && d == nil {
		// A bounce names no channel: it is about the e-mail channel that
		// took the notice, which this worker's store does not know yet.
		return http.StatusServiceUnavailable, errors.New("the notice's outcome is not known here yet; send it again")
	}
	if f.Channel == "" {
		// A bounce is about the e-mail channel that took the notice: the
		// outcome's, or, for an urgent notice sent on every medium at once
		// and counted delivered by another, the last e-mail channel that
		// accepted it. When none did, the bounce changes nothing.
		f.Channel = h.emailChannel(d)
	}
	f.ID = notifier.FeedbackID(f.Kind, f.NoticeID, f.Channel, f.Status, f.Code+f.Action, f.At)
	if err := engine.PublishFeedback(ctx, h.js, f); err != nil {
		h.log.Error("feedback: publishing", "kind", h.kind, "err", err)
		return http.StatusServiceUnavailable, errors.New("the report could not be stored; send it again")
	}
	h.log.Info("feedback", "kind", h.kind, "notice", f.NoticeID, "channel", f.Channel, "status", f.Status)
	return http.StatusAccepted, nil
}

// emailChannel is the e-mail channel a bounce of the notice is about: the
// outcome's channel when it is one, else the last e-mail channel in the
// trail that accepted the notice, else "".
func (h *feedbackHook) emailChannel(d *notifier.Delivery) string {
	if h.email[d.Channel] {
		return d.Channel
	}
	for _, a := range slices.Backward(d.Trail) {
		if h.email[a.Channel] && a.Result == notifier.ResultAccepted {
			return a.Channel
		}
	}
	return ""
}

// parseSMSStatus reads {notice_id, status, code, at}.
func parseSMSStatus(body []byte) (*notifier.Feedback, error) {
	var rc struct {
		NoticeID string    `json:"notice_id"`
		Status   string    `json:"status"`
		Code     string    `json:"code"`
		At       time.Time `json:"at"`
	}
	if err := json.Unmarshal(body, &rc); err != nil {
		return nil, fmt.Errorf("not a JSON receipt: %w", notifier.JSONError(err))
	}
	switch {
	case !noticeIDPattern.MatchString(rc.NoticeID):
		return nil, fmt.Errorf("notice_id: not a notice id")
	case rc.Status != notifier.SMSDelivered && rc.Status != notifier.SMSFailed && rc.Status != notifier.SMSUndeliverable && rc.Status != notifier.SMSExpired:
		return nil, fmt.Errorf("status: want delivered, failed, undeliverable or expired")
	case len(rc.Code) > 64:
		return nil, fmt.Errorf("code: at most 64 characters")
	}
	return &notifier.Feedback{NoticeID: rc.NoticeID, Status: rc.Status, Code: rc.Code, At: rc.At}, nil
}

// parseBounce reads {notice_id or message_id, recipient, status, action,
// reason}: status an enhanced code (5.1.1), action failed or delayed. The
// recipient is not kept, and is cut out of the reason.
func parseBounce(body []byte) (*notifier.Feedback, error) {
	var b struct {
		NoticeID  string    `json:"notice_id"`
		MessageID string    `json:"message_id"`
		Recipient string    `json:"recipient"`
		Status    string    `json:"status"`
		Action    string    `json:"action"`
		Reason    string    `json:"reason"`
		At        time.Time `json:"at"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("not a JSON bounce: %w", notifier.JSONError(err))
	}
	id := b.NoticeID
	if id == "" {
		if m := messageIDPattern.FindStringSubmatch(strings.TrimSpace(b.MessageID)); m != nil {
			id = m[1]
		}
	}
	action := strings.ToLower(b.Action)
	switch {
	case !noticeIDPattern.MatchString(id):
		return nil, fmt.Errorf("notice_id or message_id: not a notice's")
	case !enhancedPattern.MatchString(b.Status):
		return nil, fmt.Errorf("status: want an enhanced status code such as 5.1.1")
	case action != "" && action != notifier.BounceFailed && action != notifier.BounceDelayed:
		return nil, fmt.Errorf("action: want failed or delayed")
	}
	reason := b.Reason
	if b.Recipient != "" {
		reason = strings.ReplaceAll(reason, b.Recipient, "<recipient>")
	}
	if len(reason) > 200 {
		reason = reason[:200]
	}
	return &notifier.Feedback{NoticeID: id, Status: b.Status, Action: action, Reason: strings.ToValidUTF8(reason, ""), At: b.At}, nil
}
