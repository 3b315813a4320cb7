package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/postponement/notifier/config"
)

// readinessCache is how long one readiness check's answer is reused: every
// check writes to the store and to each folder, and a probe that asks
// often should not make the worker write often.
const readinessCache = time.Second

// readiness tells whether the worker can do its job: its loops run, NATS
// is connected, the store has caught up with the streams and can be
// written, planning and the store's views are not failing, and the folders
// that channels write into (Maildir, call lists) can be written.
type readiness struct {
	w    *Worker
	conn *Conn
	dirs []probeDir

	mu   sync.Mutex
	at   time.Time
	last error
}

// probeDir is a folder the worker must be able to write, and what it is.
type probeDir struct{ what, path string }

func newReadiness(cfg *config.Config, w *Worker, conn *Conn) *readiness {
	dirs := []probeDir{{"the data folder", cfg.DataDir}}
	for _, ch := range cfg.Channels {
		if ch.Type == config.TypeMaildir {
			dirs = append(dirs, probeDir{"channel " + ch.Name + "'s Maildir", filepath.Join(ch.Path, "tmp")})
		}
	}
	dirs = append(dirs, probeDir{"the call-list folder", cfg.CallListDir()})
	return &readiness{w: w, conn: conn, dirs: dirs}
}

func (r *readiness) check(ctx context.Context) error {
	select {
	case <-r.w.Ready():
	default:
		return errors.New("the worker is starting")
	}
	if !r.conn.NC.IsConnected() {
		return fmt.Errorf("NATS: %s", r.conn.NC.Status())
	}
	if !r.w.CaughtUp() {
		return errors.New("the store is catching up with the streams")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.at) < readinessCache {
		return r.last
	}
	errs := r.w.Troubles()
	if err := r.w.DB.Probe(ctx); err != nil {
		errs = append(errs, fmt.Errorf("the store cannot be written: %w", err))
	}
	for _, d := range r.dirs {
		if err := writable(d.path); err != nil {
			errs = append(errs, fmt.Errorf("%s cannot be written: %w", d.what, err))
		}
	}
	r.at, r.last = time.Now(), errors.Join(errs...)
	return r.last
}

// writable creates, fills, syncs and removes a small file in dir (creating
// dir when missing, as the channels do): a full disk or a folder made
// read-only fails here.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".ready-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, 4096))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(dir), err)
	}
	return nil
}
