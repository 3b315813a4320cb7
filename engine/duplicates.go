package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// WidenDuplicateWindows gives the named streams (all when names is empty)
// that exist with a shorter duplicate window than this version configures
// the configured one. EnsureStreams leaves an existing stream as it is, and
// APPOINTMENTS and PATIENTS created by an earlier version keep NATS's
// default of two minutes: an interface engine's resend after a lost
// acknowledgement, hours later, would be stored twice. A longer window set
// by an operator is kept; a stream with a MaxAge gets at most that.
func WidenDuplicateWindows(ctx context.Context, js jetstream.JetStream, names ...string) error {
	for _, want := range streamConfigs(0) {
		if len(names) > 0 && !slices.Contains(names, want.Name) || want.Duplicates == 0 {
			continue
		}
		s, err := js.Stream(ctx, want.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("look up stream %s: %w", want.Name, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			return fmt.Errorf("stream %s: %w", want.Name, err)
		}
		cfg := info.Config
		window := want.Duplicates
		if cfg.MaxAge > 0 && cfg.MaxAge < window {
			window = cfg.MaxAge
		}
		if cfg.Duplicates >= window {
			continue
		}
		cfg.Duplicates = window
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("stream %s: set the duplicate window to %s: %w", want.Name, window, err)
		}
	}
	return nil
}
