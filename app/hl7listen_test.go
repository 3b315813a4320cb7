package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/hl7"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files, and returns their paths and a pool that trusts it.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "notifier hl7 listener"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "hl7.crt"), filepath.Join(dir, "hl7.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return certFile, keyFile, pool
}

// TestHL7ListenerFromConfig: the listener as hl7.tls_cert, hl7.tls_key,
// hl7.allow (a bare address) and hl7.max_message_bytes configure it, over
// real TCP: TLS is required, a source outside the list is not served, a
// message over the limit is answered AR and stored nowhere.
func TestHL7ListenerFromConfig(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	msg := siu("S12", "M1", "H-1", "P-1", "Müller", "Jana", "20201022093000", "")
	certFile, keyFile, pool := writeCert(t)
	e.cfg.HL7.TLSCert, e.cfg.HL7.TLSKey = certFile, keyFile
	e.cfg.HL7.Allow = []string{"127.0.0.1"}
	e.cfg.HL7.MaxMessageBytes = len(msg) + 10
	addr := e.startHL7(nil)
	tc := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	ctx := context.Background()

	acks, err := hl7.Send(ctx, addr, tc, [][]byte{[]byte(msg)}, 5*time.Second)
	if err != nil {
		t.Fatalf("over TLS from an allowed address: %v", err)
	}
	if code, _, _ := hl7.AckCode(acks[0]); code != hl7.AA {
		t.Errorf("over TLS: %s, want AA", code)
	}
	if _, err := hl7.Send(ctx, addr, nil, [][]byte{[]byte(msg)}, 2*time.Second); err == nil {
		t.Error("a plain connection was answered")
	}
	big := strings.Replace(msg, "Jana", "Jana"+strings.Repeat("a", 20), 1)
	acks, err = hl7.Send(ctx, addr, tc, [][]byte{[]byte(big)}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code, text, _ := hl7.AckCode(acks[0]); code != hl7.AR || !strings.Contains(text, "larger than") {
		t.Errorf("a message over hl7.max_message_bytes: %s %q, want AR", code, text)
	}

	e.cfg.HL7.Allow = []string{"192.0.2.7", "2001:db8::1"}
	elsewhere := e.startHL7(nil)
	if _, err := hl7.Send(ctx, elsewhere, tc, [][]byte{[]byte(msg)}, 2*time.Second); err == nil {
		t.Error("a source outside hl7.allow was answered")
	}
	waitUntil(t, "the one record in the replica", func() bool {
		n, _ := e.w.DB.CountAppointments(ctx, "ukd")
		return n == 1 && e.patientsOf("H-1")["H-1"].Name == "Jana Müller"
	})
}
