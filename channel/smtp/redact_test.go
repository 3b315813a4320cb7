package smtp

import (
	"testing"

	"github.com/postponement/notifier/notifier"
)

func TestRedact(t *testing.T) {
	to := notifier.Recipient{Name: "Gülşen Doğan-İnce", Email: "g.dogan@mail.example"}

	for _, tc := range []struct {
		name, in, want string
	}{
		{"the address in brackets", "<g.dogan@mail.example>: Recipient address rejected", "<[redacted]>: Recipient address rejected"},
		{"the address in another case", "G.DOGAN@MAIL.EXAMPLE unknown", "[redacted] unknown"},
		{"any address at all", "user eve@other.example unknown", "user [redacted] unknown"},
		{"the local part alone", "mailbox g.dogan does not exist", "mailbox [redacted] does not exist"},
		{"the domain alone", "no MX for mail.example", "no MX for [redacted]"},
		{"words of the name", "Dear GÜLŞEN DOĞAN-İnce, go away", "Dear [redacted] [redacted]-[redacted], go away"},
		{"but not parts of other words", "Dogania is not a name", "Dogania is not a name"},
		{"nothing personal", "5.7.1 Relaying denied", "5.7.1 Relaying denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact(tc.in, to); got != tc.want {
				t.Errorf("redact(%q):\ngot  %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}

}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"joins lines", "first line\nsecond\r\n\tthird", 100, "first line second third"},
		{"keeps short text", "5.7.1 Relaying denied", 100, "5.7.1 Relaying denied"},
		{"cuts on a rune boundary", "üüü", 3, "ü…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := oneLine(tc.in, tc.n); got != tc.want {
				t.Errorf("oneLine(%q, %d): got %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}
