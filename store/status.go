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

// OutageStatus is how far an outage has got: what it covers, and how many
// of its notices reached patients, went to the call list or still wait.
type OutageStatus struct {
	// Outage is the outage's latest data, as its last event gave it.
	Outage notifier.Outage
	// State is declared, updated or resolved, or StatePlanning while the
	// outage's first event is being planned: then only the outage's id and
	// facility and its notices so far are known.
	State      string
	DeclaredAt time.Time
	UpdatedAt  time.Time

	// Planned counts the outage's notices: each ends Delivered or Manual,
	// and is Pending until then.
	Planned, Delivered, Manual, Pending int
	// ByChannel counts delivered notices per channel.
	ByChannel map[string]int
	// ByKind counts the notices planned per kind (postponed, cancelled,
	// reinstated, resumed).
	ByKind map[string]int

	// FirstOutcome and LastOutcome bound the outcomes recorded so far; both
	// are zero before the first.
	FirstOutcome, LastOutcome time.Time
	// Recent counts the outcomes recorded at or after the since given to
	// the query: with it a caller works out the current pace.
	Recent int

	// EarliestPending is the start of the soonest appointment whose notice
	// has no outcome yet: the next patient at risk of turning up. Zero when
	// nothing is pending.
	EarliestPending time.Time
	// EarliestManual is the start of the soonest appointment on the call
	// list: the first patient staff must phone. Zero when the list is empty.
	EarliestManual time.Time

	// Confirmed counts the notices whose patient confirmed reading them
	// (reached); FailedAfterAccept those a channel accepted and then
	// reported failed (a bounce, a failed SMS), wherever they went next.
	Confirmed, FailedAfterAccept int
	// EarliestUnreached is the start of the soonest appointment of a
	// patient not yet reached (who has neither confirmed nor been reached
	// by staff on the phone): zero when everyone has.
	EarliestUnreached time.Time
	// Calls counts the call list's rows by where staff stand with them.
	Calls CallCounts
}

// StatePlanning is the state of an outage whose first event is still being
// planned: its notices are arriving, its data is recorded once planning
// completes.
const StatePlanning = "planning"

