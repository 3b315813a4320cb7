package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Refusals found before talking to the relay about a message.
var (
	errNoStartTLS = errors.New("relay does not offer STARTTLS")
	errNoAuth     = errors.New("relay does not offer AUTH PLAIN")
	errNoTLS      = errors.New("refusing AUTH on a connection without TLS")
	errNoSMTPUTF8 = errors.New("relay does not offer SMTPUTF8, which the address needs")
)

// conn is one connection to the relay.
type conn struct {
	// raw is the TCP connection under any TLS: closing it aborts whatever
	// the client is waiting for.
	raw     net.Conn
	client  *smtp.Client
	timeout time.Duration
	// lastUsed is when the connection went idle.
	lastUsed time.Time
	// reused is set once the connection has carried a message before.
	reused bool
	// dead is set once raw was closed under the client.
	dead bool
}

// dial connects, greets, secures and authenticates a new connection, all
// within DialTimeout plus CommandTimeout.
func (c *Channel) dial(ctx context.Context) (*conn, error) {
	setupCtx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout+c.cfg.CommandTimeout)
	defer cancel()

	d := net.Dialer{Timeout: c.cfg.DialTimeout}
	raw, err := d.DialContext(setupCtx, "tcp", c.cfg.Addr)
	if err != nil {
		return nil, &stageError{stageConnect, err}
	}
	// go-smtp sets its own deadlines per command; closing the connection
	// is what bounds the setup as a whole.
	stop := context.AfterFunc(setupCtx, func() { raw.Close() })
	cl, err := c.setup(setupCtx, raw)
	if !stop() {
		err = errors.Join(setupCtx.Err(), err)
	}
	if err != nil {
		raw.Close()
		return nil, &stageError{stageSetup, err}
	}
	return &conn{raw: raw, client: cl, timeout: c.cfg.CommandTimeout}, nil
}

// setup runs the SMTP session up to the first transaction.
func (c *Channel) setup(ctx context.Context, raw net.Conn) (*smtp.Client, error) {
	var cl *smtp.Client
	switch c.cfg.TLS {
	case TLSImplicit:
		tc := tls.Client(raw, c.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, err
		}
		cl = smtp.NewClient(tc)
	case TLSStartTLS:
		var err error
		if cl, err = smtp.NewClientStartTLS(raw, c.tls); err != nil {
			if !isReply(err) && !isNetwork(err) && strings.Contains(err.Error(), "STARTTLS") {
				// go-smtp reports a missing STARTTLS with an untyped error.
				err = errNoStartTLS
			}
			return nil, err
		}
	default:
		cl = smtp.NewClient(raw)
	}
	cl.CommandTimeout = c.cfg.CommandTimeout
	cl.SubmissionTimeout = c.cfg.CommandTimeout
	// With STARTTLS, this EHLO is the first exchange over TLS and so also
	// where the handshake happens.
	if err := cl.Hello(c.cfg.HelloName); err != nil {
		cl.Close()
		return nil, err
	}
	if c.cfg.Username == "" {
		return cl, nil
	}
	if _, ok := cl.TLSConnectionState(); !ok {
		cl.Close()
		return nil, errNoTLS
	}
	if !cl.SupportsAuth(sasl.Plain) {
		cl.Close()
		return nil, errNoAuth
	}
	if err := cl.Auth(sasl.NewPlainClient("", c.cfg.Username, c.cfg.Password)); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// send runs one mail transaction: MAIL, RCPT, DATA and the message.
func (cn *conn) send(ctx context.Context, from, to string, msg []byte) error {
	return cn.do(ctx, func() error {
		var opts *smtp.MailOptions
		if !isASCII(from) || !isASCII(to) {
			if ok, _ := cn.client.Extension("SMTPUTF8"); !ok {
				return &stageError{stageMail, errNoSMTPUTF8}
			}
			opts = &smtp.MailOptions{UTF8: true}
		}
		if err := cn.client.Mail(from, opts); err != nil {
			return &stageError{stageMail, err}
		}
		if err := cn.client.Rcpt(to, nil); err != nil {
			return &stageError{stageRcpt, err}
		}
		w, err := cn.client.Data()
		if err != nil {
			return &stageError{stageData, err}
		}
		// go-smtp bounds commands and the final reply, not the writing of
		// the message itself; a relay that stops reading must not hang us.
		cn.raw.SetDeadline(time.Now().Add(cn.timeout))
		if _, err := w.Write(msg); err != nil {
			return &stageError{stageData, err}
		}
		if err := w.Close(); err != nil {
			return &stageError{stageEnd, err}
		}
		return nil
	})
}

// noop checks that an idle connection is still alive.
func (cn *conn) noop(ctx context.Context) error {
	return cn.do(ctx, cn.client.Noop)
}

// reset ends a refused transaction so the connection can carry the next.
func (cn *conn) reset(ctx context.Context) error {
	return cn.do(ctx, cn.client.Reset)
}

// do runs an exchange with the relay, closing the connection if ctx ends
// first; a connection closed that way is marked dead.
func (cn *conn) do(ctx context.Context, exchange func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { cn.raw.Close() })
	err := exchange()
	if !stop() {
		cn.dead = true
	}
	return err
}

// quit says goodbye to the relay, closing the connection either way.
func (cn *conn) quit() {
	if err := cn.client.Quit(); err != nil {
		cn.client.Close()
	}
}

// close drops the connection without QUIT.
func (cn *conn) close() {
	cn.client.Close()
}

// isASCII reports whether s has no byte above 0x7f.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
