package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
	"golang.org/x/net/netutil"
	"golang.org/x/time/rate"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/notifier"
)

// Limits of the bounce listener.
const (
	maxBounceBytes      = 1 << 20
	maxBounceRecipients = 10
	bounceRate          = 50 // messages per second, with as large a burst
	// maxBounceConns caps the connections served at once; more wait to
	// be accepted. Mail servers deliver bounces over few connections.
	maxBounceConns = 32
	// bounceTimeout bounds each read and write of a connection: a sender
	// that goes silent loses its connection.
	bounceTimeout = 30 * time.Second
)

// ServeBounces takes bounces by SMTP on bounces.addr, and on each
// facility's own bounces.addr (when set), until the returned stop is
// called; addrs are the addresses listened on. It accepts mail only for the
// bounce addresses this worker's notices were sent from
// (bounce+<notice>.<mac>@<domain>, of a domain and secret configured for
// that address), refuses every other recipient with 550 and never relays.
// A delivery status notification (RFC 3464 multipart/report) gives the
// action and status; a plain bounce that only carries the address counts
// as failed (5.0.0); an automatic reply (out of office) is taken and
// ignored. Each bounce becomes bounce feedback, as POST /hooks/bounce does.
func ServeBounces(cfg *config.Config, w *Worker, conn *Conn, log *slog.Logger) (addrs []string, stop func(), err error) {
	var order []string
	keys := map[string][]verpKey{}
	for _, u := range cfg.AllBounces() {
		if u.Addr == "" {
			continue
		}
		if u.SecretFile == "" {
			return nil, nil, fmt.Errorf("bounces.secret_file: required with bounces.addr %s: it authenticates the bounce addresses", u.Addr)
		}
		secret, err := ReadSecret(u.SecretFile)
		if err != nil {
			return nil, nil, fmt.Errorf("bounces.secret_file %s: %w", u.SecretFile, err)
		}
		if _, ok := keys[u.Addr]; !ok {
			order = append(order, u.Addr)
		}
		keys[u.Addr] = append(keys[u.Addr], verpKey{domain: u.Domain, secret: []byte(secret)})
	}
	if len(order) == 0 {
		return nil, func() {}, nil
	}
	hook, err := newBounceHook(cfg, w.DB, conn.JS, log)
	if err != nil {
		return nil, nil, err
	}
	limit := rate.NewLimiter(bounceRate, bounceRate)
	var servers []*smtp.Server
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range servers {
			s.Shutdown(ctx)
		}
	}
	for _, addr := range order {
		b := &bounceBackend{hook: hook, keys: keys[addr], limit: limit, log: log}
		s := smtp.NewServer(b)
		s.Domain = keys[addr][0].domain
		s.MaxMessageBytes = maxBounceBytes
		s.MaxRecipients = maxBounceRecipients
		s.ReadTimeout, s.WriteTimeout = bounceTimeout, bounceTimeout
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("bounces.addr %s: %w", addr, err)
		}
		ln = netutil.LimitListener(ln, maxBounceConns)
		servers = append(servers, s)
		go func() {
			if err := s.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
				log.Error("bounce listener stopped", "addr", addr, "err", err)
			}
		}()
		log.Info("bounce listener", "addr", ln.Addr().String(), "domains", len(keys[addr]))
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, stop, nil
}

// verpKey is a bounce domain and the secret its addresses are made with.
type verpKey struct {
	domain string
	secret []byte
}

type bounceBackend struct {
	hook  *feedbackHook
	keys  []verpKey
	limit *rate.Limiter
	log   *slog.Logger
}

func (b *bounceBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &bounceSession{b: b}, nil
}

type bounceSession struct {
	b       *bounceBackend
	notices []string
}

func (s *bounceSession) Reset()        { s.notices = nil }
func (s *bounceSession) Logout() error { return nil }

// Mail takes any sender: bounces come from the null sender <>.
func (s *bounceSession) Mail(string, *smtp.MailOptions) error { return nil }

// Rcpt takes only this worker's bounce addresses.
func (s *bounceSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	for _, k := range s.b.keys {
		if id, err := notifier.ParseVERP(to, k.domain, k.secret); err == nil {
			s.notices = append(s.notices, id)
			return nil
		}
	}
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such bounce address here; this server does not relay"}
}

