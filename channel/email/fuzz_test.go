package email

import (
	"bytes"
	"errors"
	netmail "net/mail"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"

	"github.com/postponement/notifier/notifier"
)

// FuzzCompose composes messages whose recipient, sender name, subject,
// bodies, notice id and language come from outside. Compose either refuses
// before writing anything, or writes a message that reads back with one
// sender, one recipient, one subject and no header field but its own, in
// the bytes go-message's writers write. The seeds under testdata/fuzz run as
// regression tests with every go test.
func FuzzCompose(f *testing.F) {
	f.Fuzz(func(t *testing.T, toName, toEmail, fromName, subject, text, html, noticeID, language string) {
		from := &mail.Address{Name: fromName, Address: testFrom.Address}
		m := &notifier.Message{
			NoticeID: noticeID,
			Language: language,
			To:       notifier.Recipient{Name: toName, Email: toEmail},
			Subject:  subject,
			Text:     text,
			HTML:     html,
		}
		var buf bytes.Buffer
		err := Compose(&buf, from, m, testDate)
		if err != nil {
			if buf.Len() != 0 {
				t.Errorf("Compose failed with %v and wrote %d bytes", err, buf.Len())
			}
			if CheckAddress(toEmail) != nil && !errors.Is(err, ErrBadAddress) {
				t.Errorf("Compose with a bad recipient: got %v, want ErrBadAddress", err)
			}
			return
		}
		if err := CheckAddress(toEmail); err != nil {
			t.Fatalf("Compose accepted a recipient that CheckAddress refuses: %v", err)
		}
		raw := buf.Bytes()
		var ref bytes.Buffer
		if err := composeGoMessage(&ref, from, m, testDate); err != nil {
			t.Fatalf("go-message: %v", err)
		}
		if !bytes.Equal(raw, ref.Bytes()) {
			t.Fatalf("Compose wrote\n%q\ngo-message writes\n%q", raw, ref.Bytes())
		}
		// An address that is not ASCII goes out as it is, for a relay that
		// offers SMTPUTF8 (RFC 6532); everything else is 7-bit.
		checkWireForm(t, bytes.ReplaceAll(raw, []byte(toEmail), []byte("x@x")))

		want := []string{"Auto-Submitted", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
		if language != "" {
			want = append(want, "Content-Language")
		}
		if html == "" {
			want = append(want, "Content-Transfer-Encoding")
		}
		slices.Sort(want)
		msg, err := netmail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("net/mail cannot read the message: %v\n%s", err, raw)
		}
		var keys []string
		for key, values := range msg.Header {
			keys = append(keys, textproto.CanonicalMIMEHeaderKey(key))
			if len(values) != 1 {
				t.Errorf("header %s: %d fields, want 1", key, len(values))
			}
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Fatalf("header fields %q, want %q\n%s", keys, want, raw)
		}

		h, parts := readMessage(t, raw)
		for _, tc := range []struct {
			key  string
			want mail.Address
		}{
			{"From", mail.Address{Name: headerText(fromName), Address: testFrom.Address}},
			{"To", mail.Address{Name: headerText(toName), Address: toEmail}},
		} {
			got, err := h.AddressList(tc.key)
			if err != nil || len(got) != 1 {
				t.Fatalf("%s: got %v (err %v), want one address\n%s", tc.key, got, err, raw)
			}
			if got[0].Address != tc.want.Address {
				t.Errorf("%s: got %q, want %q", tc.key, got[0].Address, tc.want.Address)
			}
			if !sameHeaderText(got[0].Name, tc.want.Name) {
				t.Errorf("%s name: got %q, want %q", tc.key, got[0].Name, tc.want.Name)
			}
		}
		if got, err := h.Subject(); err != nil || !sameHeaderText(got, headerText(subject)) {
			t.Errorf("Subject: got %q (err %v), want %q", got, err, headerText(subject))
		}
		_, domain := splitAddress(testFrom.Address)
		if got, err := h.MessageID(); err != nil || got != MessageID(noticeID, domain) {
			t.Errorf("Message-ID: got %q (err %v), want %q", got, err, MessageID(noticeID, domain))
		}

		bodies := []string{text}
		if html != "" {
			bodies = append(bodies, html)
		}
		if len(parts) != len(bodies) {
			t.Fatalf("got %d parts, want %d\n%s", len(parts), len(bodies), raw)
		}
		for i, want := range bodies {
			if got := parts[i].body; got != lineEnds(want) {
				t.Errorf("part %d:\ngot  %q\nwant %q", i, got, lineEnds(want))
			}
		}
	})
}

// checkWireForm fails unless raw is 7-bit with lines that SMTP carries.
func checkWireForm(t *testing.T, raw []byte) {
	t.Helper()
	if i := bytes.IndexFunc(raw, func(r rune) bool { return r >= 0x80 }); i >= 0 {
		t.Fatalf("byte %d is not 7-bit ASCII", i)
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d has %d characters, more than RFC 5322 allows", i+1, len(line))
		}
		if strings.ContainsAny(line, "\r\n\x00") {
			t.Errorf("line %d has a bare CR, LF or NUL: %q", i+1, line)
		}
	}
}

// lineEnds is text as a decoded quoted-printable part reads: every line
// ending, CRLF, LF or a lone CR, is CRLF, as RFC 2045 wants in text.
func lineEnds(s string) string {
	return strings.NewReplacer("\r\n", "\r\n", "\r", "\r\n", "\n", "\r\n").Replace(s)
}

// sameHeaderText reports whether got, a header field's text as read back,
// says want. go-message has to break a word longer than a header line may be
// (998 characters), which reads back as a space in it; that is the only
// change allowed.
func sameHeaderText(got, want string) bool {
	if got == want {
		return true
	}
	long := slices.ContainsFunc(strings.Fields(want), func(w string) bool { return len(w) > 900 })
	return long && strings.ReplaceAll(got, " ", "") == strings.ReplaceAll(want, " ", "")
}
