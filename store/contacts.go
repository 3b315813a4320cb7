package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/postponement/notifier/notifier"
)

// StreamPatients names the position of the contact records applied.
const StreamPatients = "PATIENTS"

// ApplyContacts applies contact records in one transaction and moves their
// position to the last one. Each record sets the contact data it gives,
// and empties the fields it clears, on every appointment of its patient in
// its facility whose record is not newer than it (change.Before); other
// fields keep their values. A patient with no appointments changes nothing.
func (db *DB) ApplyContacts(ctx context.Context, changes []notifier.ContactChange) error {
	if len(changes) == 0 {
		return nil
	}
	now := db.stamp(time.Time{})
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		update, err := tx.PrepareContext(ctx, `UPDATE appointments SET
			patient_name = coalesce(?, patient_name), language = coalesce(?, language),
			email = coalesce(?, email), phone = coalesce(?, phone)
			WHERE facility = ? AND patient_id = ? AND seq <= ?`)
		if err != nil {
			return err
		}
		defer update.Close()
		for _, c := range changes {
			if c.Reject != nil {
				if err := addReject(ctx, tx, now, *c.Reject); err != nil {
					return err
				}
				continue
			}
			r, p := c.Record, c.Record.Patient
			set := func(field, v string) any {
				switch {
				case v != "":
					return v
				case slices.Contains(r.Clear, field):
					return ""
				}
				return nil // not given: coalesce keeps the stored value
			}
			if _, err := update.ExecContext(ctx, set("name", p.Name), set("language", p.Language), set("email", p.Email),
				set("phone", p.Phone), r.Facility, p.ID, c.Before); err != nil {
				return fmt.Errorf("apply the contact record at %d of facility %s: %w", c.Seq, r.Facility, err)
			}
		}
		return setPosition(ctx, tx, StreamPatients, changes[len(changes)-1].Seq)
	})
}