func (s *bounceSession) Data(r io.Reader) error {
	if !s.b.limit.Allow() {
		io.Copy(io.Discard, r)
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "too many bounces at once; try again later"}
	}
	action, status, reason, auto := readDSN(r)
	if auto {
		// An out-of-office reply says the mailbox exists: no bounce.
		s.b.log.Info("auto-reply to a notice ignored", "notices", len(s.notices))
		return nil
	}
	for _, id := range s.notices {
		f := &notifier.Feedback{NoticeID: id, Status: status, Action: action, Reason: reason}
		if _, err := s.b.hook.record(context.Background(), f, nil); err != nil {
			// The address is genuine (its mac checked out), so the notice
			// exists: this worker's store has not caught up with it yet,
			// or NATS is away. The sender tries again later.
			s.b.log.Info("bounce not taken yet; the sender will try again", "notice", id, "why", err)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "not stored; try again later"}
		}
	}
	return nil
}

// readDSN reads the action, status and diagnostic of a delivery status
// notification's first recipient; a message that is none is a plain
// bounce: failed, 5.0.0, unless it is an automatic reply (autoReply), such
// as an out-of-office message, which is no bounce at all. The diagnostic
// may hold the recipient's address, so only its status words are kept.
func readDSN(r io.Reader) (action, status, reason string, autoReply bool) {
	action, status = notifier.BounceFailed, "5.0.0"
	e, err := message.Read(r)
	if err != nil && !message.IsUnknownCharset(err) {
		io.Copy(io.Discard, r)
		return action, status, "a bounce that is no delivery status notification", false
	}
	mr := e.MultipartReader()
	if mr == nil {
		io.Copy(io.Discard, e.Body)
		return action, status, "a bounce that is no delivery status notification", isAutoReply(e.Header)
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			return action, status, "a bounce without a delivery status", isAutoReply(e.Header)
		}
		if ct, _, _ := p.Header.ContentType(); !strings.EqualFold(ct, "message/delivery-status") {
			continue
		}
		sc := bufio.NewScanner(io.LimitReader(p.Body, 64<<10))
		gotStatus := false
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "action":
				action = strings.ToLower(v)
			case "status":
				if !gotStatus && enhancedPattern.MatchString(v) {
					status, gotStatus = v, true
				}
			case "diagnostic-code":
				if m := diagnosticWords.FindString(v); m != "" {
					reason = m
				}
			}
		}
		if action != notifier.BounceFailed && action != notifier.BounceDelayed {
			action = "" // relayed, delivered, expanded: the status decides
		}
		return action, status, reason, false
	}
}

// outOfOfficeSubject matches the subjects of common automatic replies, for
// those that carry no header saying so.
var outOfOfficeSubject = regexp.MustCompile(`(?i)^\s*(auto(matic)?[ -]?reply|autoreply|auto:|out of (the )?office|abwesenheit|automatische antwort|ofis dışında|otomatik yanıt|vacation)`)

// bounceSubject matches the subjects mail servers give bounces.
var bounceSubject = regexp.MustCompile(`(?i)undeliver|unzustellbar|delivery (status|failure|has failed)|failure notice|returned mail|mail delivery (failed|system)|nicht zugestellt`)

// isAutoReply reports whether a message that is no delivery status
// notification is an automatic reply (RFC 3834 Auto-Submitted:
// auto-replied, Precedence: auto_reply, bulk or junk, X-Autoreply,
// X-Autorespond, or an out-of-office subject) rather than a bounce: mail
// from a mailer daemon or postmaster, or with a bounce's subject, is a
// bounce whatever its headers say (mail servers mark their bounces
// auto-replied too).
func isAutoReply(h message.Header) bool {
	mh := mail.Header{Header: h}
	subject, err := mh.Subject()
	if err != nil {
		subject = h.Get("Subject")
	}
	from := strings.ToLower(h.Get("From"))
	if strings.Contains(from, "mailer-daemon") || strings.Contains(from, "postmaster") || bounceSubject.MatchString(subject) {
		return false
	}
	auto := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	switch prec := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); {
	case strings.HasPrefix(auto, "auto-replied"), prec == "auto_reply", prec == "bulk", prec == "junk",
		h.Has("X-Autoreply"), h.Has("X-Autorespond"):
		return true
	}
	return outOfOfficeSubject.MatchString(subject)
}
