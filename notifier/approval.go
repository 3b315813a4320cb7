package notifier

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// OutageHeld and OutageApproved are the states of an outage held for
// approval, and of one released.
const (
	OutageHeld     = "held"
	OutageApproved = "approved"
)

// DefaultApprovalTTL is how long after it was published an approval can
// still release an outage.
const DefaultApprovalTTL = 24 * time.Hour

// scopePattern is the shape of a scope digest.
var scopePattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// ScopeDigest names what an approval of the outage approves: its window,
// departments, kinds and action, and the number of patients whose notices
// are held. An approval that names another digest approves something the
// outage no longer is, and is refused.
func ScopeDigest(o *Outage, patients int) string {
	deps := slices.Sorted(slices.Values(lowerAll(o.Departments)))
	kinds := slices.Sorted(slices.Values(lowerAll(o.Kinds)))
	h := sha256.New()
	fmt.Fprintf(h, "notifier scope v1\n%s\n%s\n%s\n%s\n%s\n%d\n", o.From.UTC().Format(time.RFC3339), o.Until.UTC().Format(time.RFC3339),
		strings.Join(deps, "\x1f"), strings.Join(kinds, "\x1f"), o.Action, patients)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func lowerAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ToLower(s)
	}
	return out
}
