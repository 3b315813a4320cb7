package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// StreamAppointments names the position of the appointment replica.
const StreamAppointments = "APPOINTMENTS"

// ApplyAppointments applies changes in one transaction and moves the
// replica's position to the last one. The latest record per appointment
// wins, as on the stream.
func (db *DB) ApplyAppointments(ctx context.Context, changes []notifier.AppointmentChange) error {
	if len(changes) == 0 {
		return nil
	}
	now := db.stamp(time.Time{})
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		upsert, err := tx.PrepareContext(ctx, `INSERT INTO appointments
			(facility, id, department, department_key, location, start_ms, end_ms, status, kind,
			 patient_id, patient_name, language, email, phone, channels, seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (facility, id) DO UPDATE SET
			 department = excluded.department, department_key = excluded.department_key, location = excluded.location,
			 start_ms = excluded.start_ms, end_ms = excluded.end_ms,
			 status = excluded.status, kind = excluded.kind,
			 patient_id = excluded.patient_id, patient_name = excluded.patient_name,
			 language = excluded.language, email = excluded.email, phone = excluded.phone,
			 channels = excluded.channels, seq = excluded.seq
			WHERE excluded.seq >= appointments.seq`)
		if err != nil {
			return err
		}
		defer upsert.Close()
		for _, c := range changes {
			if c.Reject != nil {
				if err := addReject(ctx, tx, now, *c.Reject); err != nil {
					return err
				}
				continue
			}
			a, p := c.Appointment, c.Appointment.Patient
			var end any
			if !a.End.IsZero() {
				end = a.End.UnixMilli()
			}
			if _, err := upsert.ExecContext(ctx, a.Facility, a.ID, a.Department, strings.ToLower(a.Department), a.Location,
				a.Start.UnixMilli(), end, a.Status, a.Kind, p.ID, p.Name, p.Language,
				p.Email, p.Phone, strings.Join(p.Channels, ","), c.Seq); err != nil {
				return fmt.Errorf("apply appointment %s/%s: %w", a.Facility, a.ID, err)
			}
		}
		return setPosition(ctx, tx, StreamAppointments, changes[len(changes)-1].Seq)
	})
}

