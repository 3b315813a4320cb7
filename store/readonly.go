package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// ErrNoDatabase is returned by OpenReadOnly when there is no database file:
// no worker has run with this data folder yet.
var ErrNoDatabase = errors.New("no database")

// OpenReadOnly opens an existing database file for reading only, for
// commands that look at a worker's replica and audit trail, possibly while
// the worker runs. It creates nothing and migrates nothing: a file that a
// worker of this version has not migrated yet is refused, as its queries
// would fail half-way. Every write on the returned DB fails.
func OpenReadOnly(path string) (*DB, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: run `notifier run` with this data_dir first", ErrNoDatabase, path)
	} else if err != nil {
		return nil, err
	}
	r, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000&_query_only=true")
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(4)
	// The writer is the read-only pool too, so that a write reports SQLite's
	// "readonly database" error instead of dereferencing nothing.
	db := &DB{path: path, r: r, w: r, Now: time.Now}
	if err := db.checkMigrated(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// checkMigrated reports an error unless every embedded migration has been
// applied to the file.
func (db *DB) checkMigrated() error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	var applied int
	err = db.r.QueryRow(`SELECT count(*) FROM migrations`).Scan(&applied)
	if err != nil {
		return fmt.Errorf("not a notifier database: %w", err)
	}
	if applied < len(names) {
		return fmt.Errorf("the database has %d of %d schema migrations: start `notifier run` of this version once to migrate it", applied, len(names))
	}
	return nil
}
