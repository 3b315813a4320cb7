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
