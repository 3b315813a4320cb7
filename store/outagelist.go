package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/postponement/notifier/notifier"
)

// OutageRecord is an outage as the store knows it.
type OutageRecord struct {
	// Outage is the outage's latest data. While its first event is being
	// planned only OutageID and Facility are known.
	Outage notifier.Outage
	// State is declared, updated or resolved; empty while the first event
	// is being planned.
	State string
	// DeclaredAt and UpdatedAt are when the store recorded the outage's
	// first and latest handled event; zero while the first is planned.
	DeclaredAt time.Time
	UpdatedAt  time.Time
	// Planning is true while an event of the outage is being planned: the
	// store holds notices planned for an event it has not recorded as
	// handled yet, and more may come.
	Planning bool
}

// Outages lists every outage the store knows: those with a handled event,
// the first declared first, then those whose first event is still being
// planned.
func (db *DB) Outages(ctx context.Context) ([]OutageRecord, error) {
	planning, err := db.outagesPlanning(ctx)
	if err != nil {
		return nil, err
	}
	isPlanning := make(map[string]bool, len(planning))
	for _, o := range planning {
		isPlanning[o.OutageID] = true
	}
	rows, err := db.r.QueryContext(ctx, `SELECT outage_id, data, state, declared_at, updated_at
		FROM outages ORDER BY declared_at, outage_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutageRecord
	known := map[string]bool{}
	for rows.Next() {
		var id, data, declared, updated string
		var r OutageRecord
		if err := rows.Scan(&id, &data, &r.State, &declared, &updated); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &r.Outage); err != nil {
			return nil, fmt.Errorf("outage %s: stored data: %w", id, err)
		}
		r.Outage.OutageID = id
		r.DeclaredAt, _ = time.Parse(time.RFC3339Nano, declared)
		r.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
		r.Planning = isPlanning[id]
		known[id] = true
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, p := range planning {
		if !known[p.OutageID] {
			out = append(out, OutageRecord{Outage: p, Planning: true})
		}
	}
	return out, nil
}

// outagesPlanning finds the outages with notices planned for an event not
// yet recorded as handled: the planner records the event after its
// notices. Notices known only from a delivery have no event key and say
// nothing about planning.
func (db *DB) outagesPlanning(ctx context.Context) ([]notifier.Outage, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT outage_id, min(facility) FROM notices n
		WHERE event_key <> '' AND NOT EXISTS (SELECT 1 FROM events e WHERE e.facility = n.facility AND e.source || '#' || e.id = n.event_key)
		GROUP BY outage_id ORDER BY outage_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notifier.Outage
	for rows.Next() {
		var o notifier.Outage
		if err := rows.Scan(&o.OutageID, &o.Facility); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
