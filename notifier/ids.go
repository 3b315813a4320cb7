package notifier

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

const maxIDLen = 128

// ValidID reports whether s can be used as a facility or appointment id.
func ValidID(s string) bool {
	return len(s) <= maxIDLen && idChars(s, false)
}

// idChars reports whether s is of the form [A-Za-z0-9_-]+, the shape of
// facility and appointment ids: they become NATS subject tokens, so dots,
// wildcards and spaces are not allowed. With dots set it is of the form
// [A-Za-z0-9_.-]+, as outage ids never become subject tokens.
func idChars(s string, dots bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' && dots) {
			return false
		}
	}
	return true
}

// checkID returns an error naming field when s is not a valid id.
func checkID(field, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s: required", field)
	case len(s) > maxIDLen:
		return fmt.Errorf("%s: longer than %d characters", field, maxIDLen)
	case !idChars(s, false):
		return fmt.Errorf("%s: %q is not of the form [A-Za-z0-9_-]+", field, s)
	}
	return nil
}

// checkText rejects text that is not UTF-8, is too long, or carries control
// characters. Every free-text field can end up in a mail header or an SMS, so
// CR, LF and NUL never pass. The text is read once; when several things are
// wrong, the error is about the first of them in that order, then hidden
// runes.
func checkText(field, s string, max int) error {
	extra := 0                         // bytes after the first of a rune
	ctrl, hidden := rune(-1), rune(-1) // the first of each
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c-' ' < utf8.RuneSelf-1-' ' {
			continue // printable ASCII, most of any text
		}
		if c < utf8.RuneSelf {
			if ctrl < 0 {
				ctrl = rune(c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case size == 1:
			return fmt.Errorf("%s: not valid UTF-8", field)
		case ctrl < 0 && unicode.IsControl(r):
			ctrl = r
		case hidden < 0 && isHidden(r):
			hidden = r
		}
		i += size - 1
		extra += size - 1
	}
	switch n := len(s) - extra; {
	case n > max:
		return fmt.Errorf("%s: %d characters, at most %d allowed", field, n, max)
	case ctrl >= 0:
		return fmt.Errorf("%s: contains a control character (%U)", field, ctrl)
	case hidden >= 0:
		return fmt.Errorf("%s: contains an invisible formatting character (%U)", field, hidden)
	}
	return nil
}

// isHidden reports whether r is a bidirectional override or isolate
// (U+202A–U+202E, U+2066–U+2069), zero-width or directional mark
// (U+200B–U+200F) or byte-order mark (U+FEFF). They change how a notice
// reads without showing themselves: a name can be made to display as
// another, a link as another link.
func isHidden(r rune) bool {
	return (r >= 0x200B && r <= 0x200F) || (r >= 0x202A && r <= 0x202E) ||
		(r >= 0x2066 && r <= 0x2069) || r == 0xFEFF
}
