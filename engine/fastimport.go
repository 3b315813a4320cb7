package engine

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// SetFastImport lets APPOINTMENTS take fast batches, or stops it (nats-server
// 2.14 and later): an import publishes its records as one, with an
// acknowledgement every few hundred instead of one each, which halves the
// importing process's work per row. Such a stream needs that version on
// every node that holds it, so a cluster upgraded node by node can keep it
// off until all are. ok says whether the stream takes fast batches now: a
// server that does not know them keeps the stream as it was.
func SetFastImport(ctx context.Context, js jetstream.JetStream, on bool) (ok bool, err error) {
	cfg, err := appointmentsConfig(ctx, js)
	if err != nil || cfg.AllowBatchPublish == on {
		return cfg.AllowBatchPublish, err
	}
	cfg.AllowBatchPublish = on
	updated, err := js.UpdateStream(ctx, cfg)
	if err != nil {
		return !on, fmt.Errorf("stream %s: set fast batches %t: %w", StreamAppointments, on, err)
	}
	return updated.CachedInfo().Config.AllowBatchPublish, nil
}

// FastImport reports whether APPOINTMENTS takes fast batches.
func FastImport(ctx context.Context, js jetstream.JetStream) (bool, error) {
	cfg, err := appointmentsConfig(ctx, js)
	return cfg.AllowBatchPublish, err
}

// appointmentsConfig is the APPOINTMENTS stream's configuration as the
// server has it.
func appointmentsConfig(ctx context.Context, js jetstream.JetStream) (jetstream.StreamConfig, error) {
	s, err := js.Stream(ctx, StreamAppointments)
	if err != nil {
		return jetstream.StreamConfig{}, fmt.Errorf("look up stream %s: %w", StreamAppointments, err)
	}
	return s.CachedInfo().Config, nil
}
