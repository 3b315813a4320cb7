package web

import (
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/store"
)

func TestPace(t *testing.T) {
	now := time.Date(2020, 10, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		status        store.OutageStatus
		wantPhase     string
		wantPerMinute float64
		wantRemaining time.Duration
	}{
		{"nothing planned", store.OutageStatus{}, phaseWaiting, 0, 0},
		{"planned, nothing sent", store.OutageStatus{Planned: 10, Pending: 10}, phaseStarting, 0, 0},
		{"a full window of outcomes",
			store.OutageStatus{Planned: 1000, Delivered: 400, Pending: 600, FirstOutcome: now.Add(-time.Hour), Recent: 100},
			phaseSending, 20, 30 * time.Minute},
		{"outcomes since a minute ago count over that minute",
			store.OutageStatus{Planned: 1000, Delivered: 60, Pending: 940, FirstOutcome: now.Add(-time.Minute), Recent: 60},
			phaseSending, 60, 940 * time.Second},
		{"the first seconds count as ten",
			store.OutageStatus{Planned: 100, Delivered: 5, Pending: 95, FirstOutcome: now.Add(-time.Second), Recent: 5},
			phaseSending, 30, 190 * time.Second},
		{"a rate that does not divide evenly",
			store.OutageStatus{Planned: 10, Delivered: 3, Pending: 7, FirstOutcome: now.Add(-time.Hour), Recent: 3},
			phaseSending, 0.6, 700 * time.Second},
		{"no outcome in the window is a stall",
			store.OutageStatus{Planned: 10, Delivered: 3, Pending: 7, FirstOutcome: now.Add(-time.Hour)},
			phaseStalled, 0, 0},
		{"nothing pending is done, whatever the pace",
			store.OutageStatus{Planned: 10, Delivered: 8, Manual: 2, FirstOutcome: now.Add(-time.Minute), Recent: 10},
			phaseDone, 10, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pace(tc.status, now)
			if got.Phase != tc.wantPhase {
				t.Errorf("phase %q, want %q", got.Phase, tc.wantPhase)
			}
			if diff := got.PerMinute - tc.wantPerMinute; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("%v per minute, want %v", got.PerMinute, tc.wantPerMinute)
			}
			if got.Remaining != tc.wantRemaining {
				t.Errorf("remaining %v, want %v", got.Remaining, tc.wantRemaining)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 s"},
		{42 * time.Second, "42 s"},
		{90 * time.Second, "2 min"},
		{59*time.Minute + 40*time.Second, "60 min"},
		{time.Hour, "1 h"},
		{2*time.Hour + 5*time.Minute, "2 h 5 min"},
		{47 * time.Hour, "47 h"},
		{50 * time.Hour, "2 d 2 h"},
		{72 * time.Hour, "3 d"},
	} {
		if got := duration(tc.d); got != tc.want {
			t.Errorf("duration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{count(0), "0"},
		{count(999), "999"},
		{count(1000), "1\u202f000"},
		{count(100000), "100\u202f000"},
		{count(1234567), "1\u202f234\u202f567"},
		{share(0, 0), "0%"},
		{share(1, 1000), "<1%"},
		{share(0, 1000), "0%"},
		{share(999, 1000), "99%"},
		{share(1000, 1000), "100%"},
		{rate(0.25), "0.2"},
		{rate(9.96), "10.0"},
		{rate(12.5), "13"},
		{rate(1500), "1\u202f500"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		name   string
		status store.OutageStatus
		want   []barPart
	}{
		{"nothing planned is all grey", store.OutageStatus{}, []barPart{{"pending", 0, 1000}}},
		{"shares of a thousand", store.OutageStatus{Planned: 4, Delivered: 2, Manual: 1, Pending: 1},
			[]barPart{{"delivered", 0, 500}, {"manual", 500, 250}, {"pending", 750, 250}}},
		{"a thin share is still seen", store.OutageStatus{Planned: 10000, Delivered: 9999, Manual: 1},
			[]barPart{{"delivered", 0, 999}, {"manual", 999, 1}}},
		{"rounding leaves no gap", store.OutageStatus{Planned: 3, Delivered: 1, Pending: 2},
			[]barPart{{"delivered", 0, 333}, {"pending", 333, 667}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bar(tc.status)
			if len(got) != len(tc.want) {
				t.Fatalf("bar %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("bar %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestScopeAndWindow(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2020, 10, 21, 0, 0, 0, 0, berlin)
	until := time.Date(2020, 10, 28, 0, 0, 0, 0, berlin)
	for _, tc := range []struct {
		got, want string
	}{
		// The window crosses the end of summer time: each end in its own offset.
		{join(window(from, until, berlin)), "Wed 2020-10-21 00:00 CEST – Wed 2020-10-28 00:00 CET"},
		{join(window(from.UTC(), until.UTC(), berlin)), "Wed 2020-10-21 00:00 CEST – Wed 2020-10-28 00:00 CET"},
		{join(window(from, time.Time{}, berlin)), "from Wed 2020-10-21 00:00 CEST"},
		{join(window(time.Time{}, time.Time{}, berlin)), "not given"},
		{departments([]string{"*"}), "all departments"},
		{departments([]string{"cardiology", "radiology"}), "cardiology, radiology"},
		{kinds(nil), "every kind but inpatient"},
		{kinds([]string{"outpatient", "elective"}), "outpatient, elective"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// join writes a window as the page shows it.
func join(from, until string) string {
	if until == "" {
		return from
	}
	return from + " – " + until
}

func TestSharedZone(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	london, _ := time.LoadLocation("Europe/London")
	for _, tc := range []struct {
		name  string
		zones map[string]*time.Location
		want  string
	}{
		{"none", nil, "UTC"},
		{"one", map[string]*time.Location{"ukd": berlin}, "Europe/Berlin"},
		{"two alike", map[string]*time.Location{"ukd": berlin, "ukk": berlin}, "Europe/Berlin"},
		{"two apart", map[string]*time.Location{"ukd": berlin, "ucl": london}, "UTC"},
	} {
		if got := sharedZone(tc.zones).String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestCallListPolicyAllowsOnlyItsOwnStyle(t *testing.T) {
	csp := callListCSP()
	if !strings.Contains(csp, "style-src 'self' 'sha256-") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("policy %q, want the page's style by hash and no script", csp)
	}
}
