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
	f.Add(legacyConfirmToken(id, secret))
	f.Add("ASNF" + strings.Repeat("A", ConfirmTokenLen-4))
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
		if got, err := ParseConfirmToken(s, secret, knows(id, "n-012345ffffffffffffffffffffffffff")); err == nil {
			if want := ConfirmToken(got, secret); (s != want && s != legacyConfirmToken(got, secret)) || !ValidID(got) {
				t.Errorf("ParseConfirmToken(%q) accepted notice %q; the worker makes %q", s, got, want)
			}
		} else if !errors.Is(err, ErrBadConfirmToken) && !errors.Is(err, ErrConfirmNoticeUnknown) {
			t.Errorf("ParseConfirmToken(%q): %v", s, err)
		}
	})
}

// knows is a store's lookup of notices by the start of their id, knowing
// the notices given.
func knows(ids ...string) func(prefix string) ([]string, error) {
	return func(prefix string) ([]string, error) {
		var out []string
		for _, id := range ids {
			if strings.HasPrefix(id, prefix) {
				out = append(out, id)
			}
		}
		return out, nil
	}
}

// TestConfirmToken: a compact token is short, names its notice among
// others whose id starts alike, and is refused for any other notice, with
// another secret, or when altered; one of the earlier long form stays
// valid; one whose notice the store does not know is told apart.
func TestConfirmToken(t *testing.T) {
	secret := []byte("a secret of some length")
	const id = "n-0123456789abcdef0123456789abcdef"
	const twin = "n-012345aaaaaaaaaaaaaaaaaaaaaaaaaa" // the same reference
	tok := ConfirmToken(id, secret)
	if len(tok) != ConfirmTokenLen || ConfirmTokenLen > 16 || strings.Contains(tok, id[2:10]) {
		t.Fatalf("token %q: want %d characters of base64url, no more than 16", tok, ConfirmTokenLen)
	}
	for _, lookup := range []func(string) ([]string, error){knows(id), knows(twin, id)} {
		if got, err := ParseConfirmToken(tok, secret, lookup); err != nil || got != id {
			t.Errorf("ParseConfirmToken = %q, %v; want %s", got, err, id)
		}
	}
	if got, err := ParseConfirmToken(legacyConfirmToken(id, secret), secret, knows()); err != nil || got != id {
		t.Errorf("a token of the earlier form: %q, %v", got, err)
	}
	if _, err := ParseConfirmToken(tok, secret, knows()); !errors.Is(err, ErrConfirmNoticeUnknown) {
		t.Errorf("a token of a notice not known: %v, want ErrConfirmNoticeUnknown", err)
	}
	flipped := []byte(tok)
	flipped[len(flipped)-1] ^= 1
	for name, bad := range map[string]string{
		"another notice's":  ConfirmToken(twin, secret),
		"another secret's":  ConfirmToken(id, []byte("another secret")),
		"altered":           string(flipped),
		"too short":         tok[1:],
		"long, forged":      id + "." + strings.Repeat("0", 32),
		"padded":            tok + "=",
		"not base64url":     strings.Repeat("*", ConfirmTokenLen),
		"long, no notice":   "." + strings.Repeat("0", 32),
		"long, another mac": legacyConfirmToken(twin, secret)[:35] + legacyConfirmToken(id, secret)[35:],
	} {
		lookup := knows(id)
		if name == "another notice's" {
			lookup = knows(id, twin+"0")
		}
		if _, err := ParseConfirmToken(bad, secret, lookup); !errors.Is(err, ErrBadConfirmToken) {
			t.Errorf("%s token %q: %v, want ErrBadConfirmToken", name, bad, err)
		}
	}
}
