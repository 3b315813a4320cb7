package notifier

import (
	"testing"
	"time"
)

func TestFeedbackRevise(t *testing.T) {
	delivered := &Delivery{Outcome: OutcomeDelivered, Channel: "sms"}
	now := time.Date(2020, 10, 21, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		f      Feedback
		d      *Delivery
		result string // "" when nothing changes
		failed bool
	}{
		{"SMS delivered", Feedback{Kind: FeedbackSMSStatus, Channel: "sms", Status: SMSDelivered}, delivered, ResultConfirmed, false},
		{"SMS undeliverable", Feedback{Kind: FeedbackSMSStatus, Channel: "sms", Status: SMSUndeliverable, Code: "30003"}, delivered, ResultReported, true},
		{"SMS expired", Feedback{Kind: FeedbackSMSStatus, Channel: "sms", Status: SMSExpired}, delivered, ResultReported, true},
		{"another channel's receipt", Feedback{Kind: FeedbackSMSStatus, Channel: "sms-2", Status: SMSFailed}, delivered, "", true},
		{"a notice on the call list", Feedback{Kind: FeedbackSMSStatus, Channel: "sms", Status: SMSFailed}, &Delivery{Outcome: OutcomeManual, Channel: "calllist"}, "", true},
		{"no outcome yet", Feedback{Kind: FeedbackSMSStatus, Channel: "sms", Status: SMSFailed}, nil, "", true},
		{"hard bounce", Feedback{Kind: FeedbackBounce, Channel: "relay", Status: "5.1.1", Action: BounceFailed}, &Delivery{Outcome: OutcomeDelivered, Channel: "relay"}, ResultBounced, true},
		{"hard bounce without action", Feedback{Kind: FeedbackBounce, Channel: "relay", Status: "5.2.1"}, &Delivery{Outcome: OutcomeDelivered, Channel: "relay"}, ResultBounced, true},
		{"soft bounce", Feedback{Kind: FeedbackBounce, Channel: "relay", Status: "4.2.2", Action: BounceDelayed}, &Delivery{Outcome: OutcomeDelivered, Channel: "relay"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Received = now
			if got := tc.f.Failed(); got != tc.failed {
				t.Errorf("Failed() = %v, want %v", got, tc.failed)
			}
			a := tc.f.Revise(tc.d)
			switch {
			case tc.result == "" && a != nil:
				t.Errorf("revised %+v, want no change", a)
			case tc.result != "" && (a == nil || a.Result != tc.result || a.Channel != tc.f.Channel || !a.At.Equal(now)):
				t.Errorf("revised %+v, want a %s attempt on %s", a, tc.result, tc.f.Channel)
			}
		})
	}
	if FeedbackID(FeedbackSMSStatus, "n-1", "sms", SMSFailed, "1", now) != FeedbackID(FeedbackSMSStatus, "n-1", "sms", SMSFailed, "1", now) ||
		FeedbackID(FeedbackSMSStatus, "n-1", "sms", SMSFailed, "1", now) == FeedbackID(FeedbackSMSStatus, "n-1", "sms", SMSFailed, "2", now) {
		t.Error("feedback ids are not derived from what the feedback says")
	}
}

// TestStandingChannel: a channel that accepted a notice and then bounced,
// or whose carrier reported it failed, never counts as having delivered it.
func TestStandingChannel(t *testing.T) {
	accepted := func(ch string) Attempt { return Attempt{Channel: ch, Result: ResultAccepted} }
	for _, tc := range []struct {
		name string
		d    Delivery
		want string
	}{
		{"the outcome's channel", Delivery{Outcome: OutcomeDelivered, Channel: "sms", Trail: []Attempt{accepted("relay"), accepted("sms")}}, "sms"},
		{"another channel took it too", Delivery{Outcome: OutcomeDelivered, Channel: "sms",
			Trail: []Attempt{accepted("relay"), accepted("sms"), {Channel: "sms", Result: ResultReported}}}, "relay"},
		{"bounced, then the SMS failed", Delivery{Outcome: OutcomeDelivered, Channel: "sms",
			Trail: []Attempt{accepted("relay"), {Channel: "relay", Result: ResultBounced}, accepted("sms"), {Channel: "sms", Result: ResultReported}}}, ""},
		{"the SMS failed, then a bounce", Delivery{Outcome: OutcomeDelivered, Channel: "relay",
			Trail: []Attempt{accepted("sms"), {Channel: "sms", Result: ResultReported}, accepted("relay"), {Channel: "relay", Result: ResultBounced}}}, ""},
		{"confirmed by the carrier", Delivery{Outcome: OutcomeManual, Channel: "calllist",
			Trail: []Attempt{accepted("sms"), {Channel: "sms", Result: ResultConfirmed}}}, "sms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.StandingChannel(); got != tc.want {
				t.Errorf("StandingChannel() = %q, want %q", got, tc.want)
			}
		})
	}
}
