package store

import (
	"context"
	"time"

	"github.com/postponement/notifier/notifier"
)

// CallEntry is a manual notice with what staff need to phone the patient.
type CallEntry struct {
	NoticeID  string
	PatientID string
	Name      string
	Phone     string
	Language  string
	// Appointments are the notice's appointments as the replica has them,
	// soonest first.
	Appointments []notifier.NoticeAppointment
	Trail        []notifier.Attempt
	AddedAt      time.Time
	// Call is where staff's calls to the patient stand; CallSeq is the
	// CALLS stream sequence of the row's latest event (0 before any).
	Call    notifier.CallState
	CallSeq uint64
}

// CallEntries lists an outage's manual notices, soonest appointment first,
// with the patient's current name, phone and language from the replica and
// every attempt made, and where staff's calls stand.
func (db *DB) CallEntries(ctx context.Context, outageID string) ([]CallEntry, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT n.id, n.patient_id, coalesce(n.outcome_at, ''),
		j.value, coalesce(a.department, ''), coalesce(a.location, ''), coalesce(a.start_ms, 0),
		coalesce(a.patient_name, ''), coalesce(a.phone, ''), coalesce(a.language, ''), coalesce(a.seq, 0)
		FROM notices n, json_each(n.appointment_ids) j
		LEFT JOIN appointments a ON a.facility = n.facility AND a.id = j.value
		WHERE n.outage_id = ? AND n.outcome = ?
		ORDER BY n.earliest_ms, n.id, a.start_ms`, outageID, notifier.OutcomeManual)
	if err != nil {
		return nil, err
	}
	var out []CallEntry
	index := map[string]int{}
	seqs := map[string]int64{}
	for rows.Next() {
		var (
			id, patient, at, name, phone, lang string
			a                                  notifier.NoticeAppointment
			start, seq                         int64
		)
		if err := rows.Scan(&id, &patient, &at, &a.ID, &a.Department, &a.Location, &start, &name, &phone, &lang, &seq); err != nil {
			rows.Close()
			return nil, err
		}
		i, ok := index[id]
		if !ok {
			i = len(out)
			index[id] = i
			added, _ := time.Parse(time.RFC3339Nano, at)
			out = append(out, CallEntry{NoticeID: id, PatientID: patient, AddedAt: added})
		}
		e := &out[i]
		if start != 0 {
			a.Start = time.UnixMilli(start).UTC()
		}
		e.Appointments = append(e.Appointments, a)
		if seq >= seqs[id] {
			// The freshest record has the patient's current contact data.
			e.Name, e.Phone, e.Language, seqs[id] = name, phone, lang, seq
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, db.attachTrails(ctx, outageID, out, index)
}

func (db *DB) attachTrails(ctx context.Context, outageID string, out []CallEntry, index map[string]int) error {
	return db.eachManual(ctx, outageID, func(id, trail string, s notifier.CallState, seq uint64) error {
		i, ok := index[id]
		if !ok {
			return nil
		}
		var err error
		out[i].Call, out[i].CallSeq = s, seq
		out[i].Trail, err = decodeTrail(trail)
		return err
	})
}
