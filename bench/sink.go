package bench

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// sink is an SMTP server that accepts every message and keeps only when
// each notice was first accepted, by the notice id in its Message-ID. Unlike
// package relay it holds no message, so it adds nothing to the peak RSS
// being measured but a few bytes per notice.
type sink struct {
	srv *smtp.Server
	l   net.Listener

	mu       sync.Mutex
	notices  map[[16]byte]time.Time // first acceptance per notice
	repeated int                    // notices accepted more than once
	// Messages and bytes by what their Message-ID says they are: notices
	// of the worker ("n-…") or baseline messages ("b-…").
	noticeMsgs, noticeBytes     atomic.Int64
	baselineMsgs, baselineBytes atomic.Int64
	otherMsgs                   atomic.Int64
	// latency is how long the sink takes to accept a message once it has
	// arrived, as a relay that stores it on disk before it answers.
	latency time.Duration
}

func startSink(latency time.Duration) (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{l: l, notices: map[[16]byte]time.Time{}, latency: latency}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "sink.localhost"
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.MaxMessageBytes = 64 << 20
	s.srv.MaxRecipients = 50
	go s.srv.Serve(l)
	return s, nil
}

func (s *sink) Addr() string { return s.l.Addr().String() }

func (s *sink) Close() error { return s.srv.Close() }

// NewSession implements smtp.Backend.
func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

// acceptances returns the first acceptance of every notice, in no order,
// and how many notices were accepted more than once.
func (s *sink) acceptances() ([]time.Time, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]time.Time, 0, len(s.notices))
	for _, t := range s.notices {
		out = append(out, t)
	}
	return out, s.repeated
}

var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

type sinkSession struct{ s *sink }

func (*sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (*sinkSession) Reset()                               {}
func (*sinkSession) Logout() error                        { return nil }

// Data reads the header for the Message-ID, discards the rest, and records
// the time the whole message had arrived: the moment the relay accepts it.
func (ss *sinkSession) Data(r io.Reader) error {
	br := readers.Get().(*bufio.Reader)
	defer readers.Put(br)
	br.Reset(r)
	var id []byte
	var size int64
	for {
		line, err := br.ReadSlice('\n')
		size += int64(len(line))
		if err != nil && err != bufio.ErrBufferFull {
			if err == io.EOF {
				break
			}
			return err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break // end of the header
		}
		if len(line) > 11 && bytes.EqualFold(line[:11], []byte("message-id:")) {
			id = messageID(line[11:])
		}
	}
	rest, err := io.Copy(io.Discard, br)
	if err != nil {
		return err
	}
	size += rest
	s := ss.s
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	now := time.Now()
	switch {
	case bytes.HasPrefix(id, []byte("b-")):
		s.baselineMsgs.Add(1)
		s.baselineBytes.Add(size)
	case bytes.HasPrefix(id, []byte("n-")):
		var key [16]byte
		if len(id) != 2+hex.EncodedLen(len(key)) {
			s.otherMsgs.Add(1)
			return nil
		}
		if _, err := hex.Decode(key[:], id[2:]); err != nil {
			s.otherMsgs.Add(1)
			return nil
		}
		s.noticeMsgs.Add(1)
		s.noticeBytes.Add(size)
		s.mu.Lock()
		if _, seen := s.notices[key]; seen {
			s.repeated++
		} else {
			s.notices[key] = now
		}
		s.mu.Unlock()
	default:
		s.otherMsgs.Add(1)
	}
	return nil
}

// messageID takes the local part of " <id@domain>".
func messageID(v []byte) []byte {
	v = bytes.TrimSpace(v)
	v = bytes.TrimPrefix(v, []byte("<"))
	if at := bytes.IndexByte(v, '@'); at >= 0 {
		v = v[:at]
	}
	return bytes.Clone(v)
}
