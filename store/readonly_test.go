package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()

	t.Run("no file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "notifier.db")
		_, err := OpenReadOnly(path)
		if !errors.Is(err, ErrNoDatabase) {
			t.Errorf("got %v, want ErrNoDatabase", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the file was created: %v", err)
		}
	})

	t.Run("not migrated", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "notifier.db")
		raw, err := sql.Open("sqlite3", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`CREATE TABLE migrations (name TEXT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		if db, err := OpenReadOnly(path); err == nil {
			db.Close()
			t.Error("a database without the schema was opened")
		}
	})

	t.Run("reads, while a writer has it open, and never writes", func(t *testing.T) {
		w := openDB(t)
		a := &notifier.Appointment{ID: "A-1", Facility: "ukd", Status: "booked", Start: time.Date(2020, 9, 14, 8, 0, 0, 0, time.UTC),
			Patient: notifier.Patient{ID: "P-1"}}
		if err := w.ApplyAppointments(ctx, []notifier.AppointmentChange{{Seq: 1, Appointment: a}}); err != nil {
			t.Fatal(err)
		}
		db, err := OpenReadOnly(w.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if n, err := db.CountAppointments(ctx, "ukd"); err != nil || n != 1 {
			t.Errorf("CountAppointments = %d, %v; want 1", n, err)
		}
		if err := db.AddReject(ctx, notifier.Reject{Stream: "S", Subject: "s", Seq: 1, Reason: "r"}); err == nil {
			t.Error("a write through the read-only database succeeded")
		}
	})

	t.Run("a closed database, WAL files gone", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "notifier.db")
		w := NewDB(path)
		if err := w.Open(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		db, err := OpenReadOnly(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Outages(ctx); err != nil {
			t.Error(err)
		}
	})
}
