package smtp

import (
	"strings"
	"testing"
	"time"
)

func TestNewChecksConfig(t *testing.T) {
	valid := Config{Addr: "relay.example.org:587", From: "UKD <noreply@example.org>"}

	for _, tc := range []struct {
		name    string
		modify  func(*Config)
		wantErr string // empty: New must succeed
	}{
		{"defaults are valid", func(*Config) {}, ""},
		{"none on 127.0.0.1", func(c *Config) { c.Addr, c.TLS = "127.0.0.1:25", TLSNone }, ""},
		{"none on ::1", func(c *Config) { c.Addr, c.TLS = "[::1]:25", TLSNone }, ""},
		{"none on localhost", func(c *Config) { c.Addr, c.TLS = "localhost:25", TLSNone }, ""},
		{"none on another host", func(c *Config) { c.TLS = TLSNone }, "loopback"},
		{"none on a private address", func(c *Config) { c.Addr, c.TLS = "10.0.0.25:25", TLSNone }, "loopback"},
		{"an unknown tls mode", func(c *Config) { c.TLS = "ssl" }, "tls"},
		{"an address without port", func(c *Config) { c.Addr = "relay.example.org" }, "host:port"},
		{"no sender", func(c *Config) { c.From = "" }, "from"},
		{"a sender with a line break", func(c *Config) { c.From = "UKD <noreply@example.org>\r\nBcc: eve@evil.example" }, "from"},
		{"a password without username", func(c *Config) { c.Password = "s3cret" }, "username"},
		{"negative max conns", func(c *Config) { c.MaxConns = -1 }, "negative"},
		{"a hello name with a space", func(c *Config) { c.HelloName = "bad name" }, "hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.modify(&cfg)
			_, err := New(cfg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("New: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Errorf("New: got no error, want one about %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(strings.ToLower(err.Error()), tc.wantErr):
				t.Errorf("New: got %q, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{Addr: "relay.example.org:587", From: "noreply@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	got := c.cfg
	for _, tc := range []struct {
		field     string
		got, want any
	}{
		{"Name", got.Name, "relay.example.org:587"},
		{"TLS", got.TLS, TLSStartTLS},
		{"MaxConns", got.MaxConns, DefaultMaxConns},
		{"DialTimeout", got.DialTimeout, 10 * time.Second},
		{"CommandTimeout", got.CommandTimeout, 30 * time.Second},
		{"HelloName", got.HelloName, "localhost"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.field, tc.got, tc.want)
		}
	}
	if got.Logger == nil {
		t.Error("Logger: got nil, want slog.Default()")
	}
}
