package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/postponement/notifier/config"
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
	text, err := readSecret(keyFile)
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
	if err := notifier.EnsureStreams(ctx, conn.JS, cfg.NATS.Replicas, notifier.StreamOutages); err != nil {
		return err
	}
	if err := notifier.PublishEvent(ctx, conn.JS, ev); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}
