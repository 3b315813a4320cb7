package engine

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestRecordStreamsRememberMessageIDsForADay: APPOINTMENTS and PATIENTS are
// created with the 24 h duplicate window, and one created with NATS's
// default (two minutes, as an earlier version did) is widened, while a
// longer window an operator set is kept.
func TestRecordStreamsRememberMessageIDsForADay(t *testing.T) {
	js := testJetStream(t)
	ctx := context.Background()
	window := func(name string) time.Duration {
		t.Helper()
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.Config.Duplicates
	}

	if err := EnsureStreams(ctx, js, 1, StreamAppointments); err != nil {
		t.Fatal(err)
	}
	if got := window(StreamAppointments); got != 24*time.Hour {
		t.Errorf("a new APPOINTMENTS stream: duplicate window %s, want 24h", got)
	}

	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: StreamPatients, Subjects: []string{SubjectPatients + ".>"}, MaxMsgsPerSubject: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: StreamDeliveries, Subjects: []string{SubjectDeliveries + ".>"}, Duplicates: 48 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if got := window(StreamPatients); got != 2*time.Minute {
		t.Fatalf("an old PATIENTS stream: duplicate window %s, want NATS's default of 2m", got)
	}
	if err := EnsureStreams(ctx, js, 1); err != nil {
		t.Fatal(err)
	}
	if err := WidenDuplicateWindows(ctx, js); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]time.Duration{StreamAppointments: 24 * time.Hour, StreamPatients: 24 * time.Hour, StreamDeliveries: 48 * time.Hour} {
		if got := window(name); got != want {
			t.Errorf("%s after the update: duplicate window %s, want %s", name, got, want)
		}
	}
}
