package app

import (
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/web"
)

// TestStatusPageToken: a page reachable from other machines needs a token;
// with one, requests without it are refused, /healthz excepted.
func TestStatusPageToken(t *testing.T) {
	cfg := config.Default()
	cfg.HTTP.Addr = "0.0.0.0:8025"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "token_file") {
		t.Errorf("a non-loopback address without a token: %v, want an error naming token_file", err)
	}
	h := requireToken("0123456789abcdef", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) }), (*web.Staff)(nil).Admits)
	for _, tc := range []struct {
		path, auth string
		want       int
	}{
		{"/", "", http.StatusUnauthorized},
		{"/outages/o-1/calllist.csv", "Bearer wrong", http.StatusUnauthorized},
		{"/outages/o-1/calllist.csv", "Bearer 0123456789abcdef", http.StatusOK},
		{"/healthz", "", http.StatusOK},
	} {
		r := httptest.NewRequest("GET", tc.path, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("GET %s with %q: %d, want %d", tc.path, tc.auth, w.Code, tc.want)
		}
	}
}

// TestHTTPFloodOfIdleConnections: a bounded flood of idle connections that
// never send a request is not accepted beyond http.max_conns, so it cannot
// use up the process's file descriptors; once the flood goes away the page
// answers again.
func TestHTTPFloodOfIdleConnections(t *testing.T) {
	const maxConns, flood = 4, 200
	ln, err := listenHTTP("127.0.0.1:0", maxConns)
	if err != nil {
		t.Fatal(err)
	}
	var open atomic.Int64
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	conns := make([]net.Conn, 0, flood)
	for range flood {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	waitUntil(t, "the server accepts as many as it may", func() bool { return open.Load() == maxConns })
	// Accepting more takes a free slot; none frees up while the flood holds on.
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
		if n := open.Load(); n > maxConns {
			t.Fatalf("%d connections served at once, want at most %d", n, maxConns)
		}
		runtime.Gosched()
	}
	for _, c := range conns {
		c.Close()
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("after the flood: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the flood: %s", resp.Status)
	}
	if srv.IdleTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Errorf("server without limits on idle, slow or large requests: %+v", srv)
	}
}
