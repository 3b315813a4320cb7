package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/postponement/notifier/notifier"
)

// AddEvent records an accepted outage event and reports whether it is new:
// an event is unique by its CloudEvents source and id.
func (db *DB) AddEvent(ctx context.Context, ev *notifier.Event) (bool, error) {
	var added bool
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO events (source, id, type, outage_id, facility, received_at, data)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, ev.Source, ev.ID, ev.Type, ev.Outage.OutageID, ev.Outage.Facility,
			db.stamp(time.Time{}), string(ev.Data))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		added = n == 1
		return err
	})
	return added, err
}

// PutOutage records an outage's latest data and state.
func (db *DB) PutOutage(ctx context.Context, o *notifier.Outage, state string) error {
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	now := db.stamp(time.Time{})
	return db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO outages (outage_id, facility, state, data, declared_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (outage_id) DO UPDATE SET state = excluded.state, data = excluded.data, updated_at = excluded.updated_at`,
			o.OutageID, o.Facility, state, string(data), now, now)
		return err
	})
}

// Outage returns an outage's latest data and state; ok is false when unknown.
func (db *DB) Outage(ctx context.Context, id string) (o notifier.Outage, state string, ok bool, err error) {
	var data string
	err = db.r.QueryRowContext(ctx, `SELECT data, state FROM outages WHERE outage_id = ?`, id).Scan(&data, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return o, "", false, nil
	}
	if err != nil {
		return o, "", false, err
	}
	return o, state, true, json.Unmarshal([]byte(data), &o)
}

// AddNotices records planned notices. A notice already recorded keeps its
// row; done reports, per notice, whether it already has an outcome, so a
// re-declared outage does not send it again.
func (db *DB) AddNotices(ctx context.Context, notices []*notifier.Notice) (done []bool, err error) {
	done = make([]bool, len(notices))
	err = db.write(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO notices
			(id, outage_id, facility, patient_id, kind, language, earliest_ms, appointment_ids, planned_at, event_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET id = id
			RETURNING outcome IS NOT NULL`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for i, n := range notices {
			ids, _ := json.Marshal(n.AppointmentIDs())
			if err := ins.QueryRowContext(ctx, n.ID, n.OutageID, n.Facility, n.Patient.ID, n.Kind, n.Language,
				n.Earliest().UnixMilli(), string(ids), db.stamp(n.PlannedAt), n.EventKey).Scan(&done[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return done, err
}

// NoticeDone reports whether a notice already has an outcome.
func (db *DB) NoticeDone(ctx context.Context, id string) (bool, error) {
	var done bool
	err := db.r.QueryRowContext(ctx, `SELECT outcome IS NOT NULL FROM notices WHERE id = ?`, id).Scan(&done)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return done, err
}

// HasEvent reports whether an event with this CloudEvents source and id has
// been recorded.
func (db *DB) HasEvent(ctx context.Context, source, id string) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE source = ? AND id = ?`, source, id).Scan(&n)
	return n > 0, err
}

// OutageNotices lists the notices planned for an outage, in the order they
// were planned.
func (db *DB) OutageNotices(ctx context.Context, outageID string) ([]notifier.PlannedNotice, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, kind, patient_id, appointment_ids, event_key
		FROM notices WHERE outage_id = ? ORDER BY planned_at, id`, outageID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notifier.PlannedNotice
	for rows.Next() {
		var n notifier.PlannedNotice
		var ids string
		if err := rows.Scan(&n.ID, &n.Kind, &n.PatientID, &ids, &n.EventKey); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(ids), &n.AppointmentIDs); err != nil {
			return nil, fmt.Errorf("notice %s: appointment ids: %w", n.ID, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
