package synth

import (
	"testing"
	"time"
)

func TestSetShape(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2030, 3, 25, 0, 0, 0, 0, berlin) // the window spans a DST change
	for _, tc := range []struct {
		name                   string
		appointments, affected int
		two                    float64
	}{
		{"defaults scaled down", 10_000, 1_000, 0.10},
		{"everything affected", 500, 500, 0.5},
		{"nobody with two", 3_000, 700, 0},
		{"everybody with two", 3_000, 700, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Options{Appointments: tc.appointments, Affected: tc.affected, PatientsWithTwo: tc.two, Seed: 7, From: from})
			if err != nil {
				t.Fatal(err)
			}
			o := s.Outage("bench", "+49 211 81-0")
			perPatient := map[string]int{}
			ids := map[string]bool{}
			n, affected := 0, 0
			for r := s.Records(); ; {
				a, ok := r.Next()
				if !ok {
					break
				}
				n++
				if ids[a.ID] {
					t.Fatalf("id %s twice", a.ID)
				}
				ids[a.ID] = true
				if err := a.Normalize(); err != nil {
					t.Fatalf("record %s is not valid: %v", a.ID, err)
				}
				if o.Affects(&a) {
					affected++
					perPatient[a.Patient.ID]++
				}
			}
			if n != tc.appointments || affected != tc.affected {
				t.Errorf("%d records, %d affected; want %d, %d", n, affected, tc.appointments, tc.affected)
			}
			two := 0
			for _, c := range perPatient {
				if c == 2 {
					two++
				} else if c != 1 {
					t.Errorf("a patient has %d affected appointments", c)
				}
			}
			if len(perPatient) != s.Notices() || two != s.Pairs() {
				t.Errorf("%d patients, %d with two; the set says %d, %d", len(perPatient), two, s.Notices(), s.Pairs())
			}
			if got := float64(two) / float64(len(perPatient)); got < tc.two-0.01 || got > tc.two+0.01 {
				t.Errorf("share with two = %.3f, want %.2f", got, tc.two)
			}
		})
	}
	t.Run("the same seed gives the same records", func(t *testing.T) {
		a, _ := New(Options{Appointments: 100, Affected: 10, Seed: 1, From: from})
		b, _ := New(Options{Appointments: 100, Affected: 10, Seed: 1, From: from})
		ra, rb := a.Records(), b.Records()
		for {
			x, okx := ra.Next()
			y, oky := rb.Next()
			if okx != oky || x.ID != y.ID || !x.Start.Equal(y.Start) || x.Patient.ID != y.Patient.ID || x.Status != y.Status {
				t.Fatalf("records differ: %+v, %+v", x, y)
			}
			if !okx {
				break
			}
		}
	})
}