// OutageStatuses reports every outage known: those being planned first,
// then those not resolved, each the most recently declared first. Outcomes
// recorded at or after since are counted in Recent.
func (db *DB) OutageStatuses(ctx context.Context, since time.Time) ([]OutageStatus, error) {
	out, err := db.planningOutages(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+outageStatusColumns+` FROM outages
		ORDER BY state = ?, declared_at DESC, outage_id`, notifier.OutageResolved)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		s, err := scanOutageStatus(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := db.countNotices(ctx, &out[i], since); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// OutageStatus reports one outage; ok is false when it is unknown.
func (db *DB) OutageStatus(ctx context.Context, outageID string, since time.Time) (s OutageStatus, ok bool, err error) {
	s, err = scanOutageStatus(db.r.QueryRowContext(ctx, `SELECT `+outageStatusColumns+` FROM outages WHERE outage_id = ?`, outageID))
	if errors.Is(err, sql.ErrNoRows) {
		err = db.r.QueryRowContext(ctx, `SELECT facility FROM notices WHERE outage_id = ? LIMIT 1`, outageID).Scan(&s.Outage.Facility)
		s.Outage.OutageID, s.State = outageID, StatePlanning
	}
	if errors.Is(err, sql.ErrNoRows) {
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	return s, true, db.countNotices(ctx, &s, since)
}

// planningQuery lists the outage ids and facilities of notices whose
// outage is not recorded.
const planningQuery = `WITH RECURSIVE ids (id) AS (
		SELECT min(outage_id) FROM notices
		UNION ALL
		SELECT (SELECT min(outage_id) FROM notices WHERE outage_id > ids.id) FROM ids WHERE ids.id IS NOT NULL)
	SELECT id, (SELECT facility FROM notices WHERE outage_id = ids.id LIMIT 1) FROM ids
	WHERE id IS NOT NULL AND id NOT IN (SELECT outage_id FROM outages)`

// planningOutages lists the outages that have notices but no recorded
// event yet. It visits each outage id of the notices index once (a skip
// scan), not every notice, and yields them in id order.
func (db *DB) planningOutages(ctx context.Context) ([]OutageStatus, error) {
	rows, err := db.r.QueryContext(ctx, planningQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutageStatus
	for rows.Next() {
		s := OutageStatus{State: StatePlanning}
		if err := rows.Scan(&s.Outage.OutageID, &s.Outage.Facility); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// outageStatusColumns are the columns scanOutageStatus reads, in order.
const outageStatusColumns = `outage_id, state, data, declared_at, updated_at`

func scanOutageStatus(row interface{ Scan(...any) error }) (OutageStatus, error) {
	var s OutageStatus
	var id, data, declared, updated string
	if err := row.Scan(&id, &s.State, &data, &declared, &updated); err != nil {
		return s, err
	}
	if err := json.Unmarshal([]byte(data), &s.Outage); err != nil {
		return s, fmt.Errorf("outage %s: stored data: %w", id, err)
	}
	s.Outage.OutageID = id
	s.DeclaredAt = parseStamp(declared)
	s.UpdatedAt = parseStamp(updated)
	return s, nil
}

// countNotices fills in the counts of s. Both queries read an index of
// migration 0003 alone, so they stay fast with a hundred thousand notices.
func (db *DB) countNotices(ctx context.Context, s *OutageStatus, since time.Time) error {
	if err := db.countOutcomes(ctx, s); err != nil {
		return err
	}
	manual, err := db.earliestUnreachedManual(ctx, s.Outage.OutageID)
	if err != nil {
		return err
	}
	s.EarliestUnreached = earliest(s.EarliestUnreached, manual)
	if s.Manual > 0 {
		if s.Calls, err = db.CallCounts(ctx, s.Outage.OutageID); err != nil {
			return err
		}
	}
	return db.outcomeTimes(ctx, s, since)
}

// countOutcomesQuery groups an outage's notices; its one parameter is the
// outage id.
const countOutcomesQuery = `SELECT outcome, channel, kind, count(*),
	coalesce(min(CASE WHEN earliest_ms > 0 THEN earliest_ms END), 0),
	count(confirmed_at), coalesce(sum(failed_after_accept), 0),
	coalesce(min(CASE WHEN earliest_ms > 0 AND confirmed_at IS NULL AND coalesce(outcome, '') != 'manual' THEN earliest_ms END), 0)
	FROM notices WHERE outage_id = ?1 GROUP BY outcome, channel, kind`

// earliestUnreachedManualQuery finds the soonest appointment on the call
// list of a patient neither confirmed nor reached by phone; its parameter
// is the outage id.
const earliestUnreachedManualQuery = `SELECT coalesce(min(n.earliest_ms), 0)
	FROM notices n LEFT JOIN calls c ON c.notice_id = n.id
	WHERE n.outage_id = ? AND n.outcome = 'manual' AND n.confirmed_at IS NULL AND n.earliest_ms > 0
	AND coalesce(json_extract(c.state, '$.final'), '') != 'reached'`

// earliestUnreachedManual is the start of the soonest appointment on the
// outage's call list of a patient not reached, or zero.
func (db *DB) earliestUnreachedManual(ctx context.Context, outageID string) (time.Time, error) {
	var ms int64
	if err := db.r.QueryRowContext(ctx, earliestUnreachedManualQuery, outageID).Scan(&ms); err != nil || ms == 0 {
		return time.Time{}, err
	}
	return time.UnixMilli(ms).UTC(), nil
}

// outcomeTimesQuery bounds an outage's outcomes and counts the recent ones;
// its parameters are the outage id and the start of "recent".
const outcomeTimesQuery = `SELECT
	coalesce((SELECT min(outcome_at) FROM notices WHERE outage_id = ?1 AND outcome_at IS NOT NULL), ''),
	coalesce((SELECT max(outcome_at) FROM notices WHERE outage_id = ?1), ''),
	(SELECT count(*) FROM notices WHERE outage_id = ?1 AND outcome_at >= ?2)`

// countOutcomes counts notices by outcome, channel and kind, and finds the
// soonest appointment of the pending and the manual ones. A notice recorded
// from another worker's delivery may have no appointment time (earliest_ms
// is 0); it is left out of the soonest.
func (db *DB) countOutcomes(ctx context.Context, s *OutageStatus) error {
	s.ByChannel, s.ByKind = map[string]int{}, map[string]int{}
	rows, err := db.r.QueryContext(ctx, countOutcomesQuery, s.Outage.OutageID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			outcome, channel sql.NullString
			kind             string
			n, confirmed     int
			failed           int
			earliestMS       int64
			unreachedMS      int64
		)
		if err := rows.Scan(&outcome, &channel, &kind, &n, &earliestMS, &confirmed, &failed, &unreachedMS); err != nil {
			return err
		}
		s.Planned += n
		s.Confirmed += confirmed
		s.FailedAfterAccept += failed
		if unreachedMS > 0 {
			s.EarliestUnreached = earliest(s.EarliestUnreached, time.UnixMilli(unreachedMS).UTC())
		}
		s.ByKind[kind] += n
		var start time.Time
		if earliestMS > 0 {
			start = time.UnixMilli(earliestMS).UTC()
		}
		switch outcome.String {
		case notifier.OutcomeDelivered:
			s.Delivered += n
			s.ByChannel[channel.String] += n
		case notifier.OutcomeManual:
			s.Manual += n
			s.EarliestManual = earliest(s.EarliestManual, start)
		default:
			s.Pending += n
			s.EarliestPending = earliest(s.EarliestPending, start)
		}
	}
	return rows.Err()
}

// outcomeTimes finds the first and latest outcome and counts those since
// the given time. Outcome times are RFC 3339 text with trimmed fractions,
// which sorts as time to the second: close enough for a rate.
func (db *DB) outcomeTimes(ctx context.Context, s *OutageStatus, since time.Time) error {
	var first, last string
	err := db.r.QueryRowContext(ctx, outcomeTimesQuery, s.Outage.OutageID, since.UTC().Format(time.RFC3339Nano)).Scan(&first, &last, &s.Recent)
	s.FirstOutcome, s.LastOutcome = parseStamp(first), parseStamp(last)
	return err
}

// parseStamp reads a time the store wrote with stamp; "" is the zero time.
func parseStamp(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// earliest is the earlier of two times, a zero time counting as unknown.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
