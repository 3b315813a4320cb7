package hl7

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// serve runs s on a loopback port until the test ends, answering every
// message AA (AE when it does not parse), and returns its address.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Handle == nil {
		s.Handle = func(_ context.Context, raw []byte) []byte {
			m, err := Parse(raw)
			if err != nil {
				return Ack(ParseHeader(raw), AE, err, time.Now())
			}
			return Ack(m, AA, nil, time.Now())
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// send sends one message on a new connection and returns its ACK code.
func send(addr string, tc *tls.Config, msg string) (string, error) {
	acks, err := Send(context.Background(), addr, tc, [][]byte{[]byte(msg)}, 2*time.Second)
	if err != nil {
		return "", err
	}
	code, _, err := AckCode(acks[0])
	return code, err
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "notifier hl7 test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestServerTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	addr := serve(t, &Server{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	if code, err := send(addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, s12("S12", "")); err != nil || code != AA {
		t.Errorf("over TLS: %s %v, want AA", code, err)
	}
	if code, err := send(addr, nil, s12("S12", "")); err == nil {
		t.Errorf("without TLS: answered %s, want no answer", code)
	}
	if _, err := send(addr, &tls.Config{ServerName: "127.0.0.1"}, s12("S12", "")); err == nil {
		t.Error("a client that does not trust the certificate got an answer")
	}
}

func TestServerAllowList(t *testing.T) {
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	_, elsewhere, _ := net.ParseCIDR("192.0.2.0/24")
	for _, tc := range []struct {
		name  string
		allow []*net.IPNet
		taken bool
	}{
		{"any when empty", nil, true},
		{"a listed network", []*net.IPNet{elsewhere, loopback}, true},
		{"not listed", []*net.IPNet{elsewhere}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, &Server{Allow: tc.allow})
			code, err := send(addr, nil, s12("S12", ""))
			if tc.taken && (err != nil || code != AA) {
				t.Errorf("%s %v, want AA", code, err)
			}
			if !tc.taken && err == nil {
				t.Errorf("answered %s, want the connection closed", code)
			}
		})
	}
}

func TestServerMaxConns(t *testing.T) {
	addr := serve(t, &Server{MaxConns: 1})
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	// The first connection is served (an ACK came back), so it holds the
	// one slot while it stays open.
	r := bufio.NewReader(first)
	first.SetDeadline(time.Now().Add(2 * time.Second))
	if err := WriteFrame(first, []byte(s12("S12", ""))); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFrame(r, MaxMessageSize); err != nil {
		t.Fatal(err)
	}
	if code, err := send(addr, nil, s12("S12", "")); err == nil {
		t.Errorf("a second connection answered %s, want it closed", code)
	}
	first.Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		code, err := send(addr, nil, s12("S12", ""))
		if err == nil && code == AA {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the first connection closed: %s %v, want AA", code, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerSizeLimit(t *testing.T) {
	small := s12("S12", "")
	addr := serve(t, &Server{MaxMessage: len(small)})
	if code, err := send(addr, nil, small); err != nil || code != AA {
		t.Fatalf("a message at the limit: %s %v, want AA", code, err)
	}
	big := small + "ZXY|" + strings.Repeat("x", 100) + "\r"
	acks, err := Send(context.Background(), addr, nil, [][]byte{[]byte(big), []byte(small)}, 2*time.Second)
	if len(acks) != 1 || err == nil {
		t.Fatalf("%d ACKs (%v), want one and the connection closed", len(acks), err)
	}
	if code, text, err := AckCode(acks[0]); err != nil || code != AR || !strings.Contains(text, "larger than") {
		t.Errorf("a message over the limit: %s %q %v, want AR saying it is too large", code, text, err)
	}
}

func TestServerReadTimeout(t *testing.T) {
	addr := serve(t, &Server{ReadTimeout: 100 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	for name, start := range map[string]string{"a frame begun and never ended": "\x0bMSH|", "silence": ""} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte(start))
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			began := time.Now()
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Fatal("the listener wrote something")
			} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the listener kept the connection open")
			}
			if d := time.Since(began); d > time.Second {
				t.Errorf("closed after %s", d)
			}
		})
	}
}
