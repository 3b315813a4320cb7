package hl7

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// MLLP frame bytes: a message is sent as 0x0B, the message, 0x1C 0x0D.
const (
	startBlock = 0x0B
	endBlock   = 0x1C
	carriage   = 0x0D
)

// ErrTooLarge is returned by ReadFrame for a message over the limit.
var ErrTooLarge = errors.New("MLLP: message larger than the limit")

// ReadFrame reads one MLLP frame and returns the message inside it. Bytes
// between frames (line breaks some senders add) are skipped. A message
// over max bytes is an ErrTooLarge.
func ReadFrame(r *bufio.Reader, max int) ([]byte, error) {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if c == startBlock {
			break
		}
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			return nil, fmt.Errorf("MLLP: byte 0x%02x before the start of a frame", c)
		}
	}
	var msg []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if c == endBlock {
			next, err := r.ReadByte()
			if err != nil {
				return nil, io.ErrUnexpectedEOF
			}
			if next != carriage {
				return nil, errors.New("MLLP: end of frame not followed by a carriage return")
			}
			return msg, nil
		}
		if len(msg) >= max {
			return nil, ErrTooLarge
		}
		msg = append(msg, c)
	}
}

// WriteFrame writes msg as one MLLP frame.
func WriteFrame(w io.Writer, msg []byte) error {
	buf := make([]byte, 0, len(msg)+3)
	buf = append(buf, startBlock)
	buf = append(buf, msg...)
	buf = append(buf, endBlock, carriage)
	_, err := w.Write(buf)
	return err
}

// Server accepts MLLP connections and answers every message with the
// acknowledgement Handle returns, one message at a time per connection.
type Server struct {
	// Handle answers one message (the bytes inside its frame). A nil
	// answer closes the connection unanswered: the sender sends the
	// message again.
	Handle func(ctx context.Context, msg []byte) []byte
	// MaxMessage bounds a message (default and at most MaxMessageSize,
	// the largest Parse reads); a larger one is answered AR and ends the
	// connection.
	MaxMessage int
	// MaxConns bounds the connections served at once (default 64); more
	// are closed at once.
	MaxConns int
	// Allow, when not empty, are the networks connections are taken from;
	// others are closed at once.
	Allow []*net.IPNet
	// IdleTimeout closes a connection silent for this long (default 5m),
	// ReadTimeout bounds the reading of one frame once begun (default 30s).
	IdleTimeout, ReadTimeout time.Duration
	// TLS, when set, is required of every connection.
	TLS *tls.Config
	Log *slog.Logger
}

// Serve serves ln until ctx ends, then closes the connections and waits
// for the messages being handled.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.TLS != nil {
		ln = tls.NewListener(ln, s.TLS)
	}
	maxConns := s.MaxConns
	if maxConns <= 0 {
		maxConns = 64
	}
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	slots := make(chan struct{}, maxConns)
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	conns := map[net.Conn]struct{}{}
	var mu sync.Mutex
	defer func() {
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if !s.allowed(c.RemoteAddr()) {
			log.Warn("hl7: connection refused: source address not allowed", "remote", c.RemoteAddr().String())
			c.Close()
			continue
		}
		select {
		case slots <- struct{}{}:
		default:
			log.Warn("hl7: connection refused: too many connections", "max", maxConns)
			c.Close()
			continue
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			defer func() { mu.Lock(); delete(conns, c); mu.Unlock(); c.Close() }()
			s.serveConn(ctx, c, log)
		}()
	}
}

func (s *Server) allowed(addr net.Addr) bool {
	if len(s.Allow) == 0 {
		return true
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	for _, n := range s.Allow {
		if n.Contains(tcp.IP) {
			return true
		}
	}
	return false
}

func (s *Server) serveConn(ctx context.Context, c net.Conn, log *slog.Logger) {
	max := s.MaxMessage
	if max <= 0 || max > MaxMessageSize {
		max = MaxMessageSize
	}
	idle, read := s.IdleTimeout, s.ReadTimeout
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	if read <= 0 {
		read = 30 * time.Second
	}
	r := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		if _, err := r.Peek(1); err != nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(read))
		msg, err := ReadFrame(r, max)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Warn("hl7: connection closed", "remote", c.RemoteAddr().String(), "reason", err.Error())
				if errors.Is(err, ErrTooLarge) {
					WriteFrame(c, Ack(nil, AR, fmt.Errorf("message larger than %d bytes", max), time.Now()))
				}
			}
			return
		}
		ack := s.Handle(ctx, msg)
		if ack == nil {
			return
		}
		c.SetWriteDeadline(time.Now().Add(read))
		if err := WriteFrame(c, ack); err != nil {
			return
		}
	}
}

// Send sends each message on one connection and returns the
// acknowledgements, in order.
func Send(ctx context.Context, addr string, tc *tls.Config, msgs [][]byte, timeout time.Duration) ([][]byte, error) {
	d := net.Dialer{Timeout: timeout}
	var c net.Conn
	var err error
	if tc != nil {
		c, err = (&tls.Dialer{NetDialer: &d, Config: tc}).DialContext(ctx, "tcp", addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	r := bufio.NewReader(c)
	acks := make([][]byte, 0, len(msgs))
	for _, m := range msgs {
		c.SetDeadline(time.Now().Add(timeout))
		if err := WriteFrame(c, m); err != nil {
			return acks, err
		}
		ack, err := ReadFrame(r, MaxMessageSize)
		if err != nil {
			return acks, fmt.Errorf("reading the acknowledgement: %w", err)
		}
		acks = append(acks, ack)
	}
	return acks, nil
}

// SplitFile splits a file of messages (as interface engines export them:
// segments on lines, messages starting with MSH, optionally MLLP-framed)
// into messages with CR-ended segments.
func SplitFile(data []byte) [][]byte {
	data = bytes.ReplaceAll(data, []byte{startBlock}, nil)
	data = bytes.ReplaceAll(data, []byte{endBlock}, []byte{'\n'})
	var msgs [][]byte
	var cur []byte
	for _, line := range bytes.FieldsFunc(data, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if bytes.HasPrefix(line, []byte("MSH")) && len(cur) > 0 {
			msgs = append(msgs, cur)
			cur = nil
		}
		cur = append(append(cur, line...), '\r')
	}
	if len(cur) > 0 {
		msgs = append(msgs, cur)
	}
	return msgs
}
