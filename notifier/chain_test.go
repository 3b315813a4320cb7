package notifier

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted is a channel whose answers the test writes down: the chain's
// policy is pure logic, and real relays are exercised in package app.
type scripted struct {
	name    string
	medium  Medium
	answers []error // one per call; the last repeats
	mu      sync.Mutex
	calls   int
}

func (s *scripted) Name() string   { return s.name }
func (s *scripted) Medium() Medium { return s.medium }
func (s *scripted) Send(ctx context.Context, _ *Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.answers) == 0 {
		return nil
	}
	return s.answers[min(s.calls, len(s.answers))-1]
}

var (
	transient  = &SendError{Class: Transient, Code: 451, Reason: "try later"}
	permanent  = &SendError{Class: Permanent, Code: 554, Enhanced: "5.7.1", Reason: "relaying denied"}
	badAddress = &SendError{Class: BadAddress, Code: 550, Enhanced: "5.1.1", Reason: "no such user"}
	fast       = Retry{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Budget: time.Second}
)

func message(channels ...string) *Message {
	n := &Notice{ID: "n-1", Patient: Patient{ID: "P-1", Channels: channels},
		Appointments: []NoticeAppointment{{ID: "A-1", Start: time.Now().Add(30 * 24 * time.Hour)}}}
	return &Message{NoticeID: "n-1", To: Recipient{Email: "p@example.org", Phone: "+492115550101"}, Notice: n}
}

func trail(r *Result) string {
	var parts []string
	for _, a := range r.Trail {
		parts = append(parts, a.Channel+":"+a.Result)
	}
	return strings.Join(parts, " ")
}

func TestChainRoutes(t *testing.T) {
	tests := []struct {
		name      string
		links     func() []Link
		msg       *Message
		wantChan  string
		wantTrail string
	}{
		{"first channel accepts", func() []Link {
			return []Link{{Sender: &scripted{name: "a", medium: MediumEmail}}, {Sender: &scripted{name: "b", medium: MediumEmail}}}
		}, message(), "a", "a:accepted"},
		{"transient is retried, then the next channel", func() []Link {
			return []Link{{Sender: &scripted{name: "a", medium: MediumEmail, answers: []error{transient}}, Retry: fast},
				{Sender: &scripted{name: "b", medium: MediumEmail}}}
		}, message(), "b", "a:failed a:failed a:failed b:accepted"},
		{"transient then success on the same channel", func() []Link {
			return []Link{{Sender: &scripted{name: "a", medium: MediumEmail, answers: []error{transient, nil}}, Retry: fast}}
		}, message(), "a", "a:failed a:accepted"},
		{"permanent moves on at once", func() []Link {
			return []Link{{Sender: &scripted{name: "a", medium: MediumEmail, answers: []error{permanent}}, Retry: fast},
				{Sender: &scripted{name: "b", medium: MediumEmail}}}
		}, message(), "b", "a:failed b:accepted"},
		{"bad address skips the medium, not the others", func() []Link {
			return []Link{{Sender: &scripted{name: "a", medium: MediumEmail, answers: []error{badAddress}}, Retry: fast},
				{Sender: &scripted{name: "b", medium: MediumEmail}}, {Sender: &scripted{name: "sms", medium: MediumSMS}}}
		}, message(), "sms", "a:failed b:skipped sms:accepted"},
		{"no e-mail address", func() []Link {
			return []Link{{Sender: &scripted{name: "a", medium: MediumEmail}}, {Sender: &scripted{name: "sms", medium: MediumSMS}}}
		}, func() *Message { m := message(); m.To.Email = ""; return m }(), "sms", "a:skipped sms:accepted"},
		{"the patient prefers SMS", func() []Link {
			return []Link{{Sender: &scripted{name: "a", medium: MediumEmail}}, {Sender: &scripted{name: "sms", medium: MediumSMS}}}
		}, message("sms", "email"), "sms", "sms:accepted"},
		{"nothing works: manual", func() []Link {
			return []Link{{Sender: &scripted{name: "a", medium: MediumEmail, answers: []error{permanent}}},
				{Sender: &scripted{name: "sms", medium: MediumSMS, answers: []error{badAddress}}}}
		}, message(), "", "a:failed sms:failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewChain(Policy{}, tc.links()...)
			res, err := c.Deliver(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Channel != tc.wantChan || trail(res) != tc.wantTrail {
				t.Errorf("channel %q trail %q, want %q %q", res.Channel, trail(res), tc.wantChan, tc.wantTrail)
			}
			if want := map[bool]string{true: OutcomeDelivered, false: OutcomeManual}[tc.wantChan != ""]; res.Outcome() != want {
				t.Errorf("outcome %s, want %s", res.Outcome(), want)
			}
		})
	}
}

