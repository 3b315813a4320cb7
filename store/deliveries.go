package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// StreamDeliveries names the position of the audit view.
const StreamDeliveries = "DELIVERIES"

// ApplyDeliveries records outcomes and their attempts in one transaction
// and moves the audit view's position to the last one. A notice planned by
// another worker gets its row from the delivery itself.
func (db *DB) ApplyDeliveries(ctx context.Context, changes []notifier.DeliveryChange) error {
	if len(changes) == 0 {
		return nil
	}
	now := db.stamp(time.Time{})
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		st, err := prepareDeliveries(ctx, tx)
		if err != nil {
			return err
		}
		for _, c := range changes {
			if c.Reject != nil {
				if err := addReject(ctx, tx, now, *c.Reject); err != nil {
					return err
				}
				continue
			}
			if err := st.apply(ctx, c.Delivery); err != nil {
				return err
			}
		}
		return setPosition(ctx, tx, StreamDeliveries, changes[len(changes)-1].Seq)
	})
}

// deliveryStatements are the statements applying outcomes, prepared once
// per batch: SQLite need not parse them again for every outcome.
type deliveryStatements struct {
	notice *sql.Stmt
}

func prepareDeliveries(ctx context.Context, tx *sql.Tx) (*deliveryStatements, error) {
	var st deliveryStatements
	var err error
	if st.notice, err = tx.PrepareContext(ctx, `INSERT INTO notices
		(id, outage_id, facility, patient_id, kind, language, earliest_ms, appointment_ids, planned_at, outcome, channel, attempts, outcome_at, trail,
		 revision, confirmed_at, failed_after_accept, confirm_link)
		VALUES (?, ?, ?, ?, ?, '', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET outcome = excluded.outcome, channel = excluded.channel,
		 attempts = excluded.attempts, outcome_at = excluded.outcome_at, trail = excluded.trail,
		 revision = excluded.revision, confirmed_at = excluded.confirmed_at, failed_after_accept = excluded.failed_after_accept,
		 confirm_link = excluded.confirm_link
		WHERE excluded.revision >= notices.revision`); err != nil {
		return nil, err
	}
	return &st, nil
}

func (st *deliveryStatements) apply(ctx context.Context, d *notifier.Delivery) error {
	ids, err := json.Marshal(d.AppointmentIDs)
	if err != nil {
		return err
	}
	trail := []byte("[]")
	if len(d.Trail) > 0 {
		if trail, err = json.Marshal(d.Trail); err != nil {
			return err
		}
	}
	at := d.At.UTC().Format(time.RFC3339Nano)
	var confirmed any
	if t := d.ConfirmedAt(); !t.IsZero() {
		confirmed = t.UTC().Format(time.RFC3339Nano)
	}
	_, err = st.notice.ExecContext(ctx, d.NoticeID, d.OutageID, d.Facility, d.PatientID, d.Kind, string(ids), at,
		d.Outcome, d.Channel, d.Attempts, at, string(trail), max(d.Revision, 1), confirmed, d.FailedAfterAcceptance(), d.CarriesLink())
	return err
}

// Summary counts an outage's notices by outcome and channel.
type Summary struct {
	Planned int
	// Appointments counts the appointments the notices cover.
	Appointments int
	Delivered    int
	Manual       int
	Pending      int
	// ByChannel counts delivered notices per channel.
	ByChannel map[string]int
	// Confirmed counts the notices whose patient confirmed reading them
	// (reached); FailedAfterAccept those a channel accepted and then
	// reported failed (a bounce, a failed SMS), whatever became of them.
	Confirmed         int
	FailedAfterAccept int
	// SoonestUnreached is the soonest appointment of a patient not yet
	// reached, that is who has neither confirmed reading the notice nor
	// been reached by staff on the phone (zero when there is none): the
	// patient most at risk of coming in.
	SoonestUnreached time.Time
}

// Summarize counts the notices of an outage.
func (db *DB) Summarize(ctx context.Context, outageID string) (Summary, error) {
	s := Summary{ByChannel: map[string]int{}}
	rows, err := db.r.QueryContext(ctx, `SELECT coalesce(outcome, ''), coalesce(channel, ''), count(*),
		coalesce(sum(json_array_length(appointment_ids)), 0), count(confirmed_at), sum(failed_after_accept),
		min(CASE WHEN confirmed_at IS NULL AND earliest_ms > 0 AND coalesce(outcome, '') != 'manual' THEN earliest_ms END)
		FROM notices WHERE outage_id = ? GROUP BY 1, 2`, outageID)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var outcome, channel string
		var n, appointments, confirmed, failed int
		var soonest sql.NullInt64
		if err := rows.Scan(&outcome, &channel, &n, &appointments, &confirmed, &failed, &soonest); err != nil {
			return s, err
		}
		s.Confirmed += confirmed
		s.FailedAfterAccept += failed
		if soonest.Valid {
			s.SoonestUnreached = earliest(s.SoonestUnreached, time.UnixMilli(soonest.Int64).UTC())
		}
		s.Planned += n
		s.Appointments += appointments
		switch outcome {
		case notifier.OutcomeDelivered:
			s.Delivered += n
			s.ByChannel[channel] += n
		case notifier.OutcomeManual:
			s.Manual += n
		default:
			s.Pending += n
		}
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	manual, err := db.earliestUnreachedManual(ctx, outageID)
	s.SoonestUnreached = earliest(s.SoonestUnreached, manual)
	return s, err
}

