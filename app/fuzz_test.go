package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/postponement/notifier/notifier"
)

// FuzzReadDSN reads arbitrary mail as the bounce listener does. Whatever
// arrives, it yields an action the engine knows, an enhanced status code
// and a short reason without an address: a bounce can only say "failed",
// "delayed" or let the status decide, and never carries a recipient's
// address into the trail.
func FuzzReadDSN(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "postfix-bounce.eml"))
	if err != nil {
		f.Fatal(err)
	}
	postfix := strings.NewReplacer("VERP_ADDRESS", "bounce+n-0123.abc@bounces.example.org", "RECIPIENT", "jana@example.org").Replace(string(b))
	f.Add(postfix)
	f.Add(strings.ReplaceAll(postfix, "\n", "\r\n"))
	f.Add(strings.Replace(postfix, "Action: failed", "Action: delayed", 1))
	f.Add("Subject: Undelivered\r\n\r\nYour message to jana@example.org was not delivered.\r\n")
	f.Add("Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.7.1\r\nDiagnostic-Code: smtp; 550 5.7.1 <a@b> denied\r\n--x--\r\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, mail string) {
		action, status, reason, _ := readDSN(strings.NewReader(mail))
		if action != "" && action != notifier.BounceFailed && action != notifier.BounceDelayed {
			t.Errorf("action %q", action)
		}
		if !enhancedPattern.MatchString(status) || status[0] != '2' && status[0] != '4' && status[0] != '5' {
			t.Errorf("status %q is not an enhanced status code", status)
		}
		if strings.Contains(reason, "@") || len(reason) > 200 || !utf8.ValidString(reason) {
			t.Errorf("reason %q: an address, too long or not UTF-8", reason)
		}
	})
}