func TestBreakerSkipsAFailingChannel(t *testing.T) {
	dead := &scripted{name: "dead", medium: MediumEmail, answers: []error{transient}}
	good := &scripted{name: "good", medium: MediumEmail}
	c := NewChain(Policy{}, Link{Sender: dead, Retry: Retry{Attempts: 1}, Breaker: NewBreaker("dead", 3, time.Hour)}, Link{Sender: good})
	for i := range 10 {
		res, err := c.Deliver(context.Background(), message())
		if err != nil || res.Channel != "good" {
			t.Fatalf("notice %d: %v %v", i, res, err)
		}
	}
	if dead.calls != 3 {
		t.Errorf("the dead channel was called %d times, want 3 before its breaker opened", dead.calls)
	}
	if h := c.Health()[0]; h.State != ChannelBreakerOpen {
		t.Errorf("health %+v, want breaker open", h)
	}
}

func TestBadAddressDoesNotOpenTheBreaker(t *testing.T) {
	ch := &scripted{name: "relay", medium: MediumEmail, answers: []error{badAddress}}
	c := NewChain(Policy{}, Link{Sender: ch, Breaker: NewBreaker("relay", 2, time.Hour)})
	for range 5 {
		c.Deliver(context.Background(), message())
	}
	if ch.calls != 5 {
		t.Errorf("relay called %d times, want 5: bad addresses are not the relay's fault", ch.calls)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	wait := &SendError{Class: Transient, Code: 429, RetryAfter: 200 * time.Millisecond}
	ch := &scripted{name: "sms", medium: MediumSMS, answers: []error{wait, nil}}
	c := NewChain(Policy{}, Link{Sender: ch, Retry: fast})
	start := time.Now()
	res, _ := c.Deliver(context.Background(), message())
	if res.Channel != "sms" || time.Since(start) < 200*time.Millisecond {
		t.Errorf("channel %q after %v, want sms after at least 200ms", res.Channel, time.Since(start))
	}
}

func TestUrgentNoticeUsesEveryMediumAtOnce(t *testing.T) {
	mail := &scripted{name: "mail", medium: MediumEmail}
	sms := &scripted{name: "sms", medium: MediumSMS}
	c := NewChain(Policy{}, Link{Sender: mail}, Link{Sender: sms})
	m := message()
	m.Notice.Appointments[0].Start = time.Now().Add(5 * time.Hour)
	res, err := c.Deliver(context.Background(), m)
	if err != nil || res.Outcome() != OutcomeDelivered {
		t.Fatalf("%v %v", res, err)
	}
	if mail.calls != 1 || sms.calls != 1 {
		t.Errorf("mail %d sms %d calls, want one each", mail.calls, sms.calls)
	}
}

func TestCancelledContextIsNotAnOutcome(t *testing.T) {
	ch := &scripted{name: "a", medium: MediumEmail, answers: []error{transient}}
	c := NewChain(Policy{}, Link{Sender: ch, Retry: Retry{Attempts: 100, Backoff: 50 * time.Millisecond, Budget: time.Hour}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Deliver(ctx, message()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's: the notice must be retried, not recorded", err)
	}
}

func TestFullJitterStaysWithinBounds(t *testing.T) {
	r := Retry{Attempts: 10, Backoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond}.withDefaults()
	for n := 1; n <= 10; n++ {
		ceiling := min(10*time.Millisecond<<(n-1), 80*time.Millisecond)
		for range 100 {
			if d := r.delay(n); d <= 0 || d > ceiling {
				t.Fatalf("delay(%d) = %v, want in (0, %v]", n, d, ceiling)
			}
		}
	}
}
