package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
)

// ApplyPlans records what the planners decided, in one transaction, and
// moves the position of the PLANS view: planned notices (an outcome already
// recorded is kept), handled events with their outage's data and state, and
// refused events.
func (db *DB) ApplyPlans(ctx context.Context, changes []notifier.PlanChange) error {
	if len(changes) == 0 {
		return nil
	}
	now := db.stamp(time.Time{})
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		planned, err := tx.PrepareContext(ctx, addPlannedSQL)
		if err != nil {
			return err
		}
		for _, c := range changes {
			r := c.Record
			for _, n := range r.Notices {
				if err := addPlanned(ctx, planned, n); err != nil {
					return err
				}
			}
			switch {
			case r.Notice != nil:
				if err := addPlanned(ctx, planned, r.Notice); err != nil {
					return err
				}
			case r.Event != nil:
				if err := addHandled(ctx, tx, now, r.Event); err != nil {
					return err
				}
			case r.Reject != nil:
				rj := *r.Reject
				if rj.Seq == 0 {
					// Input refused outside the streams (an HL7 message, a
					// FHIR resource) has no sequence of its own: its record's
					// in PLANS tells one refusal from the next.
					rj.Seq = c.Seq
				}
				if err := addReject(ctx, tx, now, rj); err != nil {
					return err
				}
			}
		}
		return setPosition(ctx, tx, engine.StreamPlans, changes[len(changes)-1].Seq)
	})
}

// addPlannedSQL records a planned notice. A notice whose outcome arrived
// first (from another worker's delivery) gets the planning details it
// lacked.
const addPlannedSQL = `INSERT INTO notices
	(id, outage_id, facility, patient_id, kind, language, earliest_ms, appointment_ids, planned_at, event_key)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET language = excluded.language, earliest_ms = excluded.earliest_ms,
	 planned_at = excluded.planned_at, event_key = excluded.event_key
	WHERE notices.event_key = ''`

func addPlanned(ctx context.Context, stmt *sql.Stmt, n *notifier.PlannedNotice) error {
	ids, err := json.Marshal(n.AppointmentIDs)
	if err != nil {
		return err
	}
	_, err = stmt.ExecContext(ctx,
		n.ID, n.OutageID, n.Facility, n.PatientID, n.Kind, n.Language, n.Earliest.UnixMilli(), string(ids),
		n.PlannedAt.UTC().Format(time.RFC3339Nano), n.EventKey)
	return err
}

func addHandled(ctx context.Context, tx *sql.Tx, now string, e *notifier.HandledEvent) error {
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO events (source, id, type, outage_id, facility, received_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.Source, e.ID, e.Type, e.Outage.OutageID, e.Outage.Facility, now, string(e.Data)); err != nil {
		return err
	}
	data, err := json.Marshal(e.Outage)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outages (outage_id, facility, state, data, declared_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (outage_id) DO UPDATE SET state = excluded.state, data = excluded.data, updated_at = excluded.updated_at`,
		e.Outage.OutageID, e.Outage.Facility, e.State, string(data), now, now)
	return err
}
