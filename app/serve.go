package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/metrics"
	"github.com/postponement/notifier/store"
	"github.com/postponement/notifier/web"
)

// Handler is everything the worker serves over HTTP, as Serve serves it:
// the web package's pages with the worker's readiness, behind the bearer
// token when http.token_file is set.
func Handler(cfg *config.Config, w *Worker, conn *Conn, m *metrics.Metrics, log *slog.Logger) (http.Handler, error) {
	staff, err := newStaff(cfg)
	if err != nil {
		return nil, err
	}
	var h http.Handler = web.New(web.Options{
		DB: w.DB, Health: w.Chain.Health, CallList: NewCallList(cfg, w.DB).Rows, Metrics: m.Handler(),
		Facilities: cfg.FacilityMap(), Hosts: cfg.HTTP.Hosts, Logger: log,
		Ready: newReadiness(cfg, w, conn).check, Staff: staff, RecordCall: w.RecordCall,
	})
	if cfg.HTTP.TokenFile != "" {
		token, err := ReadSecret(cfg.HTTP.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("http.token_file: %w", err)
		}
		if len(token) < 16 {
			return nil, errors.New("http.token_file: the token is shorter than 16 characters")
		}
		h = requireToken(token, h, staff.Admits)
	}
	// Receipts are authenticated by the channel's signature, not by the
	// page's token, which gateways do not have.
	hooks, err := newHooks(cfg, w.DB, conn.JS, log)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for path, hook := range hooks {
		mux.Handle(path, hook)
	}
	// Patients open their confirmation links without the page's token.
	if cfg.Confirm.Enabled() {
		page, err := newConfirmPage(cfg, w.DB, conn.JS, log)
		if err != nil {
			return nil, err
		}
		mux.Handle(ConfirmPath, page)
	}
	mux.Handle("/", h)
	return mux, nil
}

// ServeHook serves h on addr, with the status page's connection limits and
// timeouts, until ctx ends; over TLS when certFile and keyFile are set.
func ServeHook(ctx context.Context, addr, certFile, keyFile string, h http.Handler, log *slog.Logger) error {
	ln, err := listenHTTP(addr, config.DefaultHTTPMaxConns)
	if err != nil {
		return err
	}
	srv := newHTTPServer(h)
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	defer stop()
	if certFile != "" || keyFile != "" {
		log.Info("listening", "url", "https://"+ln.Addr().String()+"/")
		err = srv.ServeTLS(ln, certFile, keyFile)
	} else {
		log.Info("listening", "url", "http://"+ln.Addr().String()+"/")
		err = srv.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Instrument gives the worker its metrics, before it runs.
func Instrument(w *Worker) *metrics.Metrics {
	m := metrics.New(w.Chain.Health)
	w.Observer = m
	m.Outages(func() []metrics.OutageFigures { return outageFigures(w.DB) })
	m.Views(w.Applied)
	return m
}

// outageFigures are the outages' counts the status page shows, for the
// metrics; none when the store cannot be read (the scrape says nothing
// rather than something false).
func outageFigures(db *store.DB) []metrics.OutageFigures {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := db.OutageStatuses(ctx, time.Now())
	if err != nil {
		return nil
	}
	out := make([]metrics.OutageFigures, 0, len(list))
	for _, o := range list {
		out = append(out, metrics.OutageFigures{ID: o.Outage.OutageID, Facility: o.Outage.Facility, Counts: map[string]int{
			"planned": o.Planned, "delivered": o.Delivered, "manual": o.Manual, "pending": o.Pending,
			"confirmed": o.Confirmed, "failed_after_acceptance": o.FailedAfterAccept,
			"calllist_to_call": o.Calls.ToCall, "calllist_later": o.Calls.Later, "calllist_claimed": o.Calls.Claimed,
			"calllist_reached": o.Calls.Reached, "calllist_unreachable": o.Calls.Unreachable,
		}, SoonestUnreached: o.EarliestUnreached})
	}
	return out
}

// Serve serves the status page, the call lists, the API, the metrics and
// the health checks on cfg.HTTP.Addr until the returned stop is called.
// A port that is taken fails the start, rather than a worker running
// without its page.
func Serve(cfg *config.Config, w *Worker, conn *Conn, m *metrics.Metrics, log *slog.Logger) (stop func(), err error) {
	if cfg.HTTP.Addr == "off" {
		return func() {}, nil
	}
	h, err := Handler(cfg, w, conn, m, log)
	if err != nil {
		return nil, err
	}
	ln, err := listenHTTP(cfg.HTTP.Addr, cfg.HTTP.MaxConns)
	if err != nil {
		return nil, fmt.Errorf("http.addr: %w", err)
	}
	srv := newHTTPServer(h)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("status page stopped", "err", err)
		}
	}()
	log.Info("status page", "url", "http://"+ln.Addr().String()+"/")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// requireToken lets through only requests with the bearer token, /healthz,
// which says nothing but that the process runs, and what admit lets
// through: staff signed in to work the call list, whose browsers cannot
// send the bearer token.
func requireToken(token string, next http.Handler, admit func(*http.Request) bool) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) == 1 || admit(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="notifier"`)
		http.Error(w, "a bearer token is required", http.StatusUnauthorized)
	})
}

// The HTTP server's limits: a client that is slow to send its request, that
// reads its answer slowly or that keeps an idle connection open is cut off,
// so that unauthenticated clients cannot hold connections for ever.
const (
	httpReadHeaderTimeout = 10 * time.Second
	httpReadTimeout       = 30 * time.Second
	httpWriteTimeout      = 2 * time.Minute // a call-list CSV of a large outage
	httpIdleTimeout       = 60 * time.Second
	httpMaxHeaderBytes    = 32 << 10
)

// listenHTTP listens on addr and accepts at most maxConns connections at
// once.
func listenHTTP(addr string, maxConns int) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return netutil.LimitListener(ln, maxConns), nil
}

// newHTTPServer is the server of the status page, API and webhooks, with
// its limits.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    httpMaxHeaderBytes,
	}
}
