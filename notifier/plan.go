package notifier

import (
	"slices"
	"time"
)

// ToldSoFar is what an outage's earlier events told its patients: the
// appointments told not to come (postponed or cancelled, and not
// reinstated since), from the notices planned for the outage. Notices of
// the event key itself are left out: they are the event's own, planned
// before it was redelivered. base is the outage input of the ids of the
// event's new notices (NoticeID): the outage id for its first event, so
// that replaying it yields the same ids, else the outage id and the key, so
// that a later event's notice for the same appointments is a new notice.
func ToldSoFar(outageID, key string, planned []PlannedNotice) (told map[string]bool, base string) {
	told = map[string]bool{}
	base = outageID
	for _, n := range planned {
		if n.EventKey == key {
			continue
		}
		base = outageID + "@" + key
		for _, id := range n.AppointmentIDs {
			switch n.Kind {
			case KindPostponed, KindCancelled:
				told[id] = true
			case KindReinstated:
				delete(told, id)
			}
		}
	}
	return told, base
}

// LeftScope lists, sorted, the appointments told not to come that the
// outage's scope no longer covers: they are to be told they go ahead
// after all (KindReinstated).
func LeftScope(told, inScope map[string]bool) []string {
	var gone []string
	for id := range told {
		if !inScope[id] {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	return gone
}

// StillAhead reports whether an appointment told of earlier is worth a
// follow-up notice (reinstated, resumed): it is still active and has not
// begun.
func StillAhead(a *Appointment, now time.Time) bool {
	return a.Active() && a.Start.After(now)
}
