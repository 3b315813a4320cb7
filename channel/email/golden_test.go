package email

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/postponement/notifier/notifier"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// goldenMessages are messages that take every path of composition: names and
// subjects that need encoding or quoting or are folded, bodies with long
// lines, dots and "From " at the start of a line, white space at the end,
// every kind of line break, and bytes that quoted-printable must encode at
// the edge of a line.
var goldenMessages = []struct {
	name   string
	from   *mail.Address
	modify func(m *notifier.Message)
}{
	{"turkish", nil, func(m *notifier.Message) {}},
	{"ascii", nil, func(m *notifier.Message) {
		m.Language = "en"
		m.To.Name = "Jane Doe"
		m.Subject = "Your appointment on 14 September 2020 will not take place - Example Hospital"
		m.Text = "Dear Jane Doe,\n\nplease do not come.\n"
		m.HTML = "<p>Dear Jane Doe,</p>\n<p>please do not come.</p>\n"
	}},
	{"no-names-no-language", &mail.Address{Address: "noreply@ukd.example"}, func(m *notifier.Message) {
		m.Language = ""
		m.To.Name = ""
	}},
	{"text-only", nil, func(m *notifier.Message) { m.HTML = "" }},
	{"text-only-long-lines", nil, func(m *notifier.Message) {
		m.HTML = ""
		m.Text = strings.Repeat("Bitte kommen Sie nicht zu Ihrem Termin, wir melden uns. ", 6) + "\n" +
			strings.Repeat("x", 200) + "\n" + strings.Repeat("ü", 80) + "\n"
	}},
	{"names-needing-quotes", &mail.Address{Name: `Klinik "Am Rhein", Station 3`, Address: "noreply@ukd.example"}, func(m *notifier.Message) {
		m.To.Name = `Doe, Jane (Dr.) <jane@evil.example>; "x"`
	}},
	{"name-with-backslash-not-ascii", nil, func(m *notifier.Message) {
		m.To.Name = `Gülşen \ Doğan`
	}},
	{"encoded-word-lookalike", nil, func(m *notifier.Message) {
		m.To.Name = "=?utf-8?q?Eve?= Müller"
		m.Subject = "=?utf-8?b?QmNjOiB4?= ASCII =?x"
	}},
	{"control-characters", nil, func(m *notifier.Message) {
		m.To.Name = "Eve\r\nBcc: x@evil.example\t\x00Doe"
		m.Subject = "Termin\r\n\tverschoben\x7f  –  heute\xff"
	}},
	{"long-subject", nil, func(m *notifier.Message) {
		m.Subject = strings.Repeat("Ihr Termin am Montag, 14. September 2020 findet nicht statt – ", 4) + "Universitätsklinikum Düsseldorf"
	}},
	{"long-ascii-subject", nil, func(m *notifier.Message) {
		m.Subject = strings.Repeat("Your appointment will not take place, please do not come. ", 5)
	}},
	{"long-subject-no-spaces", nil, func(m *notifier.Message) {
		m.Subject = strings.Repeat("abcdefghij", 120)
	}},
	{"long-name-not-ascii", nil, func(m *notifier.Message) {
		m.To.Name = strings.Repeat("Ömer Çağlar Şahin ", 8)
	}},
	{"dots-from-and-trailing-space", nil, func(m *notifier.Message) {
		m.Text = ".\n.. two dots\nFrom the hospital\n>From quoted\nfrom lower\ntrailing space \ntrailing tab\t\ntrailing both \t \n=equals= sign\n\n\n.\n"
		m.HTML = "<p>\n.\nFrom here</p> \n<p>trailing\t</p>\t\n"
	}},
	{"line-breaks", nil, func(m *notifier.Message) {
		m.Text = "crlf\r\nlf\nlone cr\rcr before ü\rü\r\n\r\nend without break"
		m.HTML = "<p>crlf</p>\r\n<p>cr</p>\r<p>ç</p>\r\r\n"
	}},
	{"long-lines", nil, func(m *notifier.Message) {
		m.Text = strings.Repeat("a", 75) + "\n" + strings.Repeat("b", 76) + "\n" + strings.Repeat("c", 77) + "\n" +
			strings.Repeat("d", 74) + "ü\n" + strings.Repeat("e", 73) + "=\n" + strings.Repeat("f", 75) + " \n" +
			strings.Repeat("g", 300) + "\n" + strings.Repeat("Çok uzun bir satır, ", 20) + "\n"
	}},
	{"html-long-lines", nil, func(m *notifier.Message) {
		m.HTML = `<!DOCTYPE html>` + "\n" + `<html lang="tr"><body style="margin:0; padding:0; background-color:#f3f4f6;"><div style="max-width:600px; margin:0 auto; padding:24px 16px; background-color:#ffffff; color:#1f2937; font-family:Arial, Helvetica, sans-serif; font-size:16px; line-height:1.5;">` +
			"\n<p>" + strings.Repeat("Sayın Gülşen Doğan-İnce, randevunuz ertelendi. ", 10) + "</p>\n" +
			`<a href="https://example.org/confirm?id=n-0123456789abcdef&amp;t=ABCDEFGHIJKLMNOP" style="color:#1d4ed8;">https://example.org/confirm?id=n-0123456789abcdef&amp;t=ABCDEFGHIJKLMNOP</a>` +
			"\n</div></body></html>"
	}},
	{"invalid-utf8-and-nul", nil, func(m *notifier.Message) {
		m.Text = "bad \xff\xfe byte\x00nul\x1bescape\n"
		m.HTML = "<p>\xc3</p>\n"
	}},
	{"boundary-in-body", nil, func(m *notifier.Message) {
		m.Text = "--=_n-0123456789abcdef0123456789abcdef\n--=_n-0123456789abcdef0123456789abcdef--\n"
	}},
	{"language-with-region", nil, func(m *notifier.Message) {
		m.Language = "de-DE"
		m.NoticeID = "n.1.x_y"
	}},
}

