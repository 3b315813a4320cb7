// Package oneline writes text on one line, as mail headers, subjects and
// SMS carry it.
package oneline

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// String joins s's words with single spaces: every run of white space or
// control characters becomes one space, none is kept at either end, and
// invalid UTF-8 becomes U+FFFD.
func String(s string) string {
	if is(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		// Invalid UTF-8 comes as utf8.RuneError, written as U+FFFD.
		b.WriteRune(r)
	}
	return b.String()
}

// is reports whether String(s) is s, as it is for most names and
// subjects: then String need not copy it.
func is(s string) bool {
	space := true // a space at the start is dropped
	for _, r := range s {
		switch {
		case r == ' ':
			if space {
				return false
			}
			space = true
			continue
		case r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r):
			return false
		}
		space = false
	}
	return !space || s == ""
}
