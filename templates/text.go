package templates

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// width is where plain-text lines wrap, leaving room for quoting in replies
// and for mail clients that show 78 columns.
const width = 72

// tidy lays out the plain-text part: layouts write one paragraph per line
// and may leave blank lines where optional parts are missing; tidy wraps the
// long lines, keeps one blank line between paragraphs and ends the text with
// a newline.
func tidy(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/16)
	gap := false
	for line := range strings.Lines(s) {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if line == "" {
			gap = b.Len() > 0
			continue
		}
		if gap {
			b.WriteByte('\n')
			gap = false
		}
		wrap(&b, line)
	}
	return b.String()
}

// wrap writes line to b, broken at spaces before width. Continuation lines
// keep the line's indentation, and a list item's ("- ") text stays aligned.
// A word longer than width, such as a URL, is never broken, nor is text glued
// with no-break spaces.
func wrap(b *strings.Builder, line string) {
	text := strings.TrimLeft(line, " ")
	indent := line[:len(line)-len(text)]
	b.WriteString(indent)
	if strings.HasPrefix(text, "- ") {
		b.WriteString("- ")
		text = text[2:]
		indent += "  "
	}
	col := utf8.RuneCountInString(indent)
	start := col
	for word := range strings.SplitSeq(text, " ") {
		if word == "" {
			continue
		}
		n := utf8.RuneCountInString(word)
		switch {
		case col == start:
		case col+1+n > width:
			b.WriteByte('\n')
			b.WriteString(indent)
			col = start
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	b.WriteByte('\n')
}

// glue joins the words of s with no-break spaces, so that wrapping keeps a
// phone number on one line.
func glue(s string) string {
	return strings.ReplaceAll(s, " ", "\u00a0")
}
