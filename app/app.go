// Package app wires the notifier's parts from a configuration: NATS
// (embedded or remote), the SQLite store, the templates and the channel
// chain. The commands in cmd/notifier stay thin by calling it.
package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"github.com/postponement/notifier/channel/maildir"
	"github.com/postponement/notifier/channel/smtp"
	"github.com/postponement/notifier/channel/webhook"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/natsd"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// NewLogger returns the logger the configuration asks for, writing to w.
func NewLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Conn is a connection to NATS with its JetStream context, and the embedded
// server when one was started for it.
type Conn struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	Server *natsd.Server
}

// Close drains the connection and stops the embedded server, if any.
func (c *Conn) Close() {
	if c.NC != nil {
		_ = c.NC.Drain()
		for c.NC.IsDraining() {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if c.Server != nil {
		c.Server.Shutdown()
	}
}

// StartOrConnect starts the embedded server when the configuration names
// no NATS URL, and connects to it or to the configured servers.
func StartOrConnect(cfg *config.Config, log *slog.Logger) (*Conn, error) {
	if cfg.NATS.URL != "" {
		return ConnectWith(cfg.NATS.URL, cfg.NATS, log)
	}
	host, port, err := splitPort(cfg.NATS.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats.listen: %w", err)
	}
	srv, err := natsd.Start(natsd.Options{Host: host, Port: port, StoreDir: filepath.Join(cfg.DataDir, "nats")})
	if err != nil {
		return nil, err
	}
	log.Info("embedded NATS server started", "url", srv.ClientURL(), "store", filepath.Join(cfg.DataDir, "nats"))
	c, err := Connect(srv.ClientURL(), log)
	if err != nil {
		srv.Shutdown()
		return nil, err
	}
	c.Server = srv
	return c, nil
}

// Connect connects to the NATS servers at url without credentials,
// reconnecting for ever once connected.
func Connect(url string, log *slog.Logger) (*Conn, error) {
	return ConnectWith(url, config.NATS{}, log)
}

// ConnectWith connects to the NATS servers at url with the configuration's
// credentials and TLS, reconnecting for ever once connected.
func ConnectWith(url string, c config.NATS, log *slog.Logger) (*Conn, error) {
	auth, err := natsAuth(c)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(url, append(auth,
		nats.Name("notifier"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.Timeout(5*time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("reconnected to NATS", "url", nc.ConnectedUrlRedacted()) }),
	)...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w (is `notifier run` or a NATS server running there?)", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &Conn{NC: nc, JS: js}, nil
}

// natsAuth turns the configuration's credentials and TLS into options.
// Secrets are read from files, never from the configuration itself.
func natsAuth(c config.NATS) ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case c.CredsFile != "":
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	case c.NkeyFile != "":
		o, err := nats.NkeyOptionFromSeed(c.NkeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats.nkey_file: %w", err)
		}
		opts = append(opts, o)
	case c.User != "":
		password, err := ReadSecret(c.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("nats.password_file: %w", err)
		}
		opts = append(opts, nats.UserInfo(c.User, password))
	case c.TokenFile != "":
		token, err := ReadSecret(c.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("nats.token_file: %w", err)
		}
		opts = append(opts, nats.Token(token))
	}
	if c.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.CAFile))
	}
	if c.CertFile != "" {
		opts = append(opts, nats.ClientCert(c.CertFile, c.KeyFile))
	}
	if c.CAFile != "" || c.CertFile != "" {
		opts = append(opts, nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	return opts, nil
}

// ReadSecret reads a secret from a file, without the line end an editor
// adds.
func ReadSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// OpenStore opens the SQLite file under the data folder. log, when set,
// hears of each schema migration before it is applied.
func OpenStore(cfg *config.Config, log *slog.Logger) (*store.DB, error) {
	db := store.NewDB(filepath.Join(cfg.DataDir, "notifier.db"))
	if log != nil {
		db.Migrating = func(name string) {
			log.Info("migrating the store; the worker is ready once it is done", "migration", name)
		}
	}
	if err := db.Open(); err != nil {
		return nil, err
	}
	return db, nil
}

// Chain is the configured fallback chain and what must be closed with it.
type Chain struct {
	*notifier.Chain
	closers []io.Closer
}

// Close closes the channels' connections.
func (c *Chain) Close() error {
	var errs []error
	for _, cl := range c.closers {
		errs = append(errs, cl.Close())
	}
	return errors.Join(errs...)
}

// BuildChain makes the channels of the configuration, in order.
func BuildChain(cfg *config.Config) (*Chain, error) {
	c := &Chain{}
	senders := cfg.Senders()
	links := make([]notifier.Link, 0, len(senders))
	for _, ch := range senders {
		s, err := newSender(cfg, ch)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
		}
		if cl, ok := s.(io.Closer); ok {
			c.closers = append(c.closers, cl)
		}
		l := notifier.Link{
			Sender: s,
			Retry: notifier.Retry{Attempts: ch.Retry.Attempts, Backoff: ch.Retry.Backoff,
				MaxBackoff: ch.Retry.MaxBackoff, Budget: ch.Retry.Budget},
			Breaker: notifier.NewBreaker(ch.Name, ch.Breaker.Failures, ch.Breaker.OpenFor),
		}
		if perSecond, _ := config.ParseRate(ch.Rate); perSecond > 0 {
			l.Limit = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
		}
		links = append(links, l)
	}
	c.Chain = notifier.NewChain(cfg.Policy(), links...)
	return c, nil
}

