package notifier

import (
	"errors"
	"testing"
	"time"
)

func TestCallPolicyApply(t *testing.T) {
	at := time.Date(2020, 10, 21, 10, 0, 0, 0, time.UTC)
	p := CallPolicy{ClaimFor: 15 * time.Minute, RetryAfter: time.Hour, MaxAttempts: 3}
	annas := CallState{ClaimedBy: "Anna", ClaimedUntil: at.Add(5 * time.Minute)}
	expired := CallState{ClaimedBy: "Anna", ClaimedUntil: at.Add(-time.Second)}
	twice := CallState{Attempts: 2, Outcome: CallNoAnswer, NextTry: at.Add(-time.Minute)}
	reached := CallState{Final: CallReached, Outcome: CallReached}
	unreachable := CallState{Final: CallUnreachable, Outcome: CallWrongNumber, Attempts: 1}
	conflict := &CallConflict{}
	tests := []struct {
		name    string
		prev    CallState
		action  string
		outcome string
		by      string
		want    CallState
		err     any
	}{
		{"a claim holds the row", CallState{}, CallClaim, "", "Ben", CallState{ClaimedBy: "Ben", ClaimedUntil: at.Add(15 * time.Minute)}, nil},
		{"a claim by the holder refreshes it", annas, CallClaim, "", "anna", CallState{ClaimedBy: "anna", ClaimedUntil: at.Add(15 * time.Minute)}, nil},
		{"a claim of a held row is refused", annas, CallClaim, "", "Ben", annas, &conflict},
		{"an expired claim is free", expired, CallClaim, "", "Ben", CallState{ClaimedBy: "Ben", ClaimedUntil: at.Add(15 * time.Minute)}, nil},
		{"a finished row cannot be claimed", reached, CallClaim, "", "Ben", reached, ErrCallFinished},
		{"the holder releases", annas, CallRelease, "", "Anna", CallState{}, nil},
		{"another cannot release", annas, CallRelease, "", "Ben", annas, &conflict},
		{"an outcome of another's row is refused", annas, CallOutcome, CallReached, "Ben", annas, &conflict},
		{"reached ends the work and the claim", annas, CallOutcome, CallReached, "Anna",
			CallState{Outcome: CallReached, OutcomeBy: "Anna", OutcomeAt: at, Final: CallReached}, nil},
		{"an outcome without a claim", CallState{}, CallOutcome, CallVoicemail, "Ben",
			CallState{Attempts: 1, Outcome: CallVoicemail, OutcomeBy: "Ben", OutcomeAt: at, NextTry: at.Add(time.Hour)}, nil},
		{"max_attempts makes the patient unreachable", twice, CallOutcome, CallNoAnswer, "Ben",
			CallState{Attempts: 3, Outcome: CallNoAnswer, OutcomeBy: "Ben", OutcomeAt: at, Final: CallUnreachable}, nil},
		{"a wrong number ends the work as unreachable", CallState{}, CallOutcome, CallWrongNumber, "Ben",
			CallState{Attempts: 1, Outcome: CallWrongNumber, OutcomeBy: "Ben", OutcomeAt: at, Final: CallUnreachable}, nil},
		{"unreachable directly", CallState{}, CallOutcome, CallUnreachable, "Ben",
			CallState{Outcome: CallUnreachable, OutcomeBy: "Ben", OutcomeAt: at, Final: CallUnreachable}, nil},
		{"an unreachable patient who rang back", unreachable, CallOutcome, CallReached, "Ben",
			CallState{Attempts: 1, Outcome: CallReached, OutcomeBy: "Ben", OutcomeAt: at, Final: CallReached}, nil},
		{"a finished row takes no other outcome", reached, CallOutcome, CallNoAnswer, "Ben", reached, ErrCallFinished},
		{"an unknown outcome", CallState{}, CallOutcome, "busy", "Ben", CallState{}, ErrCallInvalid},
		{"an unknown action", CallState{}, "call", "", "Ben", CallState{}, ErrCallInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.Apply(tc.prev, CallEvent{Action: tc.action, Outcome: tc.outcome, By: tc.by, At: at})
			switch want := tc.err.(type) {
			case nil:
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			case error:
				if !errors.Is(err, want) {
					t.Fatalf("err %v, want %v", err, want)
				}
			default:
				if !errors.As(err, want) {
					t.Fatalf("err %v, want a %T", err, want)
				}
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCallStateStatus(t *testing.T) {
	now := time.Date(2020, 10, 21, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		s    CallState
		want string
	}{
		{CallState{}, CallToCall},
		{CallState{ClaimedBy: "Anna", ClaimedUntil: now.Add(time.Minute)}, CallClaimed},
		{CallState{ClaimedBy: "Anna", ClaimedUntil: now}, CallToCall},
		{CallState{NextTry: now.Add(time.Minute)}, CallLater},
		{CallState{NextTry: now}, CallToCall},
		{CallState{Final: CallReached, ClaimedBy: "Anna", ClaimedUntil: now.Add(time.Minute)}, CallReached},
	} {
		if got := tc.s.Status(now); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.s, got, tc.want)
		}
	}
}

func TestCallerName(t *testing.T) {
	if got, err := CallerName("  Anna   Weiß "); err != nil || got != "Anna Weiß" {
		t.Errorf("got %q, %v", got, err)
	}
	for _, bad := range []string{"", "   ", "Anna\x00Weiß", "Anna\u202eWeiß"} {
		if _, err := CallerName(bad); !errors.Is(err, ErrCallInvalid) {
			t.Errorf("%q: %v, want refused", bad, err)
		}
	}
}
