// Package config reads the worker's YAML configuration: a plain struct whose
// zero values take sane defaults, loaded once by the command.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/hl7"
	"github.com/postponement/notifier/notifier"
)

// DefaultParallel is dispatch.parallel unless set.
const DefaultParallel = engine.DefaultParallel

// DefaultNATSURL is where the embedded server listens by default, and so
// where the commands look for NATS when nothing else is said.
const DefaultNATSURL = "nats://127.0.0.1:4222"

// Config is the whole configuration. See notifier.example.yaml.
type Config struct {
	// DataDir holds the SQLite file, the embedded NATS store and the
	// default Maildir (default ./data).
	DataDir    string              `yaml:"data_dir"`
	NATS       NATS                `yaml:"nats"`
	Facilities map[string]Facility `yaml:"facilities"`
	// Channels are tried in this order.
	Channels []Channel `yaml:"channels"`
	Dispatch Dispatch  `yaml:"dispatch"`
	Plan     Plan      `yaml:"plan"`
	HL7      HL7       `yaml:"hl7"`
	Bounces  Bounces   `yaml:"bounces"`
	Confirm  Confirm   `yaml:"confirm"`
	CallList CallList  `yaml:"calllist"`
	HTTP     HTTP      `yaml:"http"`
	Log      Log       `yaml:"log"`
}

// HTTP configures the status page, the API and the metrics.
type HTTP struct {
	// Addr is where they are served (default 127.0.0.1:8025); "off"
	// serves nothing.
	Addr string `yaml:"addr"`
	// Hosts are names the server is reached by besides IP addresses and
	// localhost (a reverse proxy's, say): call lists are refused to any
	// other Host, so that no web page can read one through DNS rebinding.
	Hosts []string `yaml:"hosts"`
	// TokenFile holds the bearer token every request must carry
	// ("Authorization: Bearer <token>"), /healthz excepted. Required when
	// addr is not a loopback address; optional on loopback.
	TokenFile string `yaml:"token_file"`
	// MaxConns caps the connections served at once (default 256); more
	// wait to be accepted, so a flood of idle clients cannot use up the
	// process's file descriptors, which the embedded NATS server shares.
	MaxConns int `yaml:"max_conns"`
}

// CallList configures how staff work the call list on its page.
type CallList struct {
	// ClaimFor is how long "I am calling this patient" holds a row for
	// the staff member who claimed it (default 15m).
	ClaimFor time.Duration `yaml:"claim_for"`
	// RetryAfter is how long a row whose call went unanswered (no answer,
	// voicemail left) stays out of "to call" (default 1h).
	RetryAfter time.Duration `yaml:"retry_after"`
	// MaxAttempts unsuccessful calls make a patient unreachable (default
	// 3).
	MaxAttempts int `yaml:"max_attempts"`
	// StaffTokenFile holds the tokens that let staff claim rows and record
	// outcomes, one per line (blank lines and lines starting with # are
	// skipped), each at least 16 characters. Without it the call list is
	// read-only.
	StaffTokenFile string `yaml:"staff_token_file"`
}

// CallPolicy is how the call list is worked.
func (c *Config) CallPolicy() notifier.CallPolicy {
	return notifier.CallPolicy{ClaimFor: c.CallList.ClaimFor, RetryAfter: c.CallList.RetryAfter, MaxAttempts: c.CallList.MaxAttempts}
}

// DefaultHTTPMaxConns is http.max_conns when the configuration is silent.
const DefaultHTTPMaxConns = 256

