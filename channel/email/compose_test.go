package email

import (
	"bytes"
	"errors"
	"io"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/postponement/notifier/notifier"
)

var (
	testFrom = &mail.Address{Name: "Uniklinik Düsseldorf", Address: "noreply@ukd.example"}
	testDate = time.Date(2026, 3, 9, 7, 30, 0, 0, time.FixedZone("CET", 3600))
)

// testMessage is a Turkish notice: ğ, ş, İ and ı do not exist in Latin-1, so
// they show whether every layer really speaks UTF-8.
func testMessage() *notifier.Message {
	return &notifier.Message{
		NoticeID: "n-0123456789abcdef0123456789abcdef",
		Language: "tr",
		To:       notifier.Recipient{Name: "Gülşen Doğan-İnce", Email: "gulsen@example.org"},
		Subject:  "Randevunuz ertelendi – Uniklinik Düsseldorf",
		Text:     "Sayın Gülşen Doğan-İnce,\nrandevunuz ertelendi. Lütfen gelmeyin.\n",
		HTML:     "<p>Sayın Gülşen Doğan-İnce,</p>\n<p>randevunuz ertelendi. Lütfen gelmeyin.</p>\n",
	}
}

// compose composes m and fails the test on error.
func compose(t *testing.T, m *notifier.Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Compose(&buf, testFrom, m, testDate); err != nil {
		t.Fatalf("Compose: %v", err)
	}
	return buf.Bytes()
}

// part is one decoded body part.
type part struct {
	contentType, charset, encoding, body string
}

// readMessage parses raw with go-message and returns its header and parts.
func readMessage(t *testing.T, raw []byte) (mail.Header, []part) {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("CreateReader: %v", err)
	}
	var parts []part
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		h, ok := p.Header.(*mail.InlineHeader)
		if !ok {
			t.Fatalf("part header is %T, want an inline part", p.Header)
		}
		ct, params, err := h.ContentType()
		if err != nil {
			t.Fatalf("part Content-Type: %v", err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("reading %s part: %v", ct, err)
		}
		parts = append(parts, part{ct, params["charset"], h.Get("Content-Transfer-Encoding"), string(body)})
	}
	return r.Header, parts
}

// crlf turns the LF line ends of a test text into the CRLF of a decoded part.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestCompose(t *testing.T) {
	m := testMessage()
	raw := compose(t, m)
	h, parts := readMessage(t, raw)

	t.Run("addresses keep names with Turkish letters", func(t *testing.T) {
		for _, tc := range []struct {
			key  string
			want mail.Address
		}{
			{"From", *testFrom},
			{"To", mail.Address{Name: m.To.Name, Address: m.To.Email}},
		} {
			got, err := h.AddressList(tc.key)
			if err != nil || len(got) != 1 {
				t.Fatalf("%s: got %v (err %v), want one address", tc.key, got, err)
			}
			if *got[0] != tc.want {
				t.Errorf("%s: got %+v, want %+v", tc.key, *got[0], tc.want)
			}
		}
	})
	t.Run("subject decodes to the original", func(t *testing.T) {
		got, err := h.Subject()
		if err != nil || got != m.Subject {
			t.Errorf("Subject: got %q (err %v), want %q", got, err, m.Subject)
		}
	})
	t.Run("date", func(t *testing.T) {
		got, err := h.Date()
		if err != nil || !got.Equal(testDate) {
			t.Errorf("Date: got %v (err %v), want %v", got, err, testDate)
		}
	})
	t.Run("message id derives from the notice id and the sender domain", func(t *testing.T) {
		got, err := h.MessageID()
		want := "n-0123456789abcdef0123456789abcdef@ukd.example"
		if err != nil || got != want {
			t.Errorf("Message-ID: got %q (err %v), want %q", got, err, want)
		}
	})
	t.Run("fixed headers", func(t *testing.T) {
		for key, want := range map[string]string{
			"Auto-Submitted":   "auto-generated",
			"Content-Language": "tr",
			"MIME-Version":     "1.0",
		} {
			if got := h.Get(key); got != want {
				t.Errorf("%s: got %q, want %q", key, got, want)
			}
		}
		if ct, _, _ := h.ContentType(); ct != "multipart/alternative" {
			t.Errorf("Content-Type: got %q, want multipart/alternative", ct)
		}
	})
	t.Run("text and html parts in UTF-8 quoted-printable", func(t *testing.T) {
		want := []part{
			{"text/plain", "utf-8", "quoted-printable", crlf(m.Text)},
			{"text/html", "utf-8", "quoted-printable", crlf(m.HTML)},
		}
		if len(parts) != len(want) {
			t.Fatalf("got %d parts, want %d", len(parts), len(want))
		}
		for i := range want {
			if parts[i] != want[i] {
				t.Errorf("part %d:\ngot  %+v\nwant %+v", i, parts[i], want[i])
			}
		}
	})
	t.Run("the wire form is 7-bit with short lines", func(t *testing.T) {
		for i, b := range raw {
			if b >= 0x80 {
				t.Fatalf("byte %d is %#x, want 7-bit ASCII only", i, b)
			}
		}
		for i, line := range strings.Split(string(raw), "\r\n") {
			if len(line) > 78 {
				t.Errorf("line %d has %d characters, want at most 78", i+1, len(line))
			}
		}
	})
	t.Run("composing twice gives the same bytes", func(t *testing.T) {
		if again := compose(t, m); !bytes.Equal(again, raw) {
			t.Error("second composition differs from the first")
		}
	})
}

