package notifier

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The patterns the hand-written validators replace, as the reference they
// are held to.
var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	outageIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	phonePattern    = regexp.MustCompile(`^\+?[0-9 ()./-]{3,32}$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}$`)
)

// checkValidators fails when a validator and its pattern disagree on s.
func checkValidators(t *testing.T, s string) {
	t.Helper()
	if got, want := idChars(s, false), idPattern.MatchString(s); got != want {
		t.Errorf("idChars(%q, false) = %v, the pattern says %v", s, got, want)
	}
	if got, want := ValidID(s), len(s) <= maxIDLen && idPattern.MatchString(s); got != want {
		t.Errorf("ValidID(%q) = %v, want %v", s, got, want)
	}
	if got, want := idChars(s, true), outageIDPattern.MatchString(s); got != want {
		t.Errorf("idChars(%q, true) = %v, the pattern says %v", s, got, want)
	}
	if got, want := validPhone(s), countDigits(s) >= 3 && phonePattern.MatchString(s); got != want {
		t.Errorf("validPhone(%q) = %v, want %v", s, got, want)
	}
	if got, want := validLanguage(s), languagePattern.MatchString(s); got != want {
		t.Errorf("validLanguage(%q) = %v, the pattern says %v", s, got, want)
	}
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// validatorAlphabet has the bytes on either side of every range the
// patterns allow, and some that are not ASCII.
var validatorAlphabet = []string{
	"/", "0", "9", ":", "@", "A", "Z", "[", "`", "a", "z", "{", "_", "-", ".", "+", " ",
	"(", ")", "\n", "\x00", "\t", "é", "\xff", "\u2028", "\u0660",
}

// validatorInputs are edge cases and strings generated from validatorAlphabet
// and from the phone pattern's characters, of lengths around every limit.
func validatorInputs() []string {
	in := []string{
		"", "a", "ab", "abc", "abcd", "de", "DE", "d1", "A-1001", "a.b", ".", "-", "_", "a\n", "\na", "ab\n",
		strings.Repeat("a", maxIDLen), strings.Repeat("a", maxIDLen+1), strings.Repeat("a.", 64),
		"+49 211 5550101", "+4", "+49", "++49 211", "49+", "123", "12", "+12", "+123", "(0) 211/55.50-10",
		"1  ", "   ", "+   ", "1 2 3", "+" + strings.Repeat("1", 32), "+" + strings.Repeat("1", 33),
		strings.Repeat("1", 32), strings.Repeat("1", 33), strings.Repeat(" ", 30) + "12", "0\u0660\u06601",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(validatorAlphabet[rng.IntN(len(validatorAlphabet))])
		}
		in = append(in, b.String())
	}
	const phone = "0123456789 ()./-"
	for range 2000 {
		var b strings.Builder
		if rng.IntN(2) == 0 {
			b.WriteByte('+')
		}
		for range rng.IntN(36) {
			if rng.IntN(40) == 0 {
				b.WriteString(validatorAlphabet[rng.IntN(len(validatorAlphabet))])
			} else {
				b.WriteByte(phone[rng.IntN(len(phone))])
			}
		}
		in = append(in, b.String())
	}
	return in
}

func TestValidators(t *testing.T) {
	for _, s := range validatorInputs() {
		checkValidators(t, s)
	}
	// Every string of up to two bytes.
	var b [2]byte
	for i := range 256 {
		b[0] = byte(i)
		checkValidators(t, string(b[:1]))
		for j := range 256 {
			b[1] = byte(j)
			checkValidators(t, string(b[:]))
		}
	}
}

// FuzzValidators holds the id, phone and language validators to the
// patterns they replace.
func FuzzValidators(f *testing.F) {
	for _, s := range validatorInputs()[:200] {
		f.Add(s)
	}
	f.Fuzz(checkValidators)
}
