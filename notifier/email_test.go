package notifier

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"strings"
	"testing"
	"unicode"
)

// checkEmailParsed is checkEmail as it was before the dot-atom fast path:
// every address parsed by net/mail.
func checkEmailParsed(s string) error {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n\x00<>,;\"") || strings.IndexFunc(s, unicode.IsControl) >= 0 || hiddenRuneRef(s) >= 0 {
		return errors.New("patient.email: not a plain e-mail address")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s || strings.Count(s, "@") != 1 {
		return errors.New("patient.email: not a plain e-mail address")
	}
	if at := strings.IndexByte(s, '@'); at > maxLocalPart {
		return fmt.Errorf("patient.email: the part before the @ is %d octets, at most %d allowed", at, maxLocalPart)
	}
	return nil
}

// checkEmailSame fails unless checkEmail says of s what the parse alone
// says, and the fast path takes only what the parse accepts.
func checkEmailSame(t *testing.T, s string) {
	t.Helper()
	got, want := checkEmail(s), checkEmailParsed(s)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("checkEmail(%q) = %v, want %v", s, got, want)
	}
	if dotAtomAddress(s) && !parsesPlain(s) {
		t.Errorf("dotAtomAddress(%q) accepts what net/mail refuses", s)
	}
}

// emailPieces are the parts generated addresses are made of: atext of
// both kinds, specials, quotes, brackets, spaces, controls and non-ASCII.
var emailPieces = []string{
	"a", "Z", "0", "9", "jana", "example", "org", "xn--", ".", ".", "@", "@", "-", "_", "+", "!", "%", "~", "`",
	"{", "|", "}", "=", "?", "^", "&", "'", "#", "$", "*", "/", "\"", "[", "]", "(", ")", "<", ">", ",", ";",
	":", "\\", " ", "\t", "\r\n", "\x00", "\x7f", "\x1f", "ü", "ä", "\xff", "\u200b", "\u202e", "\u0085", "127.0.0.1",
}

// emailInputs are edge cases, generated strings of emailPieces and
// generated dot-atom addresses with one piece replaced or added.
func emailInputs() []string {
	in := []string{
		"", "@", "a@", "@b", "a@b", "a@b.c", "jana@example.org", "jana.mueller@example.org", "a..b@c", ".a@b", "a.@b",
		"a@b.", "a@.b", "a@b..c", "a@-b", "a@b-", "a@-b-.c-", "a@b@c", "a@@b", "\"a\"@b", "\"a b\"@b", "\"\"@b",
		"a@[127.0.0.1]", "a@[IPv6:::1]", "a@[]", "jörg@exämple.de", "a@exämple.de", "jörg@b", "a@b (comment)", "(c)a@b",
		"a@b(c)", "Jana <a@b>", "<a@b>", " a@b", "a@b ", "a@b\n", "a\\@b@c", "a@b\\c", "a%b@c", "a!b@c", "!#$%&'*+-/=?^_`{|}~@b",
		"a@b_c", "a@b+c", "a@b/c", "a@b..", "a@1.2.3.4", "-@-", "a@b.c.", "g:a@b;", "a@b:", "=?utf-8?q?a?=@b",
		strings.Repeat("j", 64) + "@example.org", strings.Repeat("j", 65) + "@example.org",
		strings.Repeat("j", 64) + "@" + strings.Repeat("e", 189), strings.Repeat("j", 64) + "@" + strings.Repeat("e", 190),
		strings.Repeat("j", 100) + "@" + strings.Repeat("e", 153), strings.Repeat("j", 100) + "@" + strings.Repeat("e.", 77),
		"a@" + strings.Repeat("e", 252), "a@" + strings.Repeat("e", 251),
	}
	rng := rand.New(rand.NewPCG(3, 4))
	piece := func() string { return emailPieces[rng.IntN(len(emailPieces))] }
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(piece())
		}
		in = append(in, b.String())
	}
	const atext = "abcXYZ0189!#$%&'*+-/=?^_`{|}~."
	const ldh = "abcXYZ0189-."
	for range 3000 {
		var b strings.Builder
		for range 1 + rng.IntN(10) {
			b.WriteByte(atext[rng.IntN(len(atext))])
		}
		b.WriteByte('@')
		for range 1 + rng.IntN(10) {
			b.WriteByte(ldh[rng.IntN(len(ldh))])
		}
		s := b.String()
		if rng.IntN(2) == 0 {
			i := rng.IntN(len(s) + 1)
			j := min(len(s), i+rng.IntN(2))
			s = s[:i] + piece() + s[j:]
		}
		in = append(in, s)
	}
	return in
}

func TestEmailFastPath(t *testing.T) {
	for _, s := range []string{"jana@example.org", "jana.mueller@example.org", "p4711@example.org", "host!jana@example.org", strings.Repeat("j", 65) + "@example.org"} {
		if !dotAtomAddress(s) {
			t.Errorf("%q is not taken by the fast path", s)
		}
	}
	for _, s := range emailInputs() {
		checkEmailSame(t, s)
	}
}

// FuzzCheckEmail holds checkEmail to the parse by net/mail alone.
func FuzzCheckEmail(f *testing.F) {
	for _, s := range emailInputs()[:300] {
		f.Add(s)
	}
	f.Fuzz(checkEmailSame)
}
