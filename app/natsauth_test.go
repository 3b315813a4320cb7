package app

import (
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