// CountAppointments counts the appointments in the replica for a facility,
// or for all facilities when facility is empty.
func (db *DB) CountAppointments(ctx context.Context, facility string) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM appointments WHERE ? = '' OR facility = ?`, facility, facility).Scan(&n)
	return n, err
}

// activeStatuses is notifier.ActiveStatuses as SQL literals. Literals, not
// parameters: SQLite uses the partial index appointments_active_start only
// when the query's condition visibly implies the index's, which names the
// same list (TestActiveStatusesMatchTheIndex keeps the two together).
var activeStatuses = func() string {
	quoted := make([]string, len(notifier.ActiveStatuses))
	for i, st := range notifier.ActiveStatuses {
		quoted[i] = "'" + strings.ReplaceAll(st, "'", "''") + "'"
	}
	return strings.Join(quoted, ", ")
}()

// affectedWhere is the condition of the appointments an outage affects. It
// must match notifier.Outage.Affects, and it lets SQLite use the partial
// index appointments_active_start.
func affectedWhere(o *notifier.Outage) (string, []any) {
	var b strings.Builder
	args := []any{o.Facility, o.From.UnixMilli(), o.Until.UnixMilli()}
	b.WriteString(`facility = ? AND start_ms >= ? AND start_ms < ?
		AND status IN (` + activeStatuses + `)`)
	if !o.AllDepartments() {
		b.WriteString(` AND department_key IN (` + placeholders(len(o.Departments)) + `)`)
		for _, d := range o.Departments {
			args = append(args, strings.ToLower(d))
		}
	}
	if len(o.Kinds) == 0 {
		b.WriteString(` AND kind <> ?`)
		args = append(args, notifier.KindInpatient)
	} else {
		b.WriteString(` AND kind IN (` + placeholders(len(o.Kinds)) + `)`)
		for _, k := range o.Kinds {
			args = append(args, k)
		}
	}
	return b.String(), args
}

// affectedQuery builds the lookup of the appointments an outage affects,
// ordered so that each patient's appointments are consecutive and patients
// come soonest first. The keys are
// sorted from the index alone, and only then are the rows read from the
// table: sorting the narrow keys takes half as long as sorting whole rows.
func affectedQuery(o *notifier.Outage) (string, []any) {
	where, args := affectedWhere(o)
	return `SELECT ` + keyedColumns + `, k.first_ms FROM (
		SELECT id, patient_id, start_ms, min(start_ms) OVER (PARTITION BY patient_id) AS first_ms
		FROM appointments WHERE ` + where + `) AS k
		CROSS JOIN appointments AS a ON a.facility = ? AND a.id = k.id
		ORDER BY k.first_ms, k.patient_id, k.start_ms, k.id`, append(args, o.Facility)
}

// keyedColumns are appointmentColumns of the table a.
var keyedColumns = func() string {
	cols := strings.Split(appointmentColumns, ",")
	for i, c := range cols {
		cols[i] = "a." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// headRows is how many of the soonest affected appointments Affected reads
// first, in index order, to find the patients it hands over before sorting
// the whole scope: the first notices leave while the rest is sorted.
const headRows = 64

// Affected calls fn for every appointment the outage affects, patient by
// patient, the patient with the soonest appointment first, each patient's
// appointments in time order. It streams: nothing is held in memory.
//
// Sorting a large scope takes a while before the first row, so it reads in
// two steps from one snapshot: first the patients whose first affected
// appointment is no later than the headRows-th soonest one (an index range,
// in order, no sort of the whole scope), then everyone else. Together they are
// exactly the order of one query.
func (db *DB) Affected(ctx context.Context, o *notifier.Outage, fn func(notifier.AffectedAppointment) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("query affected appointments: %w", err)
	}
	defer tx.Rollback()
	where, args := affectedWhere(o)
	var cutoff int64
	err = tx.QueryRowContext(ctx, `SELECT start_ms FROM appointments WHERE `+where+`
		ORDER BY start_ms LIMIT 1 OFFSET ?`, append(args, headRows-1)...).Scan(&cutoff)
	if errors.Is(err, sql.ErrNoRows) {
		// A small scope: one query.
		q, args := affectedQuery(o)
		return queryAppointments(ctx, tx, o.Facility, q, args, fn)
	}
	if err != nil {
		return fmt.Errorf("query affected appointments: %w", err)
	}
	// Every patient with an appointment up to the cut-off comes before
	// everyone else. Those patients are found in the index of the window
	// up to the cut-off alone (it holds every column of the condition),
	// their affected appointments through the patient index, and their
	// rows read from the table by key: a few hundred rows, where reading
	// the whole window took 40 ms at 50,000 affected.
	head := *o
	head.Until = time.UnixMilli(cutoff + 1)
	headWhere, headArgs := affectedWhere(&head)
	ids, err := queryStrings(ctx, tx, `SELECT id FROM appointments INDEXED BY appointments_patient
		WHERE facility = ? AND patient_id IN (SELECT patient_id FROM appointments WHERE `+headWhere+`)
		AND `+where, slices.Concat([]any{o.Facility}, headArgs, args)...)
	if err != nil {
		return fmt.Errorf("query affected appointments: %w", err)
	}
	early := map[string]bool{}
	err = byID(ctx, tx, o.Facility, ids, func(a notifier.AffectedAppointment) error {
		early[a.Patient.ID] = true
		return fn(a)
	})
	if err != nil {
		return err
	}
	q, qargs := affectedQuery(o)
	return queryAppointments(ctx, tx, o.Facility, q, qargs, func(a notifier.AffectedAppointment) error {
		if early[a.Patient.ID] {
			return nil
		}
		return fn(a)
	})
}

// queryAppointments runs q, which selects appointmentColumns and one more
// column, and calls fn for each row; db is the database or a transaction.
func queryAppointments(ctx context.Context, db querier, facility, q string, args []any, fn func(notifier.AffectedAppointment) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("query appointments: %w", err)
	}
	return scanAppointments(rows, facility, fn)
}

// appointmentColumns are the columns scanAppointments reads, in order.
const appointmentColumns = `id, department, location, start_ms, end_ms, status, kind,
		patient_id, patient_name, language, email, phone, channels, seq`

// scanAppointments reads rows of appointmentColumns plus one more column,
// calls fn for each, and closes rows.
func scanAppointments(rows *sql.Rows, facility string, fn func(notifier.AffectedAppointment) error) error {
	defer rows.Close()
	for rows.Next() {
		var a notifier.AffectedAppointment
		var start, first int64
		var end sql.NullInt64
		var channels string
		p := &a.Patient
		if err := rows.Scan(&a.ID, &a.Department, &a.Location, &start, &end, &a.Status, &a.Kind,
			&p.ID, &p.Name, &p.Language, &p.Email, &p.Phone, &channels, &a.Seq, &first); err != nil {
			return err
		}
		a.Facility = facility
		a.Start = time.UnixMilli(start).UTC()
		if end.Valid {
			a.End = time.UnixMilli(end.Int64).UTC()
		}
		if channels != "" {
			p.Channels = strings.Split(channels, ",")
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ExplainAffected returns SQLite's query plan for the affected lookup.
func (db *DB) ExplainAffected(ctx context.Context, o *notifier.Outage) (string, error) {
	q, args := affectedQuery(o)
	rows, err := db.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		b.WriteString(detail + "\n")
	}
	return b.String(), rows.Err()
}

// AppointmentsByID calls fn for the facility's appointments with these ids
// as the replica has them now, patient by patient, soonest patient first,
// like Affected.
func (db *DB) AppointmentsByID(ctx context.Context, facility string, ids []string, fn func(notifier.AffectedAppointment) error) error {
	return byID(ctx, db.r, facility, ids, fn)
}

// querier is a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func byID(ctx context.Context, q querier, facility string, ids []string, fn func(notifier.AffectedAppointment) error) error {
	if len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	return queryAppointments(ctx, q, facility, byIDQuery, []any{string(list), facility}, fn)
}

// byIDQuery reads appointments by key, the ids a JSON array. CROSS JOIN
// keeps the ids the outer loop: else SQLite may read the facility's every
// appointment in patient order (the appointments_patient index) for the
// window function, which took 0.3 s at 100,000 stored instead of 1 ms.
const byIDQuery = `SELECT ` + appointmentColumns + `,
		min(start_ms) OVER (PARTITION BY patient_id) AS first_ms
		FROM (SELECT DISTINCT value FROM json_each(?)) AS j
		CROSS JOIN appointments AS a ON a.facility = ? AND a.id = j.value
		ORDER BY first_ms, patient_id, start_ms, id`

// queryStrings returns the first column of every row.
func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Appointments calls fn for every appointment of the facility in the
// replica, by id.
func (db *DB) Appointments(ctx context.Context, facility string, fn func(notifier.AffectedAppointment) error) error {
	return queryAppointments(ctx, db.r, facility,
		`SELECT `+appointmentColumns+`, 0 FROM appointments WHERE facility = ? ORDER BY id`, []any{facility}, fn)
}
