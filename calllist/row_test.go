package calllist

import (
	"slices"
	"testing"

	"github.com/postponement/notifier/notifier"
)

func TestSorted(t *testing.T) {
	t.Run("soonest appointment first, then patient id", func(t *testing.T) {
		got := patientIDs(sorted(sampleRows(t)))
		want := []string{"p-0999", "p-1001", "p-1002"}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("a row's earliest appointment counts, whatever its place", func(t *testing.T) {
		rows := []Row{
			{PatientID: "late", Appointments: []Appointment{{Start: at(t, "2024-03-04T10:00:00Z")}}},
			{PatientID: "early-second", Appointments: []Appointment{
				{Start: at(t, "2024-03-09T10:00:00Z")},
				{Start: at(t, "2024-03-04T09:00:00Z")},
			}},
		}
		got := patientIDs(sorted(rows))
		want := []string{"early-second", "late"}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("appointments within a row soonest first", func(t *testing.T) {
		r := sorted(sampleRows(t))[2]
		if got, want := []string{r.Appointments[0].ID, r.Appointments[1].ID}, []string{"a-1", "a-2"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("rows without appointments go last", func(t *testing.T) {
		rows := append([]Row{{PatientID: "p-0000"}}, sampleRows(t)...)
		got := patientIDs(sorted(rows))
		want := []string{"p-0999", "p-1001", "p-1002", "p-0000"}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("the caller's rows are left as they were", func(t *testing.T) {
		rows := sampleRows(t)
		sorted(rows)
		if got, want := patientIDs(rows), []string{"p-1002", "p-1001", "p-0999"}; !slices.Equal(got, want) {
			t.Errorf("rows: got %v, want %v", got, want)
		}
		if got, want := rows[0].Appointments[0].ID, "a-2"; got != want {
			t.Errorf("first appointment: got %s, want %s", got, want)
		}
	})
}

func TestReasonTexts(t *testing.T) {
	cases := []struct {
		name     string
		attempts []notifier.Attempt
		want     []string
	}{
		{"a failure with its SMTP codes",
			[]notifier.Attempt{{Channel: "email", Result: notifier.ResultFailed, Class: "bad-address", Code: 550, Enhanced: "5.1.1", Reason: "mailbox unavailable"}},
			[]string{"email: bad-address 550 5.1.1 mailbox unavailable"}},
		{"a failure without codes",
			[]notifier.Attempt{{Channel: "sms", Result: notifier.ResultFailed, Class: "transient", Reason: "timeout"}},
			[]string{"sms: transient timeout"}},
		{"a skipped channel shows its result in place of a class",
			[]notifier.Attempt{{Channel: "sms", Result: notifier.ResultSkipped, Reason: "patient has no phone number"}},
			[]string{"sms: skipped patient has no phone number"}},
		{"retries that read the same are counted",
			slices.Repeat([]notifier.Attempt{{Channel: "sms", Result: notifier.ResultFailed, Class: "transient", Code: 503, Reason: "busy"}}, 3),
			[]string{"sms: transient 503 busy (3 attempts)"}},
		{"retries that differ are kept apart",
			[]notifier.Attempt{
				{Channel: "sms", Result: notifier.ResultFailed, Class: "transient", Code: 503, Reason: "busy"},
				{Channel: "sms", Result: notifier.ResultFailed, Class: "transient", Code: 429, Reason: "slow down"},
			},
			[]string{"sms: transient 503 busy", "sms: transient 429 slow down"}},
		{"no attempts, no reasons", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := reasonTexts(c.attempts); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// patientIDs lists the rows' patient ids in order.
func patientIDs(rows []Row) []string {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.PatientID
	}
	return ids
}
