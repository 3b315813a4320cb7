package app

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/postponement/notifier/config"
)

// TestNATSCredentials connects to servers that require a password or a
// token, read from files as the configuration says, and fails clearly
// without them.
func TestNATSCredentials(t *testing.T) {
	dir := t.TempDir()
	secret := func(name, value string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	start := func(o *server.Options) string {
		o.Host, o.Port, o.NoLog, o.NoSigs = "127.0.0.1", -1, true, true
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(5 * time.Second) {
			t.Fatal("server did not start")
		}
		t.Cleanup(s.Shutdown)
		return s.ClientURL()
	}
	withUser := start(&server.Options{Username: "notifier", Password: "s3cret"})
	withToken := start(&server.Options{Authorization: "t0ken"})

	for name, tc := range map[string]struct {
		url     string
		cfg     config.NATS
		wantErr string
	}{
		"user and password file": {withUser, config.NATS{User: "notifier", PasswordFile: secret("pw", "s3cret")}, ""},
		"wrong password":         {withUser, config.NATS{User: "notifier", PasswordFile: secret("bad", "nope")}, "Authorization Violation"},
		"token file":             {withToken, config.NATS{TokenFile: secret("token", "t0ken")}, ""},
		"no credentials":         {withToken, config.NATS{}, "Authorization Violation"},
		"missing password file":  {withUser, config.NATS{User: "notifier", PasswordFile: filepath.Join(dir, "none")}, "password_file"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := ConnectWith(tc.url, tc.cfg, testLogger(t))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want it to mention %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %v shows the password", err)
			}
		})
	}
}

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
