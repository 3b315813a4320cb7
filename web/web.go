package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/postponement/notifier/calllist"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
)

// Options are what the handler reads from. DB is required; everything else
// is optional and the routes that need a missing part answer 404 (Metrics,
// CallList) or behave as if all were well (Ready, Health).
type Options struct {
	DB *store.DB
	// Health reports the channels' state (the chain's Health method).
	Health func() []notifier.ChannelHealth
	// CallList reads an outage's call list (app.CallList's Rows method).
	CallList func(ctx context.Context, outageID string) (calllist.Outage, []calllist.Row, error)
	// Staff, when it knows a token, lets staff sign in and work the call
	// list; RecordCall records what they do (the worker's RecordCall).
	// Without either the call list is only read.
	Staff      *Staff
	RecordCall func(ctx context.Context, ev notifier.CallEvent, seen uint64) (notifier.CallEvent, error)
	// Ready reports whether the worker can do its job: nil when it can,
	// else why not.
	Ready func(ctx context.Context) error
	// Metrics serves /metrics.
	Metrics http.Handler
	// Facilities are the configured sites by id: their names head the
	// outages and their time zones write the times. Times of an unknown
	// facility are written in UTC.
	Facilities map[string]notifier.Facility
	// Hosts are the names the server is reached by besides IP addresses
	// and localhost, such as a proxy's. A call list is refused to any other
	// Host header, so that a web page cannot read one through DNS
	// rebinding.
	Hosts []string
	// Logger logs failures to read the store; slog.Default when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// readyTimeout bounds one readiness check, so a probe never hangs.
const readyTimeout = 2 * time.Second

// server holds the options with their defaults.
type server struct {
	Options
	zones map[string]*time.Location
	// home is the zone of times that belong to no outage: the facilities'
	// zone when they share one, else UTC.
	home *time.Location
	log  *slog.Logger
}

// New returns the handler serving every route.
func New(o Options) http.Handler {
	s := &server{Options: o, log: o.Logger, zones: map[string]*time.Location{}}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.Health == nil {
		s.Health = func() []notifier.ChannelHealth { return nil }
	}
	for id, f := range o.Facilities {
		if loc, err := f.Location(); err == nil {
			s.zones[id] = loc
		}
	}
	s.home = sharedZone(s.zones)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.statusPage)
	mux.HandleFunc("GET /style.css", serveStyle)
	mux.HandleFunc("GET /api/outages", s.apiList)
	mux.HandleFunc("GET /api/outages/{id}", s.apiOne)
	mux.HandleFunc("GET /outages/{id}/calllist.csv", s.callListCSV)
	mux.HandleFunc("GET /outages/{id}/calllist.html", s.callListHTML)
	// Writes are refused to other origins: a page elsewhere cannot make a
	// signed-in browser post (with the SameSite=Strict cookie).
	csrf := http.NewCrossOriginProtection()
	mux.Handle("POST /outages/{id}/calls", csrf.Handler(http.HandlerFunc(s.recordCall)))
	mux.HandleFunc("GET "+signInPath, s.signInPage)
	mux.Handle("POST "+signInPath, csrf.Handler(http.HandlerFunc(s.signIn)))
	mux.Handle("POST "+signOutPath, csrf.Handler(http.HandlerFunc(s.signOut)))
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if o.Metrics != nil {
		mux.Handle("GET /metrics", o.Metrics)
	}
	return secure(mux)
}

// sharedZone is the one zone of every facility, or UTC when they differ or
// none is known.
func sharedZone(zones map[string]*time.Location) *time.Location {
	var shared *time.Location
	for _, z := range zones {
		if shared != nil && shared.String() != z.String() {
			return time.UTC
		}
		shared = z
	}
	if shared == nil {
		return time.UTC
	}
	return shared
}

// zone is the time zone of a facility's times.
func (s *server) zone(facility string) *time.Location {
	if z, ok := s.zones[facility]; ok {
		return z
	}
	return time.UTC
}

// pageCSP allows the status page its own stylesheet and nothing else: no
// script, no inline style, no frame, no form.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// secure sets the headers every response carries. A handler may narrow or
// widen the Content-Security-Policy for its own content.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// healthz answers while the process can serve at all.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}

// readyz answers 200 when the worker is ready, else 503 with the reason.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
	}
	fmt.Fprintln(w, "ready")
}

// notReady lists why the worker is not ready, nil when it is.
func (s *server) notReady(ctx context.Context) []string {
	if s.Ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	err := s.Ready(ctx)
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range joined.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

// fail answers 500 and logs why; the operator sees a plain message, the log
// has the error.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("web: request failed", "path", r.URL.Path, "err", err)
	http.Error(w, "The status could not be read; the log has the reason.", http.StatusInternalServerError)
}
