package email

import (
	"errors"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"jane@example.org", true},
		{"jane.doe+notice@sub.example.org", true},
		{"", false},
		{"jane", false},
		{"jane@", false},
		{"@example.org", false},
		{"Jane <jane@example.org>", false},
		{"<jane@example.org>", false},
		{"jane@example.org, eve@example.org", false},
		{"jane@example.org\r\nBcc: eve@example.org", false},
		{"jane@example.org\n", false},
		{"jane@exa\x00mple.org", false},
	} {
		err := CheckAddress(tc.addr)
		if got := err == nil; got != tc.ok {
			t.Errorf("CheckAddress(%q): got error %v, want ok=%v", tc.addr, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadAddress) {
			t.Errorf("CheckAddress(%q): got %v, want it to wrap ErrBadAddress", tc.addr, err)
		}
	}
}

func TestParseFrom(t *testing.T) {
	for _, tc := range []struct {
		in          string
		name, addr  string
		wantFailure bool
	}{
		{in: "UKD <noreply@example.org>", name: "UKD", addr: "noreply@example.org"},
		{in: `"Uniklinik Düsseldorf" <noreply@example.org>`, name: "Uniklinik Düsseldorf", addr: "noreply@example.org"},
		{in: "=?utf-8?q?Uniklinik_D=C3=BCsseldorf?= <noreply@example.org>", name: "Uniklinik Düsseldorf", addr: "noreply@example.org"},
		{in: "noreply@example.org", addr: "noreply@example.org"},
		{in: "", wantFailure: true},
		{in: "UKD", wantFailure: true},
		{in: "UKD <noreply@example.org>\r\nBcc: eve@example.org", wantFailure: true},
		{in: "a@example.org, b@example.org", wantFailure: true},
	} {
		got, err := ParseFrom(tc.in)
		if tc.wantFailure {
			if err == nil {
				t.Errorf("ParseFrom(%q): got %+v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFrom(%q): %v", tc.in, err)
			continue
		}
		if got.Name != tc.name || got.Address != tc.addr {
			t.Errorf("ParseFrom(%q): got %q <%s>, want %q <%s>", tc.in, got.Name, got.Address, tc.name, tc.addr)
		}
	}
}

func TestHeaderText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Gülşen İnce", "Gülşen İnce"},
		{"Eve\r\nBcc: x@evil.example", "Eve Bcc: x@evil.example"},
		{"a\x00b\tc", "a b c"},
		{"  spaced   out  ", "spaced out"},
		{"bad \xff utf-8", "bad \uFFFD utf-8"},
		{"=?utf-8?q?Eve?=", "= ?utf-8?q?Eve?="},
		{" leading", "leading"},
		{"trailing ", "trailing"},
		{"no-break\u00a0space", "no-break space"},
		{"line\u2028separator", "line separator"},
		{"C1\u0085control", "C1 control"},
		{"", ""},
	} {
		if got := headerText(tc.in); got != tc.want {
			t.Errorf("headerText(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}
