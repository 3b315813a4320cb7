package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Defaults for zero Config fields.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMaxConns = 4
)

// MinSecretLen is the shortest Config.Secret New accepts. The gateway
// trusts whoever knows the secret to send SMS in the hospital's name, so it
// should be random: 32 bytes from a CSPRNG, e.g. `openssl rand -hex 32`.
const MinSecretLen = 16

// Config describes one gateway. Zero fields take the defaults above; Name
// defaults to the URL's host.
type Config struct {
	// Name is the channel's name in outcomes and logs.
	Name string
	// URL is the gateway's endpoint. It must be https, except for a
	// loopback host (a local adapter or a tunnel's end), where http is
	// allowed: the request carries the patient's phone number.
	URL string
	// Secret is the key of the HMAC signature that lets the gateway tell
	// the notifier's requests from forged ones. The caller reads it from a
	// file; it is used as it is, trailing newline included.
	Secret []byte
	// Timeout bounds each request, from connecting to reading the reply.
	Timeout time.Duration
	// MaxConns is how many requests may be in flight at once, and so how
	// many connections the channel holds to the gateway at most.
	MaxConns int
	// DefaultRegion is the ISO 3166 region (e.g. "DE") a phone number
	// written without a country code is read in when the notice does not
	// name its facility's country.
	DefaultRegion string
	// Client sends the requests, e.g. one that trusts a private root. If
	// nil, the channel uses its own, with MaxConns connections per host.
	// Redirects are never followed, whichever client: the signed request
	// carries a phone number and must not go anywhere but URL.
	Client *http.Client
	// Now is the clock of the signature's timestamp; time.Now if nil.
	Now func() time.Time
}

// normalize checks cfg, fills in defaults and returns the parsed URL.
func (cfg *Config) normalize() (*url.URL, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("url: want an absolute http(s) URL with a host")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("url %s: http is allowed for loopback hosts only, not %q: use https",
				u.Redacted(), u.Hostname())
		}
	default:
		return nil, fmt.Errorf("url %s: scheme %q: want https (or http for a loopback host)", u.Redacted(), u.Scheme)
	}
	if cfg.Name == "" {
		cfg.Name = u.Host
	}
	if len(cfg.Secret) == 0 {
		return nil, errors.New("secret is required: the gateway checks every request's signature with it")
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("secret has %d bytes, want at least %d", len(cfg.Secret), MinSecretLen)
	}
	cfg.Secret = bytes.Clone(cfg.Secret)
	if cfg.Timeout < 0 || cfg.MaxConns < 0 {
		return nil, errors.New("timeout and max conns must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.DefaultRegion != "" {
		cfg.DefaultRegion = strings.ToUpper(strings.TrimSpace(cfg.DefaultRegion))
		if !phonenumbers.GetSupportedRegions()[cfg.DefaultRegion] {
			return nil, fmt.Errorf("default region %q: not an ISO 3166 region with phone numbers", cfg.DefaultRegion)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return u, nil
}

// client returns the HTTP client the channel sends with: a copy of the
// caller's, or one of its own, that never follows redirects.
func (cfg *Config) client() *http.Client {
	var c http.Client
	if cfg.Client != nil {
		c = *cfg.Client
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxConnsPerHost = cfg.MaxConns
		t.MaxIdleConnsPerHost = cfg.MaxConns
		c.Transport = t
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
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
