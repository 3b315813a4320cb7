package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
)

// CallCounts are an outage's call list rows by status.
type CallCounts = notifier.CallCounts

// ApplyCalls records call events in one transaction and moves the CALLS
// view's position to the last one. An event already recorded (its id) is
// skipped, and a row keeps the state of its latest event, so the same
// event twice counts once.
func (db *DB) ApplyCalls(ctx context.Context, changes []notifier.CallChange) error {
	if len(changes) == 0 {
		return nil
	}
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, c := range changes {
			if c.Event == nil {
				continue
			}
			if err := applyCall(ctx, tx, c.Seq, c.Event); err != nil {
				return fmt.Errorf("call event %s: %w", c.Event.ID, err)
			}
		}
		return setPosition(ctx, tx, engine.StreamCalls, changes[len(changes)-1].Seq)
	})
}

func applyCall(ctx context.Context, tx *sql.Tx, seq uint64, ev *notifier.CallEvent) error {
	res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO call_events (id, seq, notice_id, outage_id, action, outcome, by_name, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.ID, seq, ev.NoticeID, ev.OutageID, ev.Action, ev.Outcome, ev.By, ev.At.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	state, err := json.Marshal(ev.State)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO calls (notice_id, outage_id, seq, state) VALUES (?, ?, ?, ?)
		ON CONFLICT (notice_id) DO UPDATE SET outage_id = excluded.outage_id, seq = excluded.seq, state = excluded.state
		WHERE excluded.seq > calls.seq`, ev.NoticeID, ev.OutageID, seq, string(state))
	return err
}

// CallRecord is one thing staff did to a call list row, as the audit has
// it: a claim, a release or an outcome, who (the name they typed) and when.
type CallRecord struct {
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Action  string    `json:"action"`
	Outcome string    `json:"outcome,omitempty"`
}

// CallHistory is what staff did to the outage's call list rows, by notice
// id, oldest first.
func (db *DB) CallHistory(ctx context.Context, outageID string) (map[string][]CallRecord, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT notice_id, action, outcome, by_name, at FROM call_events
		WHERE outage_id = ? ORDER BY seq`, outageID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]CallRecord{}
	for rows.Next() {
		var id, at string
		var r CallRecord
		if err := rows.Scan(&id, &r.Action, &r.Outcome, &r.By, &at); err != nil {
			return nil, err
		}
		if r.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("call event of notice %s: time %q: %w", id, at, err)
		}
		out[id] = append(out[id], r)
	}
	return out, rows.Err()
}

// CallCounts counts the outage's call list rows (its manual notices) by
// status now, as the call list page heads them.
func (db *DB) CallCounts(ctx context.Context, outageID string) (CallCounts, error) {
	var c CallCounts
	now := db.Now()
	err := db.eachManual(ctx, outageID, func(_, _ string, s notifier.CallState, _ uint64) error {
		c.Add(s.Status(now), s.Attempts)
		return nil
	})
	return c, err
}

// eachManual calls fn with every manual notice of the outage: its id, its
// trail as stored, where its call list row stands and the CALLS sequence
// of the row's latest event (0 before any).
func (db *DB) eachManual(ctx context.Context, outageID string, fn func(id, trail string, s notifier.CallState, seq uint64) error) error {
	rows, err := db.r.QueryContext(ctx, `SELECT n.id, n.trail, coalesce(c.state, ''), coalesce(c.seq, 0)
		FROM notices n LEFT JOIN calls c ON c.notice_id = n.id
		WHERE n.outage_id = ? AND n.outcome = ?`, outageID, notifier.OutcomeManual)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, trail, state string
		var seq uint64
		if err := rows.Scan(&id, &trail, &state, &seq); err != nil {
			return err
		}
		var s notifier.CallState
		if state != "" {
			if err := json.Unmarshal([]byte(state), &s); err != nil {
				return fmt.Errorf("call state of notice %s: %w", id, err)
			}
		}
		if err := fn(id, trail, s, seq); err != nil {
			return err
		}
	}
	return rows.Err()
}
