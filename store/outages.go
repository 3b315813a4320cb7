package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/postponement/notifier/notifier"
)

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

// HasEvent reports whether an event of this facility with this CloudEvents
// source and id has been recorded.
func (db *DB) HasEvent(ctx context.Context, facility, source, id string) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE facility = ? AND source = ? AND id = ?`,
		facility, source, id).Scan(&n)
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
