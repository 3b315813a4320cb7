package sms

import (
	"strings"
	"testing"
	"unicode"
)

func TestSegments(t *testing.T) {
	a := strings.Repeat
	tests := []struct {
		name         string
		text         string
		wantEncoding string
		wantSegments int
	}{
		{"empty text takes no message", "", GSM7, 0},
		{"plain ASCII", "Please do not come.", GSM7, 1},
		{"exactly 160 GSM-7 characters fit one message", a("a", 160), GSM7, 1},
		{"161 GSM-7 characters take two parts", a("a", 161), GSM7, 2},
		{"306 GSM-7 characters fill two parts exactly", a("a", 306), GSM7, 2},
		{"307 GSM-7 characters take three parts", a("a", 307), GSM7, 3},
		{"German umlauts and ß are GSM-7", "Bitte kommen Sie nicht. Grüße, Universitätsklinikum Düsseldorf, Straße", GSM7, 1},
		{"€ counts two septets: 159 characters with a € are 160 septets", a("a", 158) + "€", GSM7, 1},
		{"€ counts two septets: 160 characters with a € are 161 septets", a("a", 159) + "€", GSM7, 2},
		{"every extension character counts two: 150 and five are 160 septets", a("a", 150) + "[]{}|", GSM7, 1},
		{"every extension character counts two: 151 and five are 161 septets", a("a", 151) + "[]{}|", GSM7, 2},
		{"an extension character is never split across parts", a("a", 152) + "€" + a("a", 152), GSM7, 3},
		{"capital Ç is GSM-7", a("a", 159) + "Ç", GSM7, 1},
		{"small ç is not GSM-7", "ç", UCS2, 1},
		{"Turkish ş turns the text into UCS-2", "Randevunuz ertelenmiştir.", UCS2, 1},
		{"Turkish ı turns the text into UCS-2", "Sayın", UCS2, 1},
		{"Turkish İ and ğ are not GSM-7", "İğ", UCS2, 1},
		{"a typographic dash is not GSM-7", "UKD – Termin", UCS2, 1},
		{"exactly 70 UCS-2 characters fit one message", "ş" + a("a", 69), UCS2, 1},
		{"71 UCS-2 characters take two parts", "ş" + a("a", 70), UCS2, 2},
		{"134 UCS-2 characters fill two parts exactly", "ş" + a("a", 133), UCS2, 2},
		{"135 UCS-2 characters take three parts", "ş" + a("a", 134), UCS2, 3},
		{"an emoji is two UTF-16 units: 69 characters with one are 70 units", a("a", 68) + "🏥", UCS2, 1},
		{"an emoji is two UTF-16 units: 70 characters with one are 71 units", a("a", 69) + "🏥", UCS2, 2},
		{"an emoji is never split across parts", a("a", 66) + "🏥" + a("a", 66), UCS2, 3},
		{"Greek capitals of the default alphabet are GSM-7", "ΔΦΓΛΩΠΨΣΘΞ", GSM7, 1},
		{"Greek small letters are not GSM-7", "α", UCS2, 1},
		{"a backtick is not GSM-7", "`", UCS2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, n := Segments(tt.text)
			if enc != tt.wantEncoding || n != tt.wantSegments {
				t.Errorf("Segments(%q) = %s, %d; want %s, %d", tt.text, enc, n, tt.wantEncoding, tt.wantSegments)
			}
		})
	}
}

func TestAlphabet(t *testing.T) {
	// GSM 03.38 has 128 code points in its default alphabet, one of them the
	// escape to the extension table, which holds ten characters.
	basic, ext := 0, 0
	for r, n := range septets {
		switch n {
		case 1:
			basic++
		case 2:
			ext++
		default:
			t.Errorf("%q costs %d septets", r, n)
		}
	}
	if basic != 127 || ext != 10 {
		t.Errorf("alphabet has %d basic and %d extension characters, want 127 and 10", basic, ext)
	}
	t.Run("printable ASCII is GSM-7 but for the backtick", func(t *testing.T) {
		for r := rune(' '); r <= '~'; r++ {
			if got := septets[r] > 0; got != (r != '`') {
				t.Errorf("%q in GSM-7 = %v", r, got)
			}
		}
	})
	t.Run("the Greek letters are Greek", func(t *testing.T) {
		for _, r := range "ΔΦΓΛΩΠΨΣΘΞ" {
			if !unicode.Is(unicode.Greek, r) {
				t.Errorf("%q (%U) is not a Greek letter", r, r)
			}
		}
	})
}
