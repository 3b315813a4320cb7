package oneline

import "testing"

func TestString(t *testing.T) {
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
			if got := String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if is(tt.in) && tt.in != tt.want {
				t.Errorf("is(%q) = true, but String changes it", tt.in)
			}
		})
	}
}
