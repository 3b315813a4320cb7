package app

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
	"github.com/postponement/notifier/templates"
)

// ConfirmPath is where the confirmation links lead: ConfirmPath + token.
const ConfirmPath = "/c/"

// NewRenderer is the renderer of the worker's notices: with confirmation
// links when confirm is configured.
func NewRenderer(cfg *config.Config) (*templates.Renderer, error) {
	r, err := templates.New()
	if err != nil {
		return nil, err
	}
	if !cfg.Confirm.Enabled() {
		return r, nil
	}
	secret, err := confirmSecret(cfg)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(cfg.Confirm.PublicURL, "/") + ConfirmPath
	r.ConfirmURL = func(id string) string { return base + notifier.ConfirmToken(id, secret) }
	return r, nil
}

// confirmSecret reads the secret that signs the confirmation links.
func confirmSecret(cfg *config.Config) ([]byte, error) {
	secret, err := ReadSecret(cfg.Confirm.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("confirm.secret_file: %w", err)
	}
	if len(secret) < 16 {
		return nil, errors.New("confirm.secret_file: the secret is shorter than 16 characters")
	}
	return []byte(secret), nil
}

// confirmWithin is the worker's deadline for confirmations, or nil when
// notices carry no link to confirm with.
func confirmWithin(cfg *config.Config) func(urgent bool) time.Duration {
	if !cfg.Confirm.Enabled() {
		return nil
	}
	return cfg.Dispatch.ConfirmDeadline
}

// confirmPage serves the pages the confirmation links open. A GET shows
// the page and changes nothing, so that a mail scanner fetching the link
// confirms nothing; the page's button (a POST) confirms. It is served
// without the status page's token: the token in the link is the
// authentication.
type confirmPage struct {
	secret     []byte
	db         *store.DB
	js         jetstream.JetStream
	renderer   *templates.Renderer
	facilities map[string]notifier.Facility
	now        func() time.Time
	log        *slog.Logger
}

// confirmCSP lets the page use its inline styles and post its form to
// itself, and nothing else: no script, no frame, no other origin.
const confirmCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func newConfirmPage(cfg *config.Config, db *store.DB, js jetstream.JetStream, log *slog.Logger) (http.Handler, error) {
	secret, err := confirmSecret(cfg)
	if err != nil {
		return nil, err
	}
	r, err := templates.New()
	if err != nil {
		return nil, err
	}
	return &confirmPage{secret: secret, db: db, js: js, renderer: r, facilities: cfg.FacilityMap(), now: time.Now,
		log: log.With("endpoint", "confirm")}, nil
}

func (c *confirmPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", confirmCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	// The link is the patient's key: no other site hears of it.
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		h.Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	page := templates.ConfirmPage{Lang: firstLanguage(r.Header.Get("Accept-Language")), State: templates.ConfirmInvalid}
	id, err := notifier.ParseConfirmToken(strings.TrimPrefix(r.URL.Path, ConfirmPath), c.secret, func(prefix string) ([]string, error) {
		return c.db.NoticeIDsWithPrefix(r.Context(), prefix)
	})
	switch {
	case errors.Is(err, notifier.ErrBadConfirmToken):
		c.write(w, http.StatusNotFound, page)
		return
	case err != nil:
		// The notice is not in this worker's store yet (or the link is
		// forged: without the notice, the two look alike), or the store
		// cannot be read: the patient is asked to try again later.
		if !errors.Is(err, notifier.ErrConfirmNoticeUnknown) {
			c.log.Error("confirmation page: the store cannot be read", "err", err)
		}
		page.State = templates.ConfirmLater
		c.write(w, http.StatusServiceUnavailable, page)
		return
	}
	status, page, facility := c.state(r, id, page)
	if page.State == templates.ConfirmAsk && r.Method == http.MethodPost {
		if err := engine.PublishFeedback(r.Context(), c.js, engine.ConfirmationFeedback(id, facility, c.now())); err != nil {
			c.log.Error("confirmation not stored; the patient is asked to try again", "notice", id, "err", err)
			page.State, status = templates.ConfirmLater, http.StatusServiceUnavailable
		} else {
			c.log.Info("notice confirmed by its patient", "notice", id)
			page.State = templates.ConfirmDone
		}
	}
	c.write(w, status, page)
}

// state is what the page of a genuine link shows before any POST: ask,
// done (confirmed before), expired (the outage is over) or later (this
// worker's store does not know the notice yet, or cannot be read), and the
// notice's facility.
func (c *confirmPage) state(r *http.Request, id string, page templates.ConfirmPage) (int, templates.ConfirmPage, string) {
	p, d, ok, err := c.db.NoticeOutcome(r.Context(), id)
	if err != nil || !ok {
		if err != nil {
			c.log.Error("confirmation page: the store cannot be read", "err", err)
		}
		page.State = templates.ConfirmLater
		return http.StatusServiceUnavailable, page, ""
	}
	o, state, known, err := c.db.Outage(r.Context(), p.OutageID)
	if err != nil {
		page.State = templates.ConfirmLater
		return http.StatusServiceUnavailable, page, ""
	}
	f := c.facilities[p.Facility]
	page.Lang = cmp.Or(p.Language, f.Language, page.Lang)
	page.Facility = cmp.Or(f.Name, p.Facility)
	page.Hotline, page.InfoURL = o.Hotline, o.InfoURL
	switch {
	case d != nil && d.Confirmed():
		page.State = templates.ConfirmDone
	case !known || state == notifier.OutageResolved || (!o.Until.IsZero() && !c.now().Before(o.Until)):
		page.State = templates.ConfirmExpired
		return http.StatusGone, page, p.Facility
	default:
		page.State = templates.ConfirmAsk
	}
	return http.StatusOK, page, p.Facility
}

func (c *confirmPage) write(w http.ResponseWriter, status int, page templates.ConfirmPage) {
	var b bytes.Buffer
	if err := c.renderer.WriteConfirmPage(&b, page); err != nil {
		c.log.Error("confirmation page not written", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// firstLanguage is the first language tag of an Accept-Language header,
// for the page of a link that names no notice.
func firstLanguage(header string) string {
	tag, _, _ := strings.Cut(header, ",")
	tag, _, _ = strings.Cut(tag, ";")
	return strings.TrimSpace(tag)
}
