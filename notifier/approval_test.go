package notifier

import (
	"testing"
	"time"
)

func TestScopeDigest(t *testing.T) {
	from := time.Date(2020, 10, 21, 0, 0, 0, 0, time.UTC)
	o := Outage{OutageID: "o", Facility: "ukd", From: from, Until: from.Add(7 * 24 * time.Hour),
		Departments: []string{"Cardiology", "radiology"}, Kinds: []string{"outpatient"}, Action: ActionPostpone}
	d := ScopeDigest(&o, 10)
	if !scopePattern.MatchString(d) {
		t.Fatalf("digest %q is not 16 hexadecimal digits", d)
	}
	same := o
	same.Departments = []string{"radiology", "cardiology"}
	same.Hotline, same.Note = "+49 211 1", map[string]string{"de": "x"}
	if ScopeDigest(&same, 10) != d {
		t.Error("the digest depends on the order or case of departments, or on what is not scope")
	}
	for name, change := range map[string]func(o *Outage) int{
		"window":      func(o *Outage) int { o.Until = o.Until.Add(time.Hour); return 10 },
		"departments": func(o *Outage) int { o.Departments = []string{"*"}; return 10 },
		"kinds":       func(o *Outage) int { o.Kinds = nil; return 10 },
		"action":      func(o *Outage) int { o.Action = ActionCancel; return 10 },
		"patients":    func(o *Outage) int { return 11 },
	} {
		c := o
		c.Departments = append([]string(nil), o.Departments...)
		n := change(&c)
		if ScopeDigest(&c, n) == d {
			t.Errorf("a change of %s keeps the digest", name)
		}
	}
}
