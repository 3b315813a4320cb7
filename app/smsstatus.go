package app

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/channel/webhook"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// SMSStatusPath is where SMS gateways post delivery receipts.
const SMSStatusPath = "/hooks/sms-status"

// maxReceipt bounds a receipt's body.
const maxReceipt = 16 << 10

var noticeIDPattern = regexp.MustCompile(`^n-[0-9a-f]{32}$`)

// smsStatus takes SMS delivery receipts: POST {notice_id, status, code,
// at}, signed as the webhook channel signs its requests
// (X-Notifier-Signature with the channel's secret), which names the
// channel. A receipt is published as feedback; the workers then confirm
// the SMS attempt or send the notice on.
type smsStatus struct {
	db       *store.DB
	js       jetstream.JetStream
	channels []receiptChannel
	now      func() time.Time
	log      *slog.Logger
}

type receiptChannel struct {
	name   string
	secret []byte
}

func newSMSStatus(cfg *config.Config, db *store.DB, js jetstream.JetStream, log *slog.Logger) (*smsStatus, error) {
	h := &smsStatus{db: db, js: js, now: time.Now, log: log}
	for _, ch := range cfg.Senders() {
		if ch.Type != config.TypeWebhook {
			continue
		}
		secret, err := readSecret(ch.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("channel %s: secret_file: %w", ch.Name, err)
		}
		h.channels = append(h.channels, receiptChannel{ch.Name, []byte(secret)})
	}
	return h, nil
}

func (h *smsStatus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a delivery receipt", http.StatusMethodNotAllowed)
		return
	}
	sig := r.Header.Get(webhook.SignatureHeader)
	if sig == "" || len(h.channels) == 0 {
		http.Error(w, "unauthorized: sign the receipt as the channel signs its requests", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxReceipt+1))
	if err != nil || len(body) > maxReceipt {
		http.Error(w, "receipt too large", http.StatusRequestEntityTooLarge)
		return
	}
	channel := ""
	for _, c := range h.channels {
		if webhook.Verify(c.secret, sig, body, h.now(), 0) == nil {
			channel = c.name
			break
		}
	}
	if channel == "" {
		http.Error(w, "unauthorized: the signature matches no SMS channel's secret (or is stale)", http.StatusUnauthorized)
		return
	}
	var rc struct {
		NoticeID string    `json:"notice_id"`
		Status   string    `json:"status"`
		Code     string    `json:"code"`
		At       time.Time `json:"at"`
	}
	if err := json.Unmarshal(body, &rc); err != nil {
		http.Error(w, "not a JSON receipt: "+notifier.JSONError(err).Error(), http.StatusBadRequest)
		return
	}
	switch {
	case !noticeIDPattern.MatchString(rc.NoticeID):
		http.Error(w, "notice_id: not a notice id", http.StatusBadRequest)
		return
	case rc.Status != notifier.SMSDelivered && rc.Status != notifier.SMSFailed && rc.Status != notifier.SMSUndeliverable && rc.Status != notifier.SMSExpired:
		http.Error(w, "status: want delivered, failed, undeliverable or expired", http.StatusBadRequest)
		return
	case len(rc.Code) > 64:
		http.Error(w, "code: at most 64 characters", http.StatusBadRequest)
		return
	}
	p, _, ok, err := h.db.NoticeOutcome(r.Context(), rc.NoticeID)
	if err != nil {
		h.log.Error("sms-status: looking up the notice", "err", err)
		http.Error(w, "the receipt could not be taken; send it again", http.StatusServiceUnavailable)
		return
	}
	if !ok {
		http.Error(w, "notice_id: unknown notice", http.StatusNotFound)
		return
	}
	f := &notifier.Feedback{Kind: notifier.FeedbackSMSStatus, NoticeID: rc.NoticeID, Facility: p.Facility, Channel: channel,
		Status: rc.Status, Code: rc.Code, At: rc.At, Received: h.now().UTC()}
	f.ID = notifier.FeedbackID(f.Kind, f.NoticeID, f.Channel, f.Status, f.Code, f.At)
	if err := engine.PublishFeedback(r.Context(), h.js, f); err != nil {
		h.log.Error("sms-status: publishing the receipt", "err", err)
		http.Error(w, "the receipt could not be stored; send it again", http.StatusServiceUnavailable)
		return
	}
	h.log.Info("sms-status: receipt", "notice", f.NoticeID, "channel", channel, "status", f.Status)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, "{\"id\":%q}\n", f.ID)
}
