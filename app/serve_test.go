package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/postponement/notifier/config"
)

// TestStatusPageToken: a page reachable from other machines needs a token;
// with one, requests without it are refused, /healthz excepted.
func TestStatusPageToken(t *testing.T) {
	cfg := config.Default()
	cfg.HTTP.Addr = "0.0.0.0:8025"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "token_file") {
		t.Errorf("a non-loopback address without a token: %v, want an error naming token_file", err)
	}
	h := requireToken("0123456789abcdef", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) }))
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
