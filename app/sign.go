package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
)

// WriteKeyPair makes a key pair with the given id and writes prefix.key
// (the private key, owner-only, refused if it exists) and prefix.pub.
func WriteKeyPair(id, prefix string) (notifier.PublicKey, error) {
	pub, priv, err := notifier.GenerateKey(id)
	if err != nil {
		return pub, err
	}
	f, err := os.OpenFile(prefix+".key", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return pub, fmt.Errorf("private key: %w", err)
	}
	if _, err := fmt.Fprintln(f, priv.String()); err != nil {
		f.Close()
		return pub, err
	}
	if err := f.Close(); err != nil {
		return pub, err
	}
	return pub, os.WriteFile(prefix+".pub", []byte(pub.String()+"\n"), 0o644)
}

// SignWith signs an event with the private key in keyFile.
func SignWith(ev *notifier.Event, keyFile string) (*notifier.Event, error) {
	text, err := ReadSecret(keyFile)
	if err != nil {
		return nil, fmt.Errorf("sign key: %w", err)
	}
	key, err := notifier.ParsePrivateKey(text)
	if err != nil {
		return nil, fmt.Errorf("sign key %s: %w", keyFile, err)
	}
	ev.Sig = ""
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	signed, err := notifier.SignEvent(raw, key)
	if err != nil {
		return nil, err
	}
	return notifier.DecodeEvent(signed, ev.Outage.Facility)
}

// PublishOutageEvent publishes an outage event on the configured NATS,
// creating the stream when missing.
func PublishOutageEvent(ctx context.Context, cfg *config.Config, url string, ev *notifier.Event) error {
	conn, err := ConnectWith(url, cfg.NATS, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := engine.EnsureStreams(ctx, conn.JS, cfg.NATS.Replicas, engine.StreamOutages); err != nil {
		return err
	}
	if err := engine.PublishEvent(ctx, conn.JS, ev); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// ErrNoAnswer is returned by PublishAndAwait when no worker planned the
// event in time: it is published and will be planned when a worker runs.
var ErrNoAnswer = errors.New("no worker has planned the event yet")

// Planned is what the workers made of an outage event: the state of its
// outage after it and, for an approval, how many notices it released; or
// why it was refused.
type Planned struct {
	State    string
	Released int
	Refused  string
}

// PublishAndAwait publishes an outage event and waits up to wait for the
// workers' answer on the PLANS stream: the event handled, or refused with
// the reason. A worker that is not running gives ErrNoAnswer.
func PublishAndAwait(ctx context.Context, cfg *config.Config, url string, ev *notifier.Event, wait time.Duration) (Planned, error) {
	conn, err := ConnectWith(url, cfg.NATS, slog.New(slog.DiscardHandler))
	if err != nil {
		return Planned{}, err
	}
	defer conn.Close()
	if err := engine.EnsureStreams(ctx, conn.JS, cfg.NATS.Replicas, engine.StreamOutages, engine.StreamPlans); err != nil {
		return Planned{}, err
	}
	// Following from before the publication, so the answer cannot be missed.
	cons, err := conn.JS.OrderedConsumer(ctx, engine.StreamPlans, jetstream.OrderedConsumerConfig{
		// Refusals are recorded on plans._, as they may name no facility.
		FilterSubjects: []string{engine.SubjectPlans + "." + ev.Outage.Facility, engine.SubjectPlans + "._"},
		DeliverPolicy:  jetstream.DeliverNewPolicy})
	if err != nil {
		return Planned{}, err
	}
	it, err := cons.Messages()
	if err != nil {
		return Planned{}, err
	}
	defer it.Stop()
	ack, err := engine.PublishEventAck(ctx, conn.JS, ev)
	if err != nil {
		return Planned{}, fmt.Errorf("publish: %w", err)
	}
	answer := make(chan Planned, 1)
	go func() {
		for {
			m, err := it.Next()
			if err != nil {
				return
			}
			var r notifier.PlanRecord
			if json.Unmarshal(m.Data(), &r) != nil {
				continue
			}
			switch {
			case r.Event != nil && r.Event.Source == ev.Source && r.Event.ID == ev.ID:
				answer <- Planned{State: r.Event.State, Released: r.Event.Released}
				return
			case r.Reject != nil && r.Reject.Stream == engine.StreamOutages && r.Reject.Seq == ack.Sequence:
				answer <- Planned{Refused: r.Reject.Reason}
				return
			}
		}
	}()
	select {
	case p := <-answer:
		return p, nil
	case <-time.After(wait):
		return Planned{}, ErrNoAnswer
	case <-ctx.Done():
		return Planned{}, ctx.Err()
	}
}
