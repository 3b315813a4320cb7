// Package relay is a small in-process SMTP relay built on go-smtp. It
// accepts messages and files them in a Maildir folder and in memory. The
// demo uses it as the working external relay, and the tests use it as a
// relay that records, refuses or fails on demand.
package relay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// Options configure a relay.
type Options struct {
	// Dir, when set, is a Maildir folder (tmp/new/cur are created) where
	// every accepted message is written.
	Dir string
	// Rcpt, when set, decides on each recipient; a non-nil error (ideally
	// a *smtp.SMTPError) is the reply.
	Rcpt func(to string) error
	// Data, when set, decides on each message after it is read. Returning
	// ErrDrop closes the connection without a reply, as a relay that dies
	// mid-transaction would.
	Data func(to []string, data []byte) error
	// ReadTimeout bounds a client's silence (default 10s).
	ReadTimeout time.Duration
}

// ErrDrop, returned by Options.Data, drops the connection before the reply
// to the message data.
var ErrDrop = errors.New("relay: drop the connection")

// Received is one accepted message.
type Received struct {
	From string
	To   []string
	Data []byte
	// File is the message's path in the Maildir, if any.
	File string
}

// Relay is a running relay.
type Relay struct {
	opts     Options
	srv      *smtp.Server
	l        net.Listener
	mu       sync.Mutex
	msgs     []Received
	sessions atomic.Int64
	counter  atomic.Int64
}

// Start starts a relay on a free loopback port.
func Start(o Options) (*Relay, error) {
	if o.Dir != "" {
		for _, sub := range []string{"tmp", "new", "cur"} {
			if err := os.MkdirAll(filepath.Join(o.Dir, sub), 0o700); err != nil {
				return nil, err
			}
		}
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 10 * time.Second
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Relay{opts: o, l: l}
	r.srv = smtp.NewServer(r)
	r.srv.Domain = "relay.localhost"
	r.srv.ReadTimeout = o.ReadTimeout
	r.srv.WriteTimeout = 10 * time.Second
	r.srv.MaxMessageBytes = 10 << 20
	r.srv.MaxRecipients = 50
	// Clients that go away mid-session are part of the tests' faults.
	r.srv.ErrorLog = log.New(io.Discard, "", 0)
	go r.srv.Serve(l)
	return r, nil
}

// Addr is the relay's host:port.
func (r *Relay) Addr() string { return r.l.Addr().String() }

// Close stops the relay.
func (r *Relay) Close() error { return r.srv.Close() }

// Sessions counts the SMTP sessions opened so far.
func (r *Relay) Sessions() int { return int(r.sessions.Load()) }

// Messages returns the messages accepted so far.
func (r *Relay) Messages() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.msgs...)
}

// NewSession implements smtp.Backend.
func (r *Relay) NewSession(c *smtp.Conn) (smtp.Session, error) {
	r.sessions.Add(1)
	return &session{r: r, conn: c}, nil
}

type session struct {
	r    *Relay
	conn *smtp.Conn
	from string
	to   []string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.r.opts.Rcpt != nil {
		if err := s.r.opts.Rcpt(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(rd io.Reader) error {
	data, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return errors.New("no recipients")
	}
	if s.r.opts.Data != nil {
		if err := s.r.opts.Data(s.to, data); err != nil {
			if errors.Is(err, ErrDrop) {
				s.conn.Conn().Close()
			}
			return err
		}
	}
	msg := Received{From: s.from, To: append([]string(nil), s.to...), Data: data}
	if s.r.opts.Dir != "" {
		if msg.File, err = s.r.file(data); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store message"}
		}
	}
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, msg)
	s.r.mu.Unlock()
	return nil
}

// file writes data into the Maildir: to tmp/ first, then renamed into new/.
func (r *Relay) file(data []byte) (string, error) {
	name := fmt.Sprintf("%d.R%d_%d.relay", time.Now().Unix(), r.counter.Add(1), os.Getpid())
	tmp := filepath.Join(r.opts.Dir, "tmp", name)
	if err := os.WriteFile(tmp, bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), 0o600); err != nil {
		return "", err
	}
	dst := filepath.Join(r.opts.Dir, "new", name)
	return dst, os.Rename(tmp, dst)
}

func (s *session) Reset() {
	s.from, s.to = "", nil
}

func (s *session) Logout() error { return nil }

// Send mails body to addr as a plain SMTP client, from from (the null
// sender when empty) to each of to: what a receiving server does when it
// returns a bounce. The error is the server's refusal, if any.
func Send(addr, from string, to []string, body string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