// NATS says which NATS to use.
type NATS struct {
	// URL of the NATS server(s), comma-separated; empty starts an embedded
	// server.
	URL string `yaml:"url"`
	// Listen is the embedded server's address (default 127.0.0.1:4222).
	Listen string `yaml:"listen"`
	// Replicas is the replica count of the streams created (default 1).
	Replicas int `yaml:"replicas"`
	// FastImport lets APPOINTMENTS take JetStream fast batches, which
	// `notifier import` then publishes (default true). Such a stream needs
	// nats-server 2.14 or later on every node that holds it: false keeps
	// it off while a cluster still runs an older one.
	FastImport *bool `yaml:"fast_import"`

	// Credentials, at most one kind: a .creds file (JWT and nkey seed), an
	// nkey seed file, a user with a password file, or a token file.
	CredsFile    string `yaml:"creds_file"`
	NkeyFile     string `yaml:"nkey_file"`
	User         string `yaml:"user"`
	PasswordFile string `yaml:"password_file"`
	TokenFile    string `yaml:"token_file"`
	// TLS to the servers: a CA to verify them, and a client certificate.
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// FastImportOn is nats.fast_import with its default.
func (n NATS) FastImportOn() bool { return n.FastImport == nil || *n.FastImport }

// Facility is a hospital site.
type Facility struct {
	Name string `yaml:"name"`
	// ShortName names the facility in SMS (e.g. UKD); name when empty.
	ShortName string `yaml:"short_name"`
	TimeZone  string `yaml:"timezone"`
	Language  string `yaml:"language"`
	// Country is the ISO 3166 region code used for phone numbers written
	// without a country code, e.g. DE.
	Country string `yaml:"country"`

	// Keys are the public keys ("ed25519:<id>:<base64>", from `notifier
	// keygen`) whose signatures on outage events are trusted; Approvers
	// those whose outage.approved events release a held outage.
	Keys      []string `yaml:"keys"`
	Approvers []string `yaml:"approvers"`
	// RequireSignedEvents refuses unsigned or badly signed outage events;
	// the default is true when any key is listed.
	RequireSignedEvents *bool `yaml:"require_signed_events"`
	// ApprovalThreshold holds an outage that would notify more patients
	// than this until it is approved (0, the default: never held).
	ApprovalThreshold int `yaml:"approval_threshold"`
	// ApprovalTTL is how long after it was published an approval can still
	// release a held outage (default notifier.DefaultApprovalTTL).
	ApprovalTTL time.Duration `yaml:"approval_ttl"`
	// SensitiveDepartments appear in notices under a neutral label ("your
	// appointment at our hospital"), never by name or location.
	SensitiveDepartments []string `yaml:"sensitive_departments"`
	// AllowAddressLiterals admits patient e-mail addresses such as
	// jana@[192.0.2.1], which name a host by its IP address; refused by
	// default.
	AllowAddressLiterals bool `yaml:"allow_address_literals"`
	// Bounces, when set, are the facility's own: each key set overrides
	// the global bounces' (BouncesFor).
	Bounces *Bounces `yaml:"bounces"`
}

// Channel is one link of the fallback chain.
type Channel struct {
	Name string `yaml:"name"`
	// Type is smtp, webhook (an SMS gateway) or maildir, each a channel
	// that sends; or calllist, which sends nothing: it is where the notices
	// no channel took end up (always last; added when not configured), and
	// its path is the call lists' folder.
	Type string `yaml:"type"`

	// smtp
	Addr           string        `yaml:"addr"`
	TLS            string        `yaml:"tls"` // none (loopback only), starttls, tls
	From           string        `yaml:"from"`
	Username       string        `yaml:"username"`
	PasswordFile   string        `yaml:"password_file"`
	PasswordEnv    string        `yaml:"password_env"`
	CAFile         string        `yaml:"ca_file"`
	MaxConns       int           `yaml:"max_conns"`
	DialTimeout    time.Duration `yaml:"dial_timeout"`
	CommandTimeout time.Duration `yaml:"command_timeout"`

	// maildir and calllist: the folder written to
	Path string `yaml:"path"`

	// webhook
	URL        string        `yaml:"url"`
	SecretFile string        `yaml:"secret_file"`
	Timeout    time.Duration `yaml:"timeout"`
	// DefaultRegion reads phone numbers without a country code when the
	// facility names no country (ISO 3166, e.g. DE).
	DefaultRegion string `yaml:"default_region"`

	Retry Retry `yaml:"retry"`
	// Rate limits sends on this channel, as "50/s" or "600/m"; empty is
	// unlimited.
	Rate    string  `yaml:"rate"`
	Breaker Breaker `yaml:"breaker"`
}

// Breaker configures a channel's circuit breaker.
type Breaker struct {
	// Failures in a row that open the breaker (default 5).
	Failures int `yaml:"failures"`
	// OpenFor is how long the channel is skipped before it is probed
	// again (default 30s).
	OpenFor time.Duration `yaml:"open_for"`
}

// Retry is a channel's budget for transient failures.
type Retry struct {
	Attempts   int           `yaml:"attempts"`
	Backoff    time.Duration `yaml:"backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	Budget     time.Duration `yaml:"budget"`
}

// Bounces configures the bounce endpoint (POST /hooks/bounce) for mail
// providers that post bounces.
type Bounces struct {
	// Domain, when set, gives every notice sent by SMTP its own envelope
	// sender bounce+<notice>.<mac>@<domain> (VERP), so that a bounce names
	// the notice; the domain's MX must lead to Addr.
	Domain string `yaml:"domain"`
	// Addr is where the worker takes bounces by SMTP (e.g. ":2526"); off
	// when empty.
	Addr string `yaml:"addr"`
	// SecretFile holds the secret that authenticates the bounce
	// addresses (HMAC) and signs bounce reports posted to /hooks/bounce
	// (as the SMS webhook signs: X-Notifier-Signature); without it the
	// endpoint refuses every report.
	SecretFile string `yaml:"secret_file"`
}

// BouncesFor is the bounces configuration of a facility's notices: the
// global one, with every key the facility sets overriding it.
func (c *Config) BouncesFor(facility string) Bounces {
	b := c.Bounces
	if f, ok := c.Facilities[facility]; ok && f.Bounces != nil {
		b.Domain = cmp.Or(f.Bounces.Domain, b.Domain)
		b.Addr = cmp.Or(f.Bounces.Addr, b.Addr)
		b.SecretFile = cmp.Or(f.Bounces.SecretFile, b.SecretFile)
	}
	return b
}

// AllBounces is every distinct bounces configuration in use, the global one
// first, each with the facilities whose notices it serves (none for the
// global one when every facility has its own).
func (c *Config) AllBounces() []BouncesUse {
	out := []BouncesUse{{Bounces: c.Bounces}}
	for _, id := range slices.Sorted(maps.Keys(c.Facilities)) {
		b := c.BouncesFor(id)
		i := slices.IndexFunc(out, func(u BouncesUse) bool { return u.Bounces == b })
		if i < 0 {
			i = len(out)
			out = append(out, BouncesUse{Bounces: b})
		}
		out[i].Facilities = append(out[i].Facilities, id)
	}
	return out
}

// BouncesUse is a bounces configuration and the facilities that use it.
type BouncesUse struct {
	Bounces
	Facilities []string
}

// validate checks one bounces configuration; key names it (bounces or
// facilities.<id>.bounces).
func (b Bounces) validate(key string, httpOff bool) []error {
	var errs []error
	if (b.Domain != "" || b.Addr != "") && b.SecretFile == "" {
		errs = append(errs, fmt.Errorf("%s.secret_file: required with %[1]s.domain or %[1]s.addr: it authenticates the bounce addresses", key))
	}
	if b.Addr != "" && b.Domain == "" {
		errs = append(errs, fmt.Errorf("%s.domain: required with %[1]s.addr: without it no bounce can name its notice", key))
	}
	if httpOff && b.Addr == "" && (b.Domain != "" || b.SecretFile != "") {
		errs = append(errs, fmt.Errorf("%s: without %[1]s.addr, bounces come only by POST /hooks/bounce on http.addr, which is off: set %[1]s.addr or http.addr", key))
	}
	return errs
}

// Confirm configures the notices' confirmation links: with both keys set,
// every notice asks its patient to confirm reading it through a personal
// link, <public_url>/c/<token>, which the worker serves outside the status
// page's token (a reverse proxy should pass /c/ alone to the worker).
type Confirm struct {
	// PublicURL is the address patients reach the worker's /c/ pages at,
	// such as https://notice.example.org (https, or http on loopback).
	PublicURL string `yaml:"public_url"`
	// SecretFile holds the secret (at least 16 characters) that signs the
	// links (HMAC): nobody can make or guess a link to another notice.
	SecretFile string `yaml:"secret_file"`
}

// Enabled reports whether notices carry confirmation links.
func (c Confirm) Enabled() bool { return c.PublicURL != "" && c.SecretFile != "" }

// DefaultConfirmWithin is how long an urgent notice may stay delivered but
// unconfirmed before it goes on the call list, unless configured.
const DefaultConfirmWithin = 2 * time.Hour

// HL7 configures `notifier hl7 listen`, the MLLP listener for HL7 v2
// scheduling messages.
type HL7 struct {
	// Addr is where it listens (default :2575).
	Addr string `yaml:"addr"`
	// TLSCert and TLSKey, both set, make it require TLS.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Allow lists the networks (CIDR, or single addresses) connections are
	// taken from; empty: any.
	Allow []string `yaml:"allow"`
	// MaxMessageBytes bounds one message (default and most 1 MiB, the
	// parser's hl7.MaxMessageSize); MaxConns the connections served at once
	// (default 64).
	MaxMessageBytes int `yaml:"max_message_bytes"`
	MaxConns        int `yaml:"max_conns"`
	// Fields name where a KIS writes an appointment's department, location
	// and kind, as places such as AIL-3.4 (defaults: AIL-3.1, AIL-3.9,
	// SCH-8.1); Kinds maps appointment type codes to kinds.
	Fields struct {
		Department string `yaml:"department"`
		Location   string `yaml:"location"`
		Kind       string `yaml:"kind"`
	} `yaml:"fields"`
	Kinds map[string]string `yaml:"kinds"`
}

// validate checks the limits and field places of the HL7 listener.
func (h HL7) validate() []error {
	var errs []error
	if h.MaxMessageBytes < 0 || h.MaxMessageBytes > hl7.MaxMessageSize {
		errs = append(errs, fmt.Errorf("hl7.max_message_bytes: %d, want at most %d (1 MiB, the largest message the HL7 parser reads; 0 for that)", h.MaxMessageBytes, hl7.MaxMessageSize))
	}
	if h.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("hl7.max_conns: %d is negative", h.MaxConns))
	}
	for name, place := range map[string]string{"department": h.Fields.Department, "location": h.Fields.Location, "kind": h.Fields.Kind} {
		if place == "" {
			continue
		}
		if _, err := hl7.ParsePath(place); err != nil {
			errs = append(errs, fmt.Errorf("hl7.fields.%s: %w", name, err))
		}
	}
	return errs
}

// Plan tunes the planning of outage events.
type Plan struct {
	// AckWait is how long an outage event held by a planner that died or
	// went silent waits before another worker (or the same one,
	// restarted) plans it (default engine.DefaultPlanAckWait).
	AckWait time.Duration `yaml:"ack_wait"`
	// MaxAttempts is how many times an event whose planning fails is
	// tried, with growing waits, before it is recorded as failed and the
	// facility's next event is planned (default
	// engine.DefaultPlanAttempts).
	MaxAttempts int `yaml:"max_attempts"`
}

// Dispatch tunes sending.
type Dispatch struct {
	// UrgentWithin: a notice whose earliest appointment starts within this
	// time is urgent: sent on e-mail and SMS at once, ahead of the others
	// (default 48h).
	UrgentWithin time.Duration `yaml:"urgent_within"`
	// UrgentDeadline: an urgent notice that no channel accepted within
	// this time goes to the call list (default 15m).
	UrgentDeadline time.Duration `yaml:"urgent_deadline"`
	// Parallel is how many notices are handled at once, per priority
	// (default DefaultParallel). A notice also waits for NATS between its
	// sends, so keep it well above the channels' max_conns.
	Parallel int `yaml:"parallel"`
	// ShutdownGrace bounds how long sends in flight may go on after a
	// stop signal (default 30s).
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// AckWait is how long a notice held by a worker that died or went
	// silent waits before another worker (or the same one, restarted)
	// takes it over (default 30s).
	AckWait time.Duration `yaml:"ack_wait"`
	// ConfirmWithin is, per urgency (urgent, normal), how long a delivered
	// notice may go unconfirmed before it goes on the call list with the
	// reason "not confirmed". Only with confirmation links (confirm); the
	// default is 2h for urgent notices and never for the others; 0 turns
	// it off.
	ConfirmWithin map[string]time.Duration `yaml:"confirm_within"`
}

// ConfirmDeadline is how long a delivered notice of the urgency may go
// unconfirmed, or 0 for as long as it likes.
func (d Dispatch) ConfirmDeadline(urgent bool) time.Duration {
	key := "normal"
	if urgent {
		key = "urgent"
	}
	if v, ok := d.ConfirmWithin[key]; ok || !urgent {
		return v
	}
	return DefaultConfirmWithin
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // text (default) or json
}

// Channel types.
const (
	TypeSMTP     = "smtp"
	TypeMaildir  = "maildir"
	TypeWebhook  = "webhook"
	TypeCallList = "calllist"
)

// Default is the configuration used without a file: embedded NATS, data
// under ./data, the Düsseldorf University Hospital facility as in the
// examples, and a Maildir channel.
func Default() *Config {
	c := &Config{
		Facilities: map[string]Facility{
			"ukd": {Name: "Universitätsklinikum Düsseldorf", ShortName: "UKD", TimeZone: "Europe/Berlin", Language: "de", Country: "DE"},
		},
	}
	c.applyDefaults()
	return c
}

// Load reads the file at path, or returns Default when path is empty.
// Unknown keys are errors, so that a misspelt key is not silently ignored.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates a YAML configuration.
func Parse(data []byte) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) applyDefaults() {
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.NATS.Listen == "" {
		c.NATS.Listen = "127.0.0.1:4222"
	}
	if c.NATS.Replicas <= 0 {
		c.NATS.Replicas = 1
	}
	if len(c.Channels) == 0 {
		c.Channels = []Channel{{Name: "maildir", Type: TypeMaildir}}
	}
	// The call list is always the last resort, configured or not.
	if last := c.Channels[len(c.Channels)-1]; last.Type != TypeCallList {
		c.Channels = append(c.Channels, Channel{Name: TypeCallList, Type: TypeCallList})
	}
	for i := range c.Channels {
		ch := &c.Channels[i]
		switch {
		case ch.Type == TypeMaildir && ch.Path == "":
			ch.Path = filepath.Join(c.DataDir, "maildir")
		case ch.Type == TypeCallList && ch.Path == "":
			ch.Path = filepath.Join(c.DataDir, "calllist")
		}
		if ch.Name == "" {
			ch.Name = fmt.Sprintf("%s-%d", ch.Type, i+1)
		}
		if ch.Breaker.Failures <= 0 {
			ch.Breaker.Failures = notifier.DefaultBreakerFailures
		}
		if ch.Breaker.OpenFor <= 0 {
			ch.Breaker.OpenFor = notifier.DefaultBreakerOpenFor
		}
	}
	if c.Dispatch.AckWait <= 0 {
		c.Dispatch.AckWait = engine.DefaultAckWait
	}
	if c.Plan.AckWait <= 0 {
		c.Plan.AckWait = engine.DefaultPlanAckWait
	}
	if c.Plan.MaxAttempts <= 0 {
		c.Plan.MaxAttempts = engine.DefaultPlanAttempts
	}
	if c.Dispatch.UrgentWithin <= 0 {
		c.Dispatch.UrgentWithin = notifier.DefaultUrgentWithin
	}
	if c.Dispatch.UrgentDeadline <= 0 {
		c.Dispatch.UrgentDeadline = notifier.DefaultUrgentDeadline
	}
	if c.Dispatch.Parallel <= 0 {
		c.Dispatch.Parallel = DefaultParallel
	}
	if c.Dispatch.ShutdownGrace <= 0 {
		c.Dispatch.ShutdownGrace = engine.DefaultShutdownGrace
	}
	if c.HTTP.MaxConns <= 0 {
		c.HTTP.MaxConns = DefaultHTTPMaxConns
	}
	if c.CallList.ClaimFor <= 0 {
		c.CallList.ClaimFor = notifier.DefaultCallClaimFor
	}
	if c.CallList.RetryAfter <= 0 {
		c.CallList.RetryAfter = notifier.DefaultCallRetryAfter
	}
	if c.CallList.MaxAttempts <= 0 {
		c.CallList.MaxAttempts = notifier.DefaultCallMaxAttempts
	}
	if c.HTTP.Addr == "" {
		c.HTTP.Addr = "127.0.0.1:8025"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
}

// validateConfirm checks the confirmation links' keys.
func (c *Config) validateConfirm() []error {
	var errs []error
	if (c.Confirm.PublicURL == "") != (c.Confirm.SecretFile == "") {
		errs = append(errs, errors.New("confirm: public_url and secret_file go together: the links need both"))
	}
	if c.Confirm.PublicURL != "" {
		u, err := url.Parse(c.Confirm.PublicURL)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("confirm.public_url: %w", err))
		case u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			errs = append(errs, fmt.Errorf("confirm.public_url: %q is not an absolute https:// address", c.Confirm.PublicURL))
		case u.Scheme == "http" && !loopback(u.Hostname()):
			errs = append(errs, fmt.Errorf("confirm.public_url: %q: patients' links must use https (http only on loopback, for trying it out)", c.Confirm.PublicURL))
		case u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, fmt.Errorf("confirm.public_url: %q: no query or fragment, please", c.Confirm.PublicURL))
		}
	}
	for k, v := range c.Dispatch.ConfirmWithin {
		if k != "urgent" && k != "normal" {
			errs = append(errs, fmt.Errorf("dispatch.confirm_within: %q is not urgent or normal", k))
		}
		if v < 0 {
			errs = append(errs, fmt.Errorf("dispatch.confirm_within.%s: negative", k))
		}
	}
	return errs
}

// Validate checks the configuration and says what is wrong, key by key.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Facilities) == 0 {
		errs = append(errs, errors.New("facilities: at least one facility is required"))
	}
	errs = append(errs, c.Bounces.validate("bounces", c.HTTP.Addr == "off")...)
	for _, id := range slices.Sorted(maps.Keys(c.Facilities)) {
		if c.Facilities[id].Bounces != nil {
			errs = append(errs, c.BouncesFor(id).validate("facilities."+id+".bounces", c.HTTP.Addr == "off")...)
		}
	}
	errs = append(errs, c.validateConfirm()...)
	for id, f := range c.Facilities {
		if !notifier.ValidID(id) {
			errs = append(errs, fmt.Errorf("facilities: %q is not of the form [A-Za-z0-9_-]+", id))
		}
		for _, k := range append(append([]string(nil), f.Keys...), f.Approvers...) {
			if _, err := notifier.ParsePublicKey(k); err != nil {
				errs = append(errs, fmt.Errorf("facilities.%s: %w", id, err))
			}
		}
		if f.ApprovalTTL < 0 {
			errs = append(errs, fmt.Errorf("facilities.%s.approval_ttl: negative", id))
		}
		if f.ApprovalThreshold < 0 {
			errs = append(errs, fmt.Errorf("facilities.%s.approval_threshold: negative", id))
		}
		if f.TimeZone == "" {
			errs = append(errs, fmt.Errorf("facilities.%s.timezone: required (e.g. Europe/Berlin)", id))
		} else if _, err := time.LoadLocation(f.TimeZone); err != nil {
			errs = append(errs, fmt.Errorf("facilities.%s.timezone: %w", id, err))
		}
	}
	if c.HTTP.Addr == "off" {
		// Links and webhooks that lead to a server that is not there.
		if c.Confirm.PublicURL != "" || c.Confirm.SecretFile != "" {
			errs = append(errs, errors.New("confirm: the confirmation links lead to /c/ on http.addr, which is off: set http.addr (and expose /c/ at confirm.public_url), or leave confirm out"))
		}
	}
	if c.HTTP.Addr != "off" {
		if host, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
			errs = append(errs, fmt.Errorf("http.addr: %w", err))
		} else if !loopback(host) && c.HTTP.TokenFile == "" {
			errs = append(errs, fmt.Errorf("http.addr %s is reachable from other machines: set http.token_file, the pages hold patient data", c.HTTP.Addr))
		}
	}
	creds := 0
	for _, set := range []bool{c.NATS.CredsFile != "", c.NATS.NkeyFile != "", c.NATS.User != "", c.NATS.TokenFile != ""} {
		if set {
			creds++
		}
	}
	if creds > 1 {
		errs = append(errs, errors.New("nats: set one of creds_file, nkey_file, user or token_file"))
	}
	if c.NATS.User != "" && c.NATS.PasswordFile == "" {
		errs = append(errs, errors.New("nats.user: needs password_file"))
	}
	if (c.NATS.CertFile == "") != (c.NATS.KeyFile == "") {
		errs = append(errs, errors.New("nats: cert_file and key_file go together"))
	}
	if _, _, err := net.SplitHostPort(c.NATS.Listen); err != nil {
		errs = append(errs, fmt.Errorf("nats.listen: %w", err))
	}
	names := map[string]bool{}
	for i, ch := range c.Channels {
		key := fmt.Sprintf("channels[%d] (%s)", i, ch.Name)
		if names[ch.Name] {
			errs = append(errs, fmt.Errorf("%s: name used twice", key))
		}
		names[ch.Name] = true
		switch ch.Type {
		case TypeSMTP:
			if _, _, err := net.SplitHostPort(ch.Addr); err != nil {
				errs = append(errs, fmt.Errorf("%s.addr: want host:port: %w", key, err))
			}
			if !slices.Contains([]string{"none", "starttls", "tls"}, ch.TLS) {
				errs = append(errs, fmt.Errorf("%s.tls: %q, want none, starttls or tls", key, ch.TLS))
			}
			if ch.From == "" {
				errs = append(errs, fmt.Errorf("%s.from: required", key))
			}
			if ch.Username != "" && ch.PasswordFile == "" && ch.PasswordEnv == "" {
				errs = append(errs, fmt.Errorf("%s: username set but no password_file or password_env", key))
			}
		case TypeWebhook:
			if u, err := url.Parse(ch.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs = append(errs, fmt.Errorf("%s.url: want an http or https URL", key))
			}
			if ch.SecretFile == "" {
				errs = append(errs, fmt.Errorf("%s.secret_file: required, requests are signed", key))
			}
		case TypeCallList:
			if i != len(c.Channels)-1 {
				errs = append(errs, fmt.Errorf("%s: the call list is the last resort and must come last", key))
			}
		case TypeMaildir:
		default:
			errs = append(errs, fmt.Errorf("%s.type: %q, want smtp, webhook, maildir or calllist", key, ch.Type))
		}
		if _, err := ParseRate(ch.Rate); err != nil {
			errs = append(errs, fmt.Errorf("%s.rate: %w", key, err))
		}
	}
	errs = append(errs, c.HL7.validate()...)
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		errs = append(errs, fmt.Errorf("log.level: %q, want debug, info, warn or error", c.Log.Level))
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		errs = append(errs, fmt.Errorf("log.format: %q, want text or json", c.Log.Format))
	}
	return errors.Join(errs...)
}

// CallListDir is the folder of the call lists: the path of the calllist
// entry of channels, else data_dir/calllist. The call list is not a
// channel that sends; it is where the notices no channel took end up.
func (c *Config) CallListDir() string {
	for _, ch := range c.Channels {
		if ch.Type == TypeCallList && ch.Path != "" {
			return ch.Path
		}
	}
	return filepath.Join(c.DataDir, "calllist")
}

// Senders are the channels that send, in the configured order: every
// entry of channels but the call list.
func (c *Config) Senders() []Channel {
	out := make([]Channel, 0, len(c.Channels))
	for _, ch := range c.Channels {
		if ch.Type != TypeCallList {
			out = append(out, ch)
		}
	}
	return out
}

// Facility returns one configured facility as the worker wants it, or an
// error naming the unknown id and what to do about it.
func (c *Config) Facility(id string) (notifier.Facility, error) {
	f, ok := c.FacilityMap()[id]
	if !ok {
		return f, fmt.Errorf("unknown facility %q: add it under facilities in the configuration", id)
	}
	return f, nil
}

// FacilityMap returns the facilities as the worker wants them.
func (c *Config) FacilityMap() map[string]notifier.Facility {
	m := make(map[string]notifier.Facility, len(c.Facilities))
	for id, f := range c.Facilities {
		lang := strings.ToLower(f.Language)
		nf := notifier.Facility{ID: id, Name: f.Name, ShortName: f.ShortName, TimeZone: f.TimeZone, Language: lang,
			Country: strings.ToUpper(f.Country), ApprovalThreshold: f.ApprovalThreshold, ApprovalTTL: f.ApprovalTTL,
			SensitiveDepartments: f.SensitiveDepartments, AllowAddressLiterals: f.AllowAddressLiterals}
		nf.Keys, nf.Approvers = parseKeys(f.Keys), parseKeys(f.Approvers)
		nf.RequireSigned = len(nf.Keys) > 0
		if f.RequireSignedEvents != nil {
			nf.RequireSigned = *f.RequireSignedEvents
		}
		m[id] = nf
	}
	return m
}

// Password reads the channel's password from its file or environment
// variable; empty when neither is set.
func (ch *Channel) Password() (string, error) {
	switch {
	case ch.PasswordFile != "":
		b, err := os.ReadFile(ch.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("channel %s: password_file: %w", ch.Name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case ch.PasswordEnv != "":
		v, ok := os.LookupEnv(ch.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("channel %s: password_env: %s is not set", ch.Name, ch.PasswordEnv)
		}
		return v, nil
	}
	return "", nil
}

// ParseRate reads a rate such as "50/s", "600/m" or "3600/h" as events per
// second; empty is 0, unlimited.
func ParseRate(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	n, unit, ok := strings.Cut(strings.ReplaceAll(s, " ", ""), "/")
	count, err := strconv.ParseFloat(n, 64)
	if !ok || err != nil || count <= 0 {
		return 0, fmt.Errorf("%q: want a rate such as 50/s or 600/m", s)
	}
	per := map[string]float64{"s": 1, "m": 60, "h": 3600}[unit]
	if per == 0 {
		return 0, fmt.Errorf("%q: the unit must be s, m or h", s)
	}
	return count / per, nil
}

// Policy is the urgency policy of the configuration.
func (c *Config) Policy() notifier.Policy {
	return notifier.Policy{UrgentWithin: c.Dispatch.UrgentWithin, UrgentDeadline: c.Dispatch.UrgentDeadline}
}

// Medium is what the channel reaches patients through; ok is false for the
// call list, which sends nothing.
func (ch Channel) Medium() (md notifier.Medium, ok bool) {
	switch ch.Type {
	case TypeSMTP, TypeMaildir:
		return notifier.MediumEmail, true
	case TypeWebhook:
		return notifier.MediumSMS, true
	}
	return "", false
}

// parseKeys reads keys that Validate has checked.
func parseKeys(keys []string) []notifier.PublicKey {
	var out []notifier.PublicKey
	for _, k := range keys {
		if pk, err := notifier.ParsePublicKey(k); err == nil {
			out = append(out, pk)
		}
	}
	return out
}

// loopback reports whether host names this machine only.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
