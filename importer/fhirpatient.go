package importer

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// nameUseOrder ranks HumanName.use: a notice addresses the patient by the
// official name, else the usual one. Old and maiden names are never used.
var nameUseOrder = map[string]int{"official": 0, "usual": 1, "": 2, "temp": 3, "nickname": 4, "anonymous": 5}

// patientName is the best name's given names and family, else its text.
func patientName(names []fhirHumanName) string {
	best, bestOrder := "", math.MaxInt
	for _, n := range names {
		order, ok := nameUseOrder[n.Use]
		if !ok {
			continue
		}
		s := strings.Join(nonEmpty(append(slices.Clip(n.Given), n.Family)), " ")
		if s == "" {
			s = strings.TrimSpace(n.Text)
		}
		if s != "" && order < bestOrder {
			best, bestOrder = s, order
		}
	}
	return best
}

// patientLanguage is the first coded language of the preferred
// communication, else of the others in order. Normalize cuts "de-DE" to
// "de".
func patientLanguage(fp *fhirPatient) string {
	comms := slices.Clone(fp.Communication)
	slices.SortStableFunc(comms, func(a, b fhirCommunication) int {
		switch {
		case a.Preferred == b.Preferred:
			return 0
		case a.Preferred:
			return -1
		}
		return 1
	})
	for _, c := range comms {
		for _, cd := range c.Language.Coding {
			if code := strings.TrimSpace(cd.Code); code != "" {
				return code
			}
		}
	}
	return ""
}

// contact sets the patient's best email and phone, and Channels when their
// ranks say which the patient prefers.
func (m *mapper) contact(p *notifier.Patient, telecoms []fhirContactPoint) {
	usable := make([]fhirContactPoint, 0, len(telecoms))
	for _, t := range telecoms {
		if strings.TrimSpace(t.Value) != "" && t.Use != "old" && m.inEffect(t.Period) {
			usable = append(usable, t)
		}
	}
	slices.SortStableFunc(usable, func(a, b fhirContactPoint) int { return cmp.Compare(rankOrder(a), rankOrder(b)) })
	var email, phone *fhirContactPoint
	for i, t := range usable {
		switch {
		case t.System == "email" && email == nil:
			email = &usable[i]
		case (t.System == "phone" || t.System == "sms") && phone == nil:
			phone = &usable[i]
		}
	}
	if email != nil {
		p.Email = strings.TrimSpace(email.Value)
	}
	if phone != nil {
		p.Phone = strings.TrimSpace(phone.Value)
	}
	if email != nil && phone != nil {
		switch cmp.Compare(rankOrder(*email), rankOrder(*phone)) {
		case -1:
			p.Channels = []string{"email", "sms"}
		case 1:
			p.Channels = []string{"sms", "email"}
		}
	}
}

// rankOrder puts rank 1 first and a telecom without a rank last.
func rankOrder(t fhirContactPoint) int {
	if t.Rank > 0 {
		return t.Rank
	}
	return math.MaxInt
}

// inEffect reports whether a period holds at the time of the import. A
// bound that is not a FHIR dateTime is ignored rather than discarding the
// telecom: the patient is better reached at an address of unclear validity
// than not at all.
func (m *mapper) inEffect(p *fhirPeriod) bool {
	if p == nil {
		return true
	}
	if from, _, ok := dateTimeSpan(strings.TrimSpace(p.Start), m.loc); ok && m.now.Before(from) {
		return false
	}
	if _, until, ok := dateTimeSpan(strings.TrimSpace(p.End), m.loc); ok && !m.now.Before(until) {
		return false
	}
	return true
}

// dateTimeSpan reads a FHIR dateTime, which may be a year, a month, a day
// (taken in loc) or an instant, as the span of time it covers.
func dateTimeSpan(s string, loc *time.Location) (from, until time.Time, ok bool) {
	for _, p := range []struct {
		layout        string
		years, months int
		days          int
	}{{"2006", 1, 0, 0}, {"2006-01", 0, 1, 0}, {"2006-01-02", 0, 0, 1}} {
		if len(s) == len(p.layout) {
			t, err := time.ParseInLocation(p.layout, s, loc)
			return t, t.AddDate(p.years, p.months, p.days), err == nil
		}
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, t, err == nil
}
