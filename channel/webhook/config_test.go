package webhook

import (
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{"plain http to a remote host", func(c *Config) { c.URL = "http://sms.example.org/send" }, "http is allowed for loopback hosts only"},
		{"plain http to a host that merely starts like loopback", func(c *Config) { c.URL = "http://127.0.0.1.example.org/send" }, "http is allowed for loopback hosts only"},
		{"another scheme", func(c *Config) { c.URL = "ftp://sms.example.org/" }, `scheme "ftp"`},
		{"a relative URL", func(c *Config) { c.URL = "/send" }, "want an absolute http(s) URL"},
		{"no URL", func(c *Config) { c.URL = "" }, "want an absolute http(s) URL"},
		{"no secret", func(c *Config) { c.Secret = nil }, "secret is required"},
		{"a short secret", func(c *Config) { c.Secret = []byte("secret") }, "want at least 16"},
		{"a negative timeout", func(c *Config) { c.Timeout = -time.Second }, "must not be negative"},
		{"negative max conns", func(c *Config) { c.MaxConns = -1 }, "must not be negative"},
		{"an unknown default region", func(c *Config) { c.DefaultRegion = "XX" }, `default region "XX"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Name: "sms", URL: "https://sms.example.org/send", Secret: testSecret}
			tt.change(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New() error = %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
	t.Run("the error hides a password in the URL", func(t *testing.T) {
		_, err := New(Config{URL: "http://user:hunter2@sms.example.org/send", Secret: testSecret})
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New() error = %v, want one without the password", err)
		}
	})
}

func TestNewAccepts(t *testing.T) {
	for _, url := range []string{
		"https://sms.example.org/send",
		"https://sms.example.org:8443/v1/messages?account=7",
		"http://127.0.0.1:8080/sms",
		"http://127.1.2.3/sms",
		"http://localhost:8080/sms",
		"http://[::1]:8080/sms",
	} {
		t.Run(url, func(t *testing.T) {
			if _, err := New(Config{URL: url, Secret: testSecret}); err != nil {
				t.Errorf("New() error = %v", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{URL: "https://sms.example.org:8443/send", Secret: testSecret, DefaultRegion: " de "})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if got, want := c.Name(), "sms.example.org:8443"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	if got := c.Medium(); got != notifier.MediumSMS {
		t.Errorf("Medium() = %q, want %q", got, notifier.MediumSMS)
	}
	if c.cfg.Timeout != DefaultTimeout || c.cfg.MaxConns != DefaultMaxConns || cap(c.slots) != DefaultMaxConns {
		t.Errorf("timeout, max conns, slots = %v, %d, %d; want %v, %d, %d",
			c.cfg.Timeout, c.cfg.MaxConns, cap(c.slots), DefaultTimeout, DefaultMaxConns, DefaultMaxConns)
	}
	if c.cfg.DefaultRegion != "DE" {
		t.Errorf("DefaultRegion = %q, want %q", c.cfg.DefaultRegion, "DE")
	}
	if c.cfg.Now == nil {
		t.Error("Now is nil, want time.Now")
	}
}
