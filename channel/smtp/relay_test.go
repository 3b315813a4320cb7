package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/notifier"
)

// Test timeouts: short, so that hanging relays fail fast.
const (
	// Short enough to keep the suite fast, long enough for a TLS handshake
	// on a loaded two-core machine.
	testDialTimeout    = 750 * time.Millisecond
	testCommandTimeout = 750 * time.Millisecond
)

// received is a message a test relay accepted.
type received struct {
	from string
	to   []string
	data []byte
}

// backend is a test relay's backend: it records sessions and messages and
// refuses what its hooks tell it to. Hooks are set before the relay starts.
type backend struct {
	// onMail, onRcpt and onData, if set, may refuse a command by returning
	// an *smtp.SMTPError; onData may also block to make the relay stall.
	onMail func(from string) error
	onRcpt func(to string) error
	onData func() error
	// users, if set, makes the relay offer AUTH PLAIN and require it.
	users map[string]string

	mu        sync.Mutex
	sessions  int // NewSession calls: connections, for plaintext relays
	active    int
	maxActive int
	conns     []*smtp.Conn
	tlsSeen   []bool // whether each session ran over TLS
	mails     int    // MAIL commands that reached the backend
	authed    []string
	msgs      []received
}

// NewSession implements smtp.Backend.
func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sessions++
	b.active++
	b.maxActive = max(b.maxActive, b.active)
	b.conns = append(b.conns, c)
	_, isTLS := c.TLSConnectionState()
	b.tlsSeen = append(b.tlsSeen, isTLS)
	return &session{b: b}, nil
}

// snapshot returns a copy of the counters under the lock.
func (b *backend) snapshot() (sessions, maxActive, mails int, msgs []received) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions, b.maxActive, b.mails, append([]received(nil), b.msgs...)
}

// dropConnections closes the relay's side of every connection, as a relay
// that restarts or times out idle clients does.
func (b *backend) dropConnections() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		c.Conn().Close()
	}
}

// session is one SMTP session of a backend.
type session struct {
	b      *backend
	from   string
	to     []string
	authed bool
}

func (s *session) AuthMechanisms() []string {
	if s.b.users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if want, ok := s.b.users[username]; !ok || password != want {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		s.b.mu.Lock()
		s.b.authed = append(s.b.authed, username)
		s.b.mu.Unlock()
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.users != nil && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.b.mu.Lock()
	s.b.mails++
	s.b.mu.Unlock()
	if s.b.onMail != nil {
		if err := s.b.onMail(from); err != nil {
			return err
		}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.onRcpt != nil {
		if err := s.b.onRcpt(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.b.onData != nil {
		if err := s.b.onData(); err != nil {
			return err
		}
	}
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, received{s.from, s.to, data})
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error {
	s.b.mu.Lock()
	s.b.active--
	s.b.mu.Unlock()
	return nil
}

// transcript collects what a relay said and heard, safe for the server's
// connection goroutines to write concurrently.
type transcript struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Write(p)
}

// commands counts the client commands named cmd, e.g. "NOOP", in the
// transcript.
func (t *transcript) commands(cmd string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, line := range strings.Split(t.buf.String(), "\r\n") {
		if strings.HasPrefix(strings.ToUpper(line), cmd) {
			n++
		}
	}
	return n
}

// relay is a running in-process SMTP relay.
type relay struct {
	addr string
	log  *transcript
}

// startRelay runs a go-smtp server for b on 127.0.0.1 speaking mode (TLSNone,
// TLSStartTLS or TLSImplicit) until the test ends; options adjust the server
// before it starts.
func startRelay(t *testing.T, b *backend, mode string, options ...func(*smtp.Server)) relay {
	t.Helper()
	srv := smtp.NewServer(b)
	srv.Domain = "relay.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.EnableSMTPUTF8 = true
	rec := &transcript{}
	srv.Debug = rec

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case TLSStartTLS:
		srv.TLSConfig = serverTLS(t)
	case TLSImplicit:
		l = tls.NewListener(l, serverTLS(t))
	}
	for _, option := range options {
		option(srv)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return relay{addr: l.Addr().String(), log: rec}
}

// startSilentRelay accepts connections and never says a word, like a relay
// behind a broken proxy.
func startSilentRelay(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// newChannel returns a channel to addr with short test timeouts; modify
// adjusts the config first. The channel is closed when the test ends.
func newChannel(t *testing.T, addr, mode string, modify func(*Config)) *Channel {
	t.Helper()
	cfg := Config{
		Name:           "relay",
		Addr:           addr,
		TLS:            mode,
		From:           "UKD <noreply@example.org>",
		TLSConfig:      trustingTLS(),
		DialTimeout:    testDialTimeout,
		CommandTimeout: testCommandTimeout,
	}
	if modify != nil {
		modify(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Recipient data the relays in these tests like to echo back.
const (
	patientEmail = "jane.doe@example.org"
	patientName  = "Jane Doe"
)

// message returns a notice for the test patient.
func message(id string) *notifier.Message {
	return &notifier.Message{
		NoticeID: id,
		Language: "de",
		To:       notifier.Recipient{Name: patientName, Email: patientEmail},
		Subject:  "Ihr Termin ist verschoben",
		Text:     "Bitte kommen Sie nicht.\n",
		HTML:     "<p>Bitte kommen Sie nicht.</p>\n",
	}
}

// send sends a message with id and returns Send's error.
func send(t *testing.T, c *Channel, id string) error {
	t.Helper()
	return c.Send(context.Background(), message(id))
}

// mustSend sends a message with id and fails the test if Send fails.
func mustSend(t *testing.T, c *Channel, id string) {
	t.Helper()
	if err := send(t, c, id); err != nil {
		t.Fatalf("Send %s: %v", id, err)
	}
}

// sendError asserts that err is a *notifier.SendError and returns it.
func sendError(t *testing.T, err error) *notifier.SendError {
	t.Helper()
	var se *notifier.SendError
	if !errors.As(err, &se) {
		t.Fatalf("got %v (%T), want a *notifier.SendError", err, err)
	}
	return se
}

// wantClass asserts err's class.
func wantClass(t *testing.T, err error, want notifier.Class) *notifier.SendError {
	t.Helper()
	se := sendError(t, err)
	if se.Class != want {
		t.Errorf("class of %v: got %v, want %v", err, se.Class, want)
	}
	return se
}

// reply is a relay refusal that echoes the recipient, as many relays do.
func reply(code int, enhanced smtp.EnhancedCode, text string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: "<" + patientEmail + "> (" + patientName + "): " + text}
}
