package smtp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// TLS modes for Config.TLS.
const (
	// TLSNone speaks plaintext. It is allowed for loopback relays only (a
	// local MTA or a tunnel endpoint) and never carries credentials.
	TLSNone = "none"
	// TLSStartTLS upgrades a plaintext connection with STARTTLS and fails
	// if the relay does not offer it; it never falls back to plaintext.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (submissions, port 465).
	TLSImplicit = "tls"
)

// Defaults for zero Config fields.
const (
	DefaultMaxConns       = 4
	DefaultDialTimeout    = 10 * time.Second
	DefaultCommandTimeout = 30 * time.Second
	DefaultHelloName      = "localhost"
)

// Config describes one relay. Zero fields take the defaults above; TLS
// defaults to TLSStartTLS and Name to Addr.
type Config struct {
	// Name is the channel's name in outcomes and logs.
	Name string
	// Addr is the relay's host:port.
	Addr string
	// TLS is TLSNone, TLSStartTLS or TLSImplicit.
	TLS string
	// From is the sender, e.g. "UKD <noreply@example.org>".
	From string
	// Username and Password, when set, authenticate with AUTH PLAIN, which
	// is only ever sent over TLS.
	Username, Password string
	// TLSConfig sets trusted roots or a server name; nil verifies the
	// relay's certificate against the system roots and Addr's host. TLS
	// versions below 1.2 are never negotiated.
	TLSConfig *tls.Config
	// MaxConns is how many messages may be in flight on this relay, and so
	// how many connections it holds at most.
	MaxConns int
	// DialTimeout bounds the TCP connect. Connection setup as a whole
	// (connect, greeting, EHLO, STARTTLS, TLS handshake, AUTH) is bounded
	// by DialTimeout plus CommandTimeout.
	DialTimeout time.Duration
	// CommandTimeout bounds each command's reply, including the reply to
	// the end of the message data.
	CommandTimeout time.Duration
	// EnvelopeFrom, when set, gives each notice's envelope sender (MAIL
	// FROM), so that bounces name the notice (VERP); where it gives "",
	// or is not set, the From address is used.
	EnvelopeFrom func(m *notifier.Message) string
	// HelloName is the name sent with EHLO.
	HelloName string
	// Logger receives debug events about connections; slog.Default() if nil.
	Logger *slog.Logger
}

// normalize checks cfg, fills in defaults and returns the relay's host.
func (cfg *Config) normalize() (host string, err error) {
	host, _, err = net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return "", fmt.Errorf("addr %q: want host:port", cfg.Addr)
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Addr
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	switch cfg.TLS {
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if cfg.Username != "" || cfg.Password != "" {
			return "", errors.New("credentials need TLS: tls none never sends AUTH")
		}
		if !isLoopback(host) {
			return "", fmt.Errorf("tls none is allowed for loopback relays only, not %q: use starttls or tls", host)
		}
	default:
		return "", fmt.Errorf("tls %q: want %q, %q or %q", cfg.TLS, TLSNone, TLSStartTLS, TLSImplicit)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return "", errors.New("password without username")
	}
	if cfg.MaxConns < 0 || cfg.DialTimeout < 0 || cfg.CommandTimeout < 0 {
		return "", errors.New("max conns and timeouts must not be negative")
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	if cfg.HelloName == "" {
		cfg.HelloName = DefaultHelloName
	}
	if strings.ContainsFunc(cfg.HelloName, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", fmt.Errorf("hello name %q: want a host name", cfg.HelloName)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return host, nil
}

// clientTLS is the TLS configuration used with the relay at host: the
// caller's, with at least TLS 1.2 and the relay's host as server name.
func (cfg *Config) clientTLS(host string) *tls.Config {
	tc := &tls.Config{}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	return tc
}

// isLoopback reports whether host names this machine: "localhost" or a
// loopback IP. Other names are not resolved, as DNS may change later.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
