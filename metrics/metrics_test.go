package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"

	"github.com/postponement/notifier/notifier"
)

// downSender is a channel that is down: every send fails as transient. A
// real relay cannot be told to fail on demand this quickly.
type downSender struct{ name string }

func (s downSender) Name() string            { return s.name }
func (s downSender) Medium() notifier.Medium { return notifier.MediumEmail }
func (s downSender) Send(context.Context, *notifier.Message) error {
	return &notifier.SendError{Class: notifier.Transient, Reason: "connection refused"}
}

// upSender accepts every message.
type upSender struct{ name string }

func (s upSender) Name() string                                  { return s.name }
func (s upSender) Medium() notifier.Medium                       { return notifier.MediumEmail }
func (s upSender) Send(context.Context, *notifier.Message) error { return nil }

// scrape fetches the handler's text exposition.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// message is a message to a patient with an e-mail address, whose
// appointment is far enough away not to be urgent.
func message() *notifier.Message {
	return &notifier.Message{NoticeID: "n-1", To: notifier.Recipient{Email: "p@example.org"},
		Notice: &notifier.Notice{ID: "n-1", Appointments: []notifier.NoticeAppointment{{ID: "A-1", Start: time.Now().Add(30 * 24 * time.Hour)}}}}
}

func TestMetricsFollowAChainThatFallsBack(t *testing.T) {
	down := notifier.Link{Sender: downSender{"relay-a"}, Retry: notifier.Retry{Attempts: 1},
		Breaker: notifier.NewBreaker("relay-a", 2, time.Hour)}
	up := notifier.Link{Sender: upSender{"relay-b"}, Retry: notifier.Retry{Attempts: 1},
		Limit: rate.NewLimiter(rate.Every(20*time.Millisecond), 1)}
	chain := notifier.NewChain(notifier.Policy{}, down, up)
	m := New(chain.Health)
	chain.Observer = m

	for range 3 {
		res, err := chain.Deliver(context.Background(), message())
		if err != nil || res.Channel != "relay-b" {
			t.Fatalf("Deliver = %+v, %v; want relay-b to accept", res, err)
		}
		m.Finished(res.Outcome(), res.Channel, 90*time.Second)
	}

	t.Run("attempts by channel, result and class", func(t *testing.T) {
		for _, tc := range []struct {
			channel, result, class string
			want                   float64
		}{
			{"relay-a", notifier.ResultFailed, "transient", 2},
			{"relay-a", notifier.ResultSkipped, "", 1}, // the breaker opened after two failures
			{"relay-b", notifier.ResultAccepted, "", 3},
		} {
			if got := testutil.ToFloat64(m.attempts.WithLabelValues(tc.channel, tc.result, tc.class)); got != tc.want {
				t.Errorf("attempts{%s,%s,%q} = %v, want %v", tc.channel, tc.result, tc.class, got, tc.want)
			}
		}
	})
	t.Run("send latency leaves skipped sends out", func(t *testing.T) {
		text := scrape(t, m.Handler())
		for _, want := range []string{
			`notifier_send_duration_seconds_count{channel="relay-a"} 2`,
			`notifier_send_duration_seconds_count{channel="relay-b"} 3`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("scrape lacks %s", want)
			}
		}
	})
	t.Run("breaker state is read at scrape time", func(t *testing.T) {
		text := scrape(t, m.Handler())
		for _, want := range []string{
			`notifier_channel_breaker_state{channel="relay-a"} 2`,
			`notifier_channel_breaker_state{channel="relay-b"} 0`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("scrape lacks %s", want)
			}
		}
	})
	t.Run("rate-limit waits", func(t *testing.T) {
		if got := testutil.ToFloat64(m.rateLimitWaits.WithLabelValues("relay-b")); got < 1 {
			t.Errorf("rate-limit waits = %v, want at least 1: three sends at one per 20ms", got)
		}
		if got := testutil.ToFloat64(m.rateLimitWaited.WithLabelValues("relay-b")); got <= 0 {
			t.Errorf("rate-limit wait seconds = %v, want more than 0", got)
		}
	})
	t.Run("outcomes and their latency", func(t *testing.T) {
		if got := testutil.ToFloat64(m.finished.WithLabelValues(notifier.OutcomeDelivered, "relay-b")); got != 3 {
			t.Errorf("finished = %v, want 3", got)
		}
		text := scrape(t, m.Handler())
		if want := `notifier_notice_outcome_seconds_bucket{outcome="delivered",le="120"} 3`; !strings.Contains(text, want) {
			t.Errorf("scrape lacks %s", want)
		}
	})
}