// TestComposeGoldenMessages holds Compose to the files under
// testdata/compose, and to the bytes go-message's writers write for the
// same message, so that a file rewritten with -update still has to be what
// go-message writes.
func TestComposeGoldenMessages(t *testing.T) {
	for _, tc := range goldenMessages {
		t.Run(tc.name, func(t *testing.T) {
			m := testMessage()
			tc.modify(m)
			from := tc.from
			if from == nil {
				from = testFrom
			}
			var buf bytes.Buffer
			if err := Compose(&buf, from, m, testDate); err != nil {
				t.Fatalf("Compose: %v", err)
			}
			got := buf.Bytes()
			var ref bytes.Buffer
			if err := composeGoMessage(&ref, from, m, testDate); err != nil {
				t.Fatalf("go-message: %v", err)
			}
			if !bytes.Equal(got, ref.Bytes()) {
				t.Errorf("Compose wrote\n%q\ngo-message writes\n%q", got, ref.Bytes())
			}
			path := filepath.Join("testdata", "compose", tc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("composed message differs from %s (run go test -update after checking):\ngot  %q\nwant %q", path, got, want)
			}
		})
	}
}

// TestComposeDates holds the Date field to its form in other zones and on
// days with one digit.
func TestComposeDates(t *testing.T) {
	for _, tc := range []struct {
		date time.Time
		want string
	}{
		{time.Date(2026, 3, 9, 7, 30, 0, 0, time.FixedZone("CET", 3600)), "Date: Mon, 09 Mar 2026 07:30:00 +0100\r\n"},
		{time.Date(2020, 10, 25, 1, 2, 3, 999, time.UTC), "Date: Sun, 25 Oct 2020 01:02:03 +0000\r\n"},
		{time.Date(2030, 1, 1, 23, 59, 59, 0, time.FixedZone("", -(9*3600+30*60))), "Date: Tue, 01 Jan 2030 23:59:59 -0930\r\n"},
	} {
		var buf bytes.Buffer
		if err := Compose(&buf, testFrom, testMessage(), tc.date); err != nil {
			t.Fatalf("Compose: %v", err)
		}
		if got, _, _ := strings.Cut(buf.String(), "\n"); got+"\n" != tc.want {
			t.Errorf("Compose dated %v: got %q, want %q", tc.date, got+"\n", tc.want)
		}
	}
}
