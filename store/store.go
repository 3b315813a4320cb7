// Package store keeps the worker's SQLite file: the replica of appointments,
// accepted and rejected input, planned notices and the audit trail of their
// deliveries. It is a materialised view of the JetStream streams and can be
// deleted and rebuilt from them.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver

	"github.com/postponement/notifier/notifier" // the SQLite driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the worker's SQLite file: one writer connection, a pool of readers,
// WAL mode.
type DB struct {
	path string
	w    *sql.DB // the single writer
	r    *sql.DB // readers

	// Now is the clock; tests may replace it.
	Now func() time.Time
	// Migrating, when set, is told of each migration before Open applies
	// it to a store made by an earlier version (some rewrite a table and
	// take a while on a large store); a new store is not reported.
	Migrating func(name string)
}

// NewDB returns a DB for the file at path; call Open before use.
func NewDB(path string) *DB {
	return &DB{path: path, Now: time.Now}
}

// Path is the file's path.
func (db *DB) Path() string { return db.path }

// Open creates the file (owner-only) and its folder when missing, and
// migrates the schema.
func (db *DB) Open() error {
	if err := os.MkdirAll(filepath.Dir(db.path), 0o700); err != nil {
		return fmt.Errorf("create database folder: %w", err)
	}
	f, err := os.OpenFile(db.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database file: %w", err)
	}
	f.Close()
	dsn := "file:" + db.path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=on"
	if db.w, err = sql.Open("sqlite3", dsn+"&_txlock=immediate"); err != nil {
		return err
	}
	db.w.SetMaxOpenConns(1)
	// The one writer connection keeps these: a larger page cache for the
	// replica's B-trees, and a WAL that is cut back after a checkpoint
	// instead of staying at its largest.
	if _, err := db.w.Exec(`PRAGMA cache_size = -65536; PRAGMA journal_size_limit = 67108864; PRAGMA wal_autocheckpoint = 10000`); err != nil {
		db.w.Close()
		return fmt.Errorf("configure database: %w", err)
	}
	if db.r, err = sql.Open("sqlite3", dsn+"&mode=ro"); err != nil {
		return err
	}
	db.r.SetMaxOpenConns(4)
	if err := db.migrate(); err != nil {
		db.Close()
		return fmt.Errorf("migrate %s: %w", db.path, err)
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	var errs []error
	for _, c := range []*sql.DB{db.r, db.w} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// migrate applies the embedded migrations not yet applied, in name order,
// each in its own transaction.
func (db *DB) migrate() error {
	if _, err := db.w.Exec(`CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY) WITHOUT ROWID`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var applied int
	if err := db.w.QueryRow(`SELECT count(*) FROM migrations`).Scan(&applied); err != nil {
		return err
	}
	for _, name := range names {
		var n int
		if err := db.w.QueryRow(`SELECT count(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		if db.Migrating != nil && applied > 0 {
			db.Migrating(strings.TrimSuffix(path.Base(name), ".sql"))
		}
		tx, err := db.w.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := tx.Exec(`INSERT INTO migrations (name) VALUES (?)`, name); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Position is how far a materialised view has read a stream: the stream
// sequence of the last message applied.
func (db *DB) Position(ctx context.Context, stream string) (uint64, error) {
	var v string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, "position."+stream).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(v, 10, 64)
}

func setPosition(ctx context.Context, tx *sql.Tx, stream string, seq uint64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, "position."+stream, strconv.FormatUint(seq, 10))
	return err
}

// AddReject records refused input. Recording the same stream message twice
// keeps the first.
func (db *DB) AddReject(ctx context.Context, r notifier.Reject) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return addReject(ctx, tx, db.stamp(r.At), r) })
}

func addReject(ctx context.Context, tx *sql.Tx, at string, r notifier.Reject) error {
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO rejects (at, stream, subject, seq, reason) VALUES (?, ?, ?, ?, ?)`,
		at, r.Stream, r.Subject, r.Seq, r.Reason)
	return err
}

// Rejects lists refused input, oldest first.
func (db *DB) Rejects(ctx context.Context) ([]notifier.Reject, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT at, stream, subject, seq, reason FROM rejects ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notifier.Reject
	for rows.Next() {
		var r notifier.Reject
		var at string
		if err := rows.Scan(&at, &r.Stream, &r.Subject, &r.Seq, &r.Reason); err != nil {
			return nil, err
		}
		r.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// write runs fn in a transaction on the writer connection. A transaction
// takes milliseconds and is not cut short once begun: fn gets a context
// that cannot be cancelled, which also spares go-sqlite3 a goroutine per
// statement to watch it.
func (db *DB) write(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// stamp formats t, or the clock's now when t is zero.
func (db *DB) stamp(t time.Time) string {
	if t.IsZero() {
		t = db.Now()
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

var _ notifier.Store = (*DB)(nil)

// Probe writes and commits one row, to tell whether the store can still be
// written: a full disk, a file made read-only or a damaged first page fail
// here.
func (db *DB) Probe(ctx context.Context) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO probe (id, at_ms) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms`, db.Now().UnixMilli())
	return err
}