func TestComposeTextOnly(t *testing.T) {
	m := testMessage()
	m.HTML = ""
	h, parts := readMessage(t, compose(t, m))

	if ct, _, _ := h.ContentType(); ct != "text/plain" {
		t.Errorf("Content-Type: got %q, want text/plain", ct)
	}
	want := part{"text/plain", "utf-8", "quoted-printable", crlf(m.Text)}
	if len(parts) != 1 || parts[0] != want {
		t.Errorf("got parts %+v, want [%+v]", parts, want)
	}
}

func TestComposeInjection(t *testing.T) {
	const attack = "Eve\r\nBcc: x@evil.example\r\n\x00X-Evil: 1"
	clean, err := netmail.ReadMessage(bytes.NewReader(compose(t, testMessage())))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v", err)
	}
	for _, tc := range []struct {
		name   string
		modify func(m *notifier.Message)
	}{
		{"in the recipient name", func(m *notifier.Message) { m.To.Name = attack }},
		{"in the subject", func(m *notifier.Message) { m.Subject = attack }},
		{"with a bare LF", func(m *notifier.Message) { m.Subject = "Eve\nBcc: x@evil.example" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testMessage()
			tc.modify(m)
			raw := compose(t, m)

			msg, err := netmail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("net/mail cannot read the message: %v", err)
			}
			for _, key := range []string{"Bcc", "X-Evil"} {
				if got := msg.Header[key]; got != nil {
					t.Errorf("header %s: got %q, want none", key, got)
				}
			}
			if got, want := len(msg.Header), len(clean.Header); got != want {
				t.Errorf("got %d header fields, want %d: %v", got, want, msg.Header)
			}
			h, _ := readMessage(t, raw)
			to, err := h.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != m.To.Email {
				t.Errorf("To: got %v (err %v), want only %s", to, err, m.To.Email)
			}
		})
	}
}

func TestComposeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name       string
		modify     func(m *notifier.Message)
		badAddress bool
	}{
		{"an empty address", func(m *notifier.Message) { m.To.Email = "" }, true},
		{"an address with CRLF Bcc", func(m *notifier.Message) { m.To.Email = "eve@example.org\r\nBcc: x@evil.example" }, true},
		{"an address with NUL", func(m *notifier.Message) { m.To.Email = "eve@example.org\x00" }, true},
		{"an address with a display name", func(m *notifier.Message) { m.To.Email = "Eve <eve@example.org>" }, true},
		{"an address in angle brackets", func(m *notifier.Message) { m.To.Email = "<eve@example.org>" }, true},
		{"an address list", func(m *notifier.Message) { m.To.Email = "eve@example.org, x@evil.example" }, true},
		{"an address without domain", func(m *notifier.Message) { m.To.Email = "eve" }, true},
		{"an empty notice id", func(m *notifier.Message) { m.NoticeID = "" }, false},
		{"a notice id with a space", func(m *notifier.Message) { m.NoticeID = "n 1" }, false},
		{"a language with a line break", func(m *notifier.Message) { m.Language = "de\r\nBcc: x" }, false},
		{"no text", func(m *notifier.Message) { m.Text = "" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testMessage()
			tc.modify(m)
			var buf bytes.Buffer
			err := Compose(&buf, testFrom, m, testDate)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if got := errors.Is(err, ErrBadAddress); got != tc.badAddress {
				t.Errorf("errors.Is(%v, ErrBadAddress): got %v, want %v", err, got, tc.badAddress)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes, want none", buf.Len())
			}
			if m.To.Email != "" && strings.Contains(err.Error(), m.To.Email) {
				t.Errorf("error %q repeats the address", err)
			}
		})
	}
}
