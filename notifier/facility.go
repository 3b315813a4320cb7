package notifier

import (
	"fmt"
	"strings"
	"time"
)

// Facility is a hospital site the worker serves, from the configuration.
type Facility struct {
	ID   string
	Name string
	// ShortName names the facility in SMS, where every character counts.
	ShortName string
	TimeZone  string
	// Language is the notice language for patients whose own language is
	// unknown or has no templates.
	Language string
	// Country is the ISO 3166 region code for phone numbers written
	// without a country code.
	Country string

	// Keys may sign outage events for this facility; Approvers may sign
	// outage.approved events.
	Keys, Approvers []PublicKey
	// RequireSigned refuses outage events without a valid signature of
	// one of Keys (approvals: of Approvers).
	RequireSigned bool
	// ApprovalThreshold, when above 0, holds an outage that would notify
	// more patients than this until it is approved.
	ApprovalThreshold int
	// ApprovalTTL is how long after it was published an approval can
	// still release an outage (default DefaultApprovalTTL).
	ApprovalTTL time.Duration
	// SensitiveDepartments are shown in notices under a neutral label.
	SensitiveDepartments []string
	// AllowAddressLiterals admits patient e-mail addresses of the form
	// x@[192.0.2.1]; see Admit.
	AllowAddressLiterals bool
}

// verify checks an event's signature as the facility requires, and
// returns the signing key's id ("" for an unsigned event allowed as such).
func (f Facility) Verify(ev *Event, raw []byte) (string, error) {
	keys, required := f.Keys, f.RequireSigned
	if ev.Type == EventApproved {
		keys, required = f.Approvers, f.RequireSigned || len(f.Approvers) > 0
	}
	if ev.Sig == "" && !required {
		return "", nil
	}
	if len(keys) == 0 && !required {
		return "", nil // signed, but nobody to check it against: as unsigned
	}
	return VerifyEvent(raw, ev.Sig, keys)
}

// Location loads the facility's time zone.
func (f Facility) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(f.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("facility %s: time zone %q: %w", f.ID, f.TimeZone, err)
	}
	return loc, nil
}

// Sensitive reports whether a department is one whose name must not
// appear in a notice (compared without regard to case).
func (f Facility) Sensitive(department string) bool {
	for _, d := range f.SensitiveDepartments {
		if strings.EqualFold(d, department) {
			return true
		}
	}
	return false
}
