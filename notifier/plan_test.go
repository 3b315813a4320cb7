package notifier

import (
	"slices"
	"testing"
	"time"
)

func TestToldSoFar(t *testing.T) {
	n := func(kind, key string, ids ...string) PlannedNotice {
		return PlannedNotice{Kind: kind, EventKey: key, AppointmentIDs: ids}
	}
	for _, tc := range []struct {
		name     string
		key      string
		planned  []PlannedNotice
		told     []string
		baseWith bool
	}{
		{"first event", "/s#1", nil, nil, false},
		{"first event redelivered: its own notices do not count", "/s#1", []PlannedNotice{n(KindPostponed, "/s#1", "A-1")}, nil, false},
		{"an update after a declaration", "/s#2", []PlannedNotice{n(KindPostponed, "/s#1", "A-1", "A-2"), n(KindCancelled, "/s#1", "A-3")}, []string{"A-1", "A-2", "A-3"}, true},
		{"reinstated since", "/s#3", []PlannedNotice{n(KindPostponed, "/s#1", "A-1", "A-2"), n(KindReinstated, "/s#2", "A-2")}, []string{"A-1"}, true},
		{"postponed again after reinstated", "/s#4", []PlannedNotice{n(KindPostponed, "/s#1", "A-2"), n(KindReinstated, "/s#2", "A-2"), n(KindPostponed, "/s#3", "A-2")}, []string{"A-2"}, true},
		{"resumed notices tell no one not to come", "/s#5", []PlannedNotice{n(KindResumed, "/s#4", "A-9")}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			told, base := ToldSoFar("o-1", tc.key, tc.planned)
			var got []string
			for id := range told {
				got = append(got, id)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.told) {
				t.Errorf("told %v, want %v", got, tc.told)
			}
			if want := map[bool]string{false: "o-1", true: "o-1@" + tc.key}[tc.baseWith]; base != want {
				t.Errorf("base %q, want %q", base, want)
			}
		})
	}
}

func TestLeftScopeAndStillAhead(t *testing.T) {
	told := map[string]bool{"A-1": true, "A-2": true, "A-3": true}
	if got := LeftScope(told, map[string]bool{"A-2": true, "A-9": true}); !slices.Equal(got, []string{"A-1", "A-3"}) {
		t.Errorf("left scope %v, want A-1 and A-3", got)
	}
	now := time.Date(2020, 10, 22, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status string
		start  time.Time
		want   bool
	}{
		{StatusBooked, now.Add(time.Hour), true},
		{StatusBooked, now, false},
		{StatusBooked, now.Add(-time.Hour), false},
		{"cancelled", now.Add(time.Hour), false},
		{StatusCheckedIn, now.Add(time.Minute), true},
	} {
		a := Appointment{Status: tc.status, Start: tc.start}
		if got := StillAhead(&a, now); got != tc.want {
			t.Errorf("%s at %v: %v, want %v", tc.status, tc.start, got, tc.want)
		}
	}
}
