package smtp

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/postponement/notifier/notifier"
)

// mask replaces what a relay's reply says about the recipient.
const mask = "[redacted]"

// maxReplyText is how much of a relay's reply a reason keeps.
const maxReplyText = 200

// addressLike matches anything shaped like an e-mail address, whoever's.
var addressLike = regexp.MustCompile(`[^\s<>()\[\],;:"']*@[^\s<>()\[\],;:"']*`)

// redact masks in text anything that looks like an e-mail address, the
// recipient's address, its local part and domain, and every word of the
// recipient's name. Relays echo the address ("<jane@example.org>: Recipient
// address rejected"), sometimes only its local part, and occasionally the
// display name.
func redact(text string, to notifier.Recipient) string {
	text = addressLike.ReplaceAllString(text, mask)
	local, domain := to.Email, ""
	if at := strings.LastIndexByte(to.Email, '@'); at >= 0 {
		local, domain = to.Email[:at], to.Email[at+1:]
	}
	for _, s := range []string{to.Email, local, domain} {
		if utf8.RuneCountInString(s) >= 3 {
			text = regexp.MustCompile("(?i)"+regexp.QuoteMeta(s)).ReplaceAllLiteralString(text, mask)
		}
	}
	return maskWords(text, append(words(to.Name), words(local)...))
}

// oneLine puts text on one line of at most n bytes, for a reason.
func oneLine(text string, n int) string {
	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if len(text) <= n {
		return text
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n] + "…"
}

// words splits s into its words of two letters or more.
func words(s string) []string {
	var ws []string
	for _, w := range strings.FieldsFunc(s, notWordRune) {
		if utf8.RuneCountInString(w) >= 2 {
			ws = append(ws, w)
		}
	}
	return ws
}

// maskWords replaces every whole word of text that equals one of secret,
// ignoring case.
func maskWords(text string, secret []string) string {
	if len(secret) == 0 {
		return text
	}
	var b strings.Builder
	start := -1
	flush := func(end int) {
		w := text[start:end]
		for _, s := range secret {
			if strings.EqualFold(w, s) {
				w = mask
				break
			}
		}
		b.WriteString(w)
		start = -1
	}
	for i, r := range text {
		switch {
		case !notWordRune(r):
			if start < 0 {
				start = i
			}
		default:
			if start >= 0 {
				flush(i)
			}
			b.WriteRune(r)
		}
	}
	if start >= 0 {
		flush(len(text))
	}
	return b.String()
}

// notWordRune reports whether r separates words.
func notWordRune(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
}
