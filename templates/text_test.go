package templates

import (
	"strings"
	"testing"
)

func TestTidy(t *testing.T) {
	long := "Bitte kommen Sie nicht zu Ihrem Termin. Er wird verschoben; wir melden uns bei Ihnen, um einen neuen Termin zu vereinbaren."
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "keeps one blank line between paragraphs",
			in:   "\n\nGuten Tag,  \n\n\n\nwir melden uns.\n\n\n",
			want: "Guten Tag,\n\nwir melden uns.\n",
		},
		{
			name: "wraps a long paragraph between words",
			in:   long,
			want: "Bitte kommen Sie nicht zu Ihrem Termin. Er wird verschoben; wir melden\nuns bei Ihnen, um einen neuen Termin zu vereinbaren.\n",
		},
		{
			name: "aligns a list item's continuation",
			in:   "- " + long,
			want: "- Bitte kommen Sie nicht zu Ihrem Termin. Er wird verschoben; wir melden\n  uns bei Ihnen, um einen neuen Termin zu vereinbaren.\n",
		},
		{
			name: "keeps an indented line's indentation",
			in:   "  " + long,
			want: "  Bitte kommen Sie nicht zu Ihrem Termin. Er wird verschoben; wir melden\n  uns bei Ihnen, um einen neuen Termin zu vereinbaren.\n",
		},
		{
			name: "never breaks a long URL",
			in:   "Website: https://www.example.org/" + strings.Repeat("x", 80) + " end",
			want: "Website:\nhttps://www.example.org/" + strings.Repeat("x", 80) + "\nend\n",
		},
		{
			name: "never breaks glued words",
			in:   "Bitte rufen Sie uns stattdessen unter der Nummer unserer Hotline " + glue("+49 211 81-0") + " an.",
			want: "Bitte rufen Sie uns stattdessen unter der Nummer unserer Hotline\n" + glue("+49 211 81-0") + " an.\n",
		},
		{
			name: "fills lines up to the width, counting characters",
			in:   strings.Repeat("ü", 69) + " ab cd",
			want: strings.Repeat("ü", 69) + " ab\ncd\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tidy(tt.in); got != tt.want {
				t.Errorf("tidy(%q)\n got: %q\nwant: %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Ihr Termin am 14.09.2020", "Ihr Termin am 14.09.2020"},
		{"CR and LF", "Ihr Termin\r\nBcc: x@example.org\n", "Ihr Termin Bcc: x@example.org"},
		{"other control characters", "a\tb\x00c\x1bd", "a b c d"},
		{"Unicode line breaks", "a\u0085b\u2028c\u2029d", "a b c d"},
		{"runs of spaces", "  a   b  ", "a b"},
		{"a space at the start", " a", "a"},
		{"a space at the end", "a ", "a"},
		{"no-break space", "a\u00a0b", "a b"},
		{"C1 control", "a\u0080b", "a b"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
		{"replacement character", "a\ufffdb", "a\ufffdb"},
		{"not ASCII", "Randevunuz – Düsseldorf", "Randevunuz – Düsseldorf"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := oneLine(tt.in); got != tt.want {
				t.Errorf("oneLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
