package templates

import (
	"testing"

	"github.com/postponement/notifier/notifier"
)

// TestOutagePieces renders notices of several outages, in turn and more
// than maxOutages of them, with one Renderer, and holds each message to
// what a Renderer that writes the pieces afresh writes: the pieces written
// once per outage never stand in another outage's notice.
func TestOutagePieces(t *testing.T) {
	shared, fresh := newRenderer(t), newRenderer(t)
	hotlines := []string{"", "+49 211 81-04444", "0211 <b>81</b>-0", "+49 211 81-04444 "}
	infoURLs := []string{"", "https://example.org/outage", "javascript:alert(1)", "https://example.org/?a=1&b=\"2\""}
	kinds := []string{notifier.KindPostponed, notifier.KindCancelled, notifier.KindReinstated, notifier.KindResumed}
	for i := range 2*maxOutages + 40 {
		n := sampleNotice(t, []string{"de", "en", "tr"}[i%3])
		n.Kind = kinds[i/3%len(kinds)]
		n.Hotline = hotlines[i/12%len(hotlines)]
		n.InfoURL = infoURLs[i/48%len(infoURLs)]
		if i >= maxOutages {
			n.InfoURL += "#" + string(rune('a'+i%26))
		}
		got := render(t, shared, n)
		fresh.outages = nil
		want := render(t, fresh, n)
		if got.Text != want.Text || got.HTML != want.HTML || got.Subject != want.Subject || got.Short != want.Short {
			t.Fatalf("notice %d (%s, %s, hotline %q, info %q) differs from one with its pieces written afresh:\ngot  %q\nwant %q",
				i, n.Language, n.Kind, n.Hotline, n.InfoURL, got.Text+got.HTML, want.Text+want.HTML)
		}
	}
}
