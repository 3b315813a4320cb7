package engine

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// AllowFastImport lets APPOINTMENTS take fast batches (nats-server 2.14 and
// later): an import then publishes its records with one acknowledgement
// every few hundred instead of one each, which halves the importing
// process's work per row. A stream created by an earlier version is
// updated; ok says whether the stream allows them now. A server that does
// not know fast batches keeps the stream as it was (ok false), and so does
// one that refuses the update; imports then publish row by row.
func AllowFastImport(ctx context.Context, js jetstream.JetStream) (ok bool, err error) {
	s, err := js.Stream(ctx, StreamAppointments)
	if err != nil {
		return false, fmt.Errorf("look up stream %s: %w", StreamAppointments, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return false, fmt.Errorf("stream %s: %w", StreamAppointments, err)
	}
	cfg := info.Config
	if cfg.AllowBatchPublish {
		return true, nil
	}
	cfg.AllowBatchPublish = true
	updated, err := js.UpdateStream(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("stream %s: allow fast batches: %w", StreamAppointments, err)
	}
	return updated.CachedInfo().Config.AllowBatchPublish, nil
}