func TestMetricsCountStreamsAndPlanning(t *testing.T) {
	m := New(nil)
	m.Consumed("APPOINTMENTS")
	m.Consumed("APPOINTMENTS")
	m.Rejected("OUTAGES")
	m.Planned(notifier.KindPostponed, 40)
	m.Planned(notifier.KindPostponed, 2)
	m.Planned(notifier.KindCancelled, 0)
	m.ReplicaLag(17)
	m.ReplicaLag(5)
	m.RateLimited("sms", 250*time.Millisecond)

	want := `
# HELP notifier_messages_consumed_total Messages accepted from a stream (appointment records, outage events).
# TYPE notifier_messages_consumed_total counter
notifier_messages_consumed_total{stream="APPOINTMENTS"} 2
# HELP notifier_messages_rejected_total Messages of a stream refused as malformed; each is recorded with its reason.
# TYPE notifier_messages_rejected_total counter
notifier_messages_rejected_total{stream="OUTAGES"} 1
# HELP notifier_notices_planned_total Notices planned, by kind (postponed, cancelled, reinstated, resumed).
# TYPE notifier_notices_planned_total counter
notifier_notices_planned_total{kind="postponed"} 42
# HELP notifier_replica_lag_records Appointment records on the stream the replica has not applied yet.
# TYPE notifier_replica_lag_records gauge
notifier_replica_lag_records 5
# HELP notifier_rate_limit_wait_seconds_total Time sends spent waiting for a channel's rate limit.
# TYPE notifier_rate_limit_wait_seconds_total counter
notifier_rate_limit_wait_seconds_total{channel="sms"} 0.25
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want),
		"notifier_messages_consumed_total", "notifier_messages_rejected_total", "notifier_notices_planned_total",
		"notifier_replica_lag_records", "notifier_rate_limit_wait_seconds_total"); err != nil {
		t.Error(err)
	}
}

func TestMetricsIncludeTheRuntimeTheChannelsAndPassLint(t *testing.T) {
	m := New(func() []notifier.ChannelHealth {
		return []notifier.ChannelHealth{{Name: "relay", Breaker: "half-open", ConsecutiveFailures: 3}}
	})
	text := scrape(t, m.Handler())
	for _, want := range []string{"go_goroutines ", "process_start_time_seconds ", `notifier_channel_breaker_state{channel="relay"} 1`,
		`notifier_channel_consecutive_failures{channel="relay"} 3`} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "notifier_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

// TestMetricsOutageFigures: an outage's counts by state, and the soonest
// appointment of a patient not yet reached as a Unix time, absent when
// there is none.
func TestMetricsOutageFigures(t *testing.T) {
	m := New(nil)
	soonest := time.Date(2020, 10, 21, 7, 0, 0, 0, time.UTC)
	m.Outages(func() []OutageFigures {
		return []OutageFigures{
			{ID: "o-1", Facility: "ukd", Counts: map[string]int{"delivered": 3, "calllist_to_call": 1}, SoonestUnreached: soonest},
			{ID: "o-2", Facility: "ukd", Counts: map[string]int{"delivered": 1}},
		}
	})
	want := `
# HELP notifier_outage_soonest_unreached_appointment_timestamp_seconds The start (Unix time) of the soonest appointment of a patient of the outage not yet reached: who neither confirmed the notice nor was reached by phone. Absent when there is none.
# TYPE notifier_outage_soonest_unreached_appointment_timestamp_seconds gauge
notifier_outage_soonest_unreached_appointment_timestamp_seconds{facility="ukd",outage="o-1"} 1.6032636e+09
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "notifier_outage_soonest_unreached_appointment_timestamp_seconds"); err != nil {
		t.Error(err)
	}
	text := scrape(t, m.Handler())
	if !strings.Contains(text, `notifier_outage_notices{facility="ukd",outage="o-1",state="calllist_to_call"} 1`) {
		t.Errorf("scrape lacks the call list's count:\n%s", text)
	}
	problems, err := testutil.GatherAndLint(m.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "notifier_outage") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

func TestBreakerValues(t *testing.T) {
	for _, tc := range []struct {
		state string
		want  float64
		ok    bool
	}{
		{"closed", BreakerClosed, true},
		{"half-open", BreakerHalfOpen, true},
		{"open", BreakerOpen, true},
		{"", 0, false},
		{"unknown", 0, false},
	} {
		got, ok := breakerValue(tc.state)
		if got != tc.want || ok != tc.ok {
			t.Errorf("breakerValue(%q) = %v, %v; want %v, %v", tc.state, got, ok, tc.want, tc.ok)
		}
	}
}

// TestMetricsViews: how far each view of the store has applied its stream,
// read at every scrape, none before the views exist.
func TestMetricsViews(t *testing.T) {
	m := New(nil)
	var applied map[string]uint64
	m.Views(func() map[string]uint64 { return applied })
	if text := scrape(t, m.Handler()); strings.Contains(text, "notifier_view_applied_sequence{") {
		t.Errorf("a scrape before the views exist shows positions:\n%s", text)
	}
	applied = map[string]uint64{"APPOINTMENTS": 200000, "DELIVERIES": 17}
	want := `
# HELP notifier_view_applied_sequence Stream sequence of the last message this worker's store has applied, by stream: records and outcomes up to it are in the store.
# TYPE notifier_view_applied_sequence gauge
notifier_view_applied_sequence{stream="APPOINTMENTS"} 200000
notifier_view_applied_sequence{stream="DELIVERIES"} 17
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "notifier_view_applied_sequence"); err != nil {
		t.Error(err)
	}
}