// ManualNotice is a notice no channel delivered: staff must phone the
// patient.
type ManualNotice struct {
	NoticeID       string
	PatientID      string
	AppointmentIDs []string
	Earliest       time.Time
	Trail          []notifier.Attempt
}

// ManualNotices lists an outage's manual notices, soonest appointment first.
func (db *DB) ManualNotices(ctx context.Context, outageID string) ([]ManualNotice, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, patient_id, appointment_ids, earliest_ms, trail FROM notices
		WHERE outage_id = ? AND outcome = ? ORDER BY earliest_ms, patient_id`, outageID, notifier.OutcomeManual)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ManualNotice
	for rows.Next() {
		var m ManualNotice
		var ids, trail string
		var earliest int64
		if err := rows.Scan(&m.NoticeID, &m.PatientID, &ids, &earliest, &trail); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(ids), &m.AppointmentIDs)
		m.Earliest = time.UnixMilli(earliest).UTC()
		if m.Trail, err = decodeTrail(trail); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Trail returns the attempts recorded for a notice, in order.
func (db *DB) Trail(ctx context.Context, noticeID string) ([]notifier.Attempt, error) {
	var trail string
	err := db.r.QueryRowContext(ctx, `SELECT trail FROM notices WHERE id = ?`, noticeID).Scan(&trail)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeTrail(trail)
}

// decodeTrail reads the trail column.
func decodeTrail(trail string) ([]notifier.Attempt, error) {
	var out []notifier.Attempt
	if err := json.Unmarshal([]byte(trail), &out); err != nil {
		return nil, fmt.Errorf("a notice's trail of attempts: %w", err)
	}
	return out, nil
}

// NoticeIDsWithPrefix lists the ids of the notices whose id starts with
// prefix, at most 64: how a compact confirmation token's notice is found.
func (db *DB) NoticeIDsWithPrefix(ctx context.Context, prefix string) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id FROM notices WHERE id >= ? AND id < ? ORDER BY id LIMIT 64`,
		prefix, prefix+"\U0010FFFF")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if strings.HasPrefix(id, prefix) {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// NoticeOutcome returns a notice as planned and its outcome so far (nil
// while it has none); ok is false for a notice unknown to this store.
func (db *DB) NoticeOutcome(ctx context.Context, id string) (p notifier.PlannedNotice, d *notifier.Delivery, ok bool, err error) {
	var ids, plannedAt string
	var outcome, channel, outcomeAt, trail sql.NullString
	var attempts, revision int
	err = db.r.QueryRowContext(ctx, `SELECT id, outage_id, facility, patient_id, kind, language, appointment_ids, planned_at, event_key,
		outcome, channel, attempts, outcome_at, trail, revision FROM notices WHERE id = ?`, id).Scan(
		&p.ID, &p.OutageID, &p.Facility, &p.PatientID, &p.Kind, &p.Language, &ids, &plannedAt, &p.EventKey,
		&outcome, &channel, &attempts, &outcomeAt, &trail, &revision)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil, false, nil
	}
	if err != nil {
		return p, nil, false, err
	}
	if err := json.Unmarshal([]byte(ids), &p.AppointmentIDs); err != nil {
		return p, nil, false, fmt.Errorf("notice %s: appointment ids: %w", id, err)
	}
	p.PlannedAt, _ = time.Parse(time.RFC3339Nano, plannedAt)
	if !outcome.Valid || outcome.String == "" {
		return p, nil, true, nil
	}
	d = &notifier.Delivery{NoticeID: p.ID, OutageID: p.OutageID, Facility: p.Facility, PatientID: p.PatientID,
		AppointmentIDs: p.AppointmentIDs, Kind: p.Kind, Outcome: outcome.String, Channel: channel.String, Attempts: attempts,
		Revision: max(revision, 1)}
	d.At, _ = time.Parse(time.RFC3339Nano, outcomeAt.String)
	if trail.Valid && trail.String != "" {
		if d.Trail, err = decodeTrail(trail.String); err != nil {
			return p, nil, false, err
		}
	}
	return p, d, true, nil
}

// HasOutcome reports whether notice id has an outcome.
func (db *DB) HasOutcome(ctx context.Context, id string) (bool, error) {
	var has bool
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(outcome, '') != '' FROM notices WHERE id = ?`, id).Scan(&has)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return has, err
}

// Unconfirmed lists the delivered notices of kinds postponed and cancelled
// that carried a confirmation link their patient has not used, of outages
// not resolved, whose earliest appointment is after now. A notice that
// reached its patient only by an SMS without room for the link is not
// among them: the patient had nothing to confirm with.
func (db *DB) Unconfirmed(ctx context.Context, now time.Time) ([]notifier.UnconfirmedNotice, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT n.id, n.facility, n.earliest_ms, n.outcome_at FROM notices n
		JOIN outages o ON o.outage_id = n.outage_id
		WHERE n.outcome = ? AND n.confirmed_at IS NULL AND n.confirm_link AND n.earliest_ms > ? AND n.kind IN (?, ?) AND o.state != ?`,
		notifier.OutcomeDelivered, now.UnixMilli(), notifier.KindPostponed, notifier.KindCancelled, notifier.OutageResolved)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notifier.UnconfirmedNotice
	for rows.Next() {
		var u notifier.UnconfirmedNotice
		var earliest int64
		var at string
		if err := rows.Scan(&u.ID, &u.Facility, &earliest, &at); err != nil {
			return nil, err
		}
		u.Earliest = time.UnixMilli(earliest).UTC()
		if u.DeliveredAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("notice %s: outcome time %q: %w", u.ID, at, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
