package hl7

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// a08 is an ADT^A08 as an interface engine sends it: EVN, a PID with the
// telecoms in repetitions and components, a PV1, a Z-segment.
func a08(trigger string, pid map[int]string) string {
	fields := map[int]string{1: "1", 3: "P-77^^^UKD^MR~X-1^^^OTHER", 5: "Müller&Dr.^Jana",
		13: `^PRN^PH^^49^0211^5550101~^NET^Internet^jana.neu@example.org~^PRN^CP^^^^^^^^^+491701234567`, 15: "de^German^ISO639"}
	for k, v := range pid {
		fields[k] = v
	}
	return strings.Join([]string{
		`MSH|^~\&|ORBIS|UKD|NOTIFIER|UKD|20201020093000||ADT^` + trigger + `^ADT_A01|MSG00042|P|2.5|||||DE|UNICODE UTF-8`,
		"EVN|" + trigger + "|20201020092500",
		seg("PID", fields),
		"PV1|1|O",
		"ZPI|custom",
	}, "\r") + "\r"
}

func TestContactFromADT(t *testing.T) {
	for _, trigger := range []string{"A08", "A31"} {
		t.Run(trigger, func(t *testing.T) {
			m, err := Parse([]byte(a08(trigger, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if !m.IsContact() {
				t.Fatal("not taken as a contact change")
			}
			r, err := m.Contact("ukd", berlin)
			if err != nil {
				t.Fatal(err)
			}
			p := r.Patient
			if r.Facility != "ukd" || p.ID != "P-77" || p.Name != "Jana Müller" || p.Language != "de" ||
				p.Email != "jana.neu@example.org" || p.Phone != "+491701234567" || len(r.Clear) != 0 {
				t.Errorf("record %+v", r)
			}
			if want := time.Date(2020, 10, 20, 9, 25, 0, 0, berlin); !r.UpdatedAt.Equal(want) {
				t.Errorf("updated_at %v, want EVN-2 %v", r.UpdatedAt, want)
			}
		})
	}
}

func TestContactTelecoms(t *testing.T) {
	for name, tc := range map[string]struct {
		pid          map[int]string
		email, phone string
		clear        []string
	}{
		"e-mail by use code NET":      {map[int]string{13: "^NET^^jana@example.org"}, "jana@example.org", "", nil},
		"e-mail by equipment":         {map[int]string{13: "^^Internet^jana@example.org"}, "jana@example.org", "", nil},
		"phone in XTN-1":              {map[int]string{13: "0211 5550101^PRN^PH"}, "", "0211 5550101", nil},
		"phone in XTN-12":             {map[int]string{13: "^PRN^PH^^^^^^^^^+492115550101"}, "", "+492115550101", nil},
		"phone composed":              {map[int]string{13: "^PRN^PH^^49^0211^5550101"}, "", "+49 211 5550101", nil},
		"phone composed, no country":  {map[int]string{13: "^PRN^PH^^^0211^5550101"}, "", "0211 5550101", nil},
		"business phone in PID-14":    {map[int]string{13: "", 14: "^WPN^PH^^^^^^^^^+492115559999"}, "", "+492115559999", nil},
		"a mobile first":              {map[int]string{13: "^PRN^PH^^^^^^^^^+492115550101~^ORN^CP^^^^^^^^^+491701234567"}, "", "+491701234567", nil},
		"null telecoms clear both":    {map[int]string{13: `""`}, "", "", []string{"email", "phone"}},
		"null PID-14 clears the rest": {map[int]string{13: "^NET^Internet^jana@example.org", 14: `""`}, "jana@example.org", "", []string{"phone"}},
		"null name and language":      {map[int]string{5: `""`, 15: `""`}, "jana.neu@example.org", "+491701234567", []string{"name", "language"}},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := Parse([]byte(a08("A08", tc.pid)))
			if err != nil {
				t.Fatal(err)
			}
			r, err := m.Contact("ukd", berlin)
			if err != nil {
				t.Fatal(err)
			}
			if r.Patient.Email != tc.email || r.Patient.Phone != tc.phone || !slices.Equal(r.Clear, tc.clear) {
				t.Errorf("email %q phone %q clear %q; want %q %q %q", r.Patient.Email, r.Patient.Phone, r.Clear, tc.email, tc.phone, tc.clear)
			}
			for _, f := range r.Clear {
				if f == "name" && r.Patient.Name != "" || f == "language" && r.Patient.Language != "" {
					t.Errorf("%s cleared and given: %+v", f, r.Patient)
				}
			}
		})
	}
}

func TestUnusableADTNamesTheField(t *testing.T) {
	for name, tc := range map[string]struct {
		raw, place string
	}{
		"no PID":            {strings.Replace(a08("A08", nil), "PID|", "XXX|", 1), "PID"},
		"no patient id":     {a08("A08", map[int]string{3: ""}), "PID-3.1"},
		"id with a dot":     {a08("A08", map[int]string{3: "P.77^^^UKD^MR"}), "PID-3.1"},
		"bad e-mail":        {a08("A08", map[int]string{13: "^NET^Internet^jana at example.org"}), "PID-13"},
		"bad language":      {a08("A08", map[int]string{15: "German"}), "PID-15"},
		"bad recorded time": {strings.Replace(a08("A08", nil), "EVN|A08|20201020092500", "EVN|A08|yesterday", 1), "EVN-2"},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := Parse([]byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Contact("ukd", berlin)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Place != tc.place {
				t.Errorf("%v, want an error at %s", err, tc.place)
			}
			if err != nil && (strings.Contains(err.Error(), "Müller") || strings.Contains(err.Error(), "example.org")) {
				t.Errorf("the error repeats patient data: %v", err)
			}
		})
	}
	m, _ := Parse([]byte(strings.Replace(a08("A08", nil), "ADT^A08", "ADT^A01", 1)))
	if _, err := m.Contact("ukd", berlin); m.IsContact() || !errors.Is(err, ErrUnsupported) {
		t.Errorf("ADT^A01: %v, want unsupported", err)
	}
}
