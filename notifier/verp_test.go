package notifier

import (
	"errors"
	"strings"
	"testing"
)

func TestVERP(t *testing.T) {
	secret := []byte("a secret of some length")
	addr := VERPAddress("n-0123456789abcdef0123456789abcdef", "bounces.example.org", secret)
	if !strings.HasPrefix(addr, "bounce+n-0123456789abcdef0123456789abcdef.") || !strings.HasSuffix(addr, "@bounces.example.org") {
		t.Fatalf("address %q", addr)
	}
	for _, ok := range []string{addr, "<" + addr + ">", strings.ToUpper(addr[:7]) + addr[7:], strings.Replace(addr, "bounces.example.org", "BOUNCES.example.org", 1)} {
		if id, err := ParseVERP(ok, "bounces.example.org", secret); err != nil || id != "n-0123456789abcdef0123456789abcdef" {
			t.Errorf("ParseVERP(%q) = %q, %v", ok, id, err)
		}
	}
	for _, bad := range []string{
		strings.Replace(addr, "n-0123", "n-9123", 1), // another notice, the same mac
		strings.Replace(addr, "bounces.example.org", "other.example.org", 1),
		"bounce+n-0123456789abcdef0123456789abcdef@bounces.example.org",
		"jana@bounces.example.org",
		"",
	} {
		if _, err := ParseVERP(bad, "bounces.example.org", secret); !errors.Is(err, ErrForgedVERP) {
			t.Errorf("ParseVERP(%q): %v, want ErrForgedVERP", bad, err)
		}
	}
	if _, err := ParseVERP(addr, "bounces.example.org", []byte("another secret")); !errors.Is(err, ErrForgedVERP) {
		t.Error("an address made with another secret accepted")
	}
}

// FuzzTokens decodes arbitrary strings as bounce addresses and confirmation
// tokens. Only what the worker itself made is accepted: an accepted input
// names a valid notice id and is, up to case and brackets where those do
// not matter, the address or token made for that id.
func FuzzTokens(f *testing.F) {
	secret := []byte("a secret of some length")
	const id = "n-0123456789abcdef0123456789abcdef"
	f.Add(VERPAddress(id, "bounces.example.org", secret))
	f.Add(ConfirmToken(id, secret))
	f.Add("bounce+" + id + ".@bounces.example.org")
	f.Add(id + "." + strings.Repeat("0", 32))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := ParseVERP(s, "bounces.example.org", secret); err == nil {
			want := VERPAddress(got, "bounces.example.org", secret)
			if !strings.EqualFold(strings.Trim(strings.TrimSpace(s), "<>"), want) {
				t.Errorf("ParseVERP(%q) accepted notice %q; the worker makes %q", s, got, want)
			}
		} else if !errors.Is(err, ErrForgedVERP) {
			t.Errorf("ParseVERP(%q): %v", s, err)
		}
		if got, err := ParseConfirmToken(s, secret); err == nil {
			if want := ConfirmToken(got, secret); s != want || !ValidID(got) {
				t.Errorf("ParseConfirmToken(%q) accepted notice %q; the worker makes %q", s, got, want)
			}
		} else if !errors.Is(err, ErrBadConfirmToken) {
			t.Errorf("ParseConfirmToken(%q): %v", s, err)
		}
	})
}
