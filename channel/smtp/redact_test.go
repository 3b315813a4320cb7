package smtp

import (
	"strings"
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
		{"line breaks", "first line\nsecond\r\nthird", "first line second third"},
		{"nothing personal", "5.7.1 Relaying denied", "5.7.1 Relaying denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact(tc.in, to); got != tc.want {
				t.Errorf("redact(%q):\ngot  %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}

	t.Run("long replies are cut", func(t *testing.T) {
		got := redact(strings.Repeat("ü", 300), to)
		if len(got) > maxReplyText+len("…") {
			t.Errorf("got %d bytes, want at most %d", len(got), maxReplyText+len("…"))
		}
	})
}
