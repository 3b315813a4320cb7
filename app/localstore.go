package app

import (
	"path/filepath"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/store"
)

// OpenLocalStore opens the SQLite file under the configured data folder for
// reading only, for commands that look at this worker's replica and audit
// trail without NATS, possibly while the worker runs.
func OpenLocalStore(cfg *config.Config) (*store.DB, error) {
	return store.OpenReadOnly(filepath.Join(cfg.DataDir, "notifier.db"))
}