// verpSender gives each notice its own envelope sender,
// bounce+<notice>.<mac>@<domain>, when the bounces of its facility
// (facilities.<id>.bounces, else bounces) have a domain; nil when none has.
func verpSender(cfg *config.Config) (func(*notifier.Message) string, error) {
	type verp struct {
		domain string
		secret []byte
	}
	byFacility := map[string]verp{}
	var global verp
	for _, u := range cfg.AllBounces() {
		if u.Domain == "" {
			continue
		}
		secret, err := ReadSecret(u.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("bounces.secret_file %s: %w", u.SecretFile, err)
		}
		v := verp{u.Domain, []byte(secret)}
		if u.Bounces == cfg.Bounces {
			global = v
		}
		for _, id := range u.Facilities {
			byFacility[id] = v
		}
	}
	if len(byFacility) == 0 && global.domain == "" {
		return nil, nil
	}
	return func(m *notifier.Message) string {
		v, ok := global, false
		if m.Notice != nil {
			v, ok = byFacility[m.Notice.Facility]
			if !ok {
				v = global
			}
		}
		if v.domain == "" {
			return ""
		}
		return notifier.VERPAddress(m.NoticeID, v.domain, v.secret)
	}, nil
}

func newSender(cfg *config.Config, ch config.Channel) (notifier.Sender, error) {
	switch ch.Type {
	case config.TypeMaildir:
		from := ch.From
		if from == "" {
			from = "Notifier <noreply@localhost>"
		}
		return maildir.New(ch.Name, ch.Path, from)
	case config.TypeSMTP:
		password, err := ch.Password()
		if err != nil {
			return nil, err
		}
		var tc *tls.Config
		if ch.CAFile != "" {
			pem, err := os.ReadFile(ch.CAFile)
			if err != nil {
				return nil, fmt.Errorf("ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca_file %s: no PEM certificates", ch.CAFile)
			}
			tc = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		envelope, err := verpSender(cfg)
		if err != nil {
			return nil, err
		}
		return smtp.New(smtp.Config{
			Name: ch.Name, Addr: ch.Addr, TLS: ch.TLS, From: ch.From,
			Username: ch.Username, Password: password, TLSConfig: tc,
			MaxConns: ch.MaxConns, DialTimeout: ch.DialTimeout, CommandTimeout: ch.CommandTimeout,
			EnvelopeFrom: envelope,
		})
	case config.TypeWebhook:
		secret, err := ReadSecret(ch.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("secret_file: %w", err)
		}
		return webhook.New(webhook.Config{
			Name: ch.Name, URL: ch.URL, Secret: []byte(secret), Timeout: ch.Timeout,
			MaxConns: ch.MaxConns, DefaultRegion: ch.DefaultRegion,
		})
	}
	return nil, fmt.Errorf("unknown channel type %q", ch.Type)
}

// Worker is a notifier worker with everything it was built from.
type Worker struct {
	*engine.Worker
	DB    *store.DB
	Chain *Chain
}

// Close closes the channels and the store.
func (w *Worker) Close() error {
	return errors.Join(w.Chain.Close(), w.DB.Close())
}

// NewWorker builds a worker from the configuration on an open connection.
func NewWorker(cfg *config.Config, js jetstream.JetStream, log *slog.Logger) (*Worker, error) {
	r, err := NewRenderer(cfg)
	if err != nil {
		return nil, err
	}
	chain, err := BuildChain(cfg)
	if err != nil {
		return nil, err
	}
	db, err := OpenStore(cfg, log)
	if err != nil {
		chain.Close()
		return nil, err
	}
	return &Worker{
		Worker: &engine.Worker{
			JS: js, Store: db, Renderer: r, Chain: chain.Chain,
			Facilities: cfg.FacilityMap(), Languages: r.Languages(),
			Parallel: cfg.Dispatch.Parallel, Replicas: cfg.NATS.Replicas, FastImport: cfg.NATS.FastImportOn(),
			ShutdownGrace: cfg.Dispatch.ShutdownGrace, AckWait: cfg.Dispatch.AckWait, Logger: log,
			PlanAckWait: cfg.Plan.AckWait, PlanAttempts: cfg.Plan.MaxAttempts,
			CallList: NewCallList(cfg, db), ConfirmWithin: confirmWithin(cfg), CallPolicy: cfg.CallPolicy(),
		},
		DB: db, Chain: chain,
	}, nil
}

// WaitForOutcomes waits until the event has been planned and every notice
// of its outage has an outcome, reporting progress to fn after each look.
func WaitForOutcomes(ctx context.Context, db *store.DB, ev *notifier.Event, fn func(store.Summary)) (store.Summary, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		planned, err := db.HasEvent(ctx, ev.Outage.Facility, ev.Source, ev.ID)
		if err != nil {
			return store.Summary{}, err
		}
		s, err := db.Summarize(ctx, ev.Outage.OutageID)
		if err != nil {
			return s, err
		}
		if fn != nil {
			fn(s)
		}
		if planned && s.Pending == 0 {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-t.C:
		}
	}
}
