package importer

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// localLayouts are the accepted forms of a time without an offset.
var localLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
}

var errNotATime = errors.New("not a time (want RFC 3339 or YYYY-MM-DD HH:MM)")

// parseTime reads s as RFC 3339, or as a wall-clock time in loc. An empty s
// is the zero time, so that Normalize decides whether the field is required.
// The result is in loc either way, as notices show the facility's time.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(loc), nil
	}
	for _, layout := range localLayouts {
		if wall, err := time.Parse(layout, s); err == nil {
			return inZone(wall, loc)
		}
	}
	return time.Time{}, errNotATime
}

// inZone places a wall-clock time, given in UTC, in loc. time.Date would
// pick one reading of a time that the daylight-saving change repeats and
// shift one that it skips; both are refused instead.
func inZone(wall time.Time, loc *time.Location) (time.Time, error) {
	var found []time.Time
	for _, probe := range []time.Time{wall.Add(-24 * time.Hour), wall.Add(24 * time.Hour)} {
		_, offset := probe.In(loc).Zone()
		t := wall.Add(-time.Duration(offset) * time.Second).In(loc)
		if _, o := t.Zone(); o == offset && !slices.ContainsFunc(found, t.Equal) {
			found = append(found, t)
		}
	}
	when := wall.Format("2006-01-02 15:04")
	switch len(found) {
	case 0:
		return time.Time{}, fmt.Errorf("%s does not exist in %s (the clocks skip it); give an offset", when, loc)
	case 2:
		return time.Time{}, fmt.Errorf("%s occurs twice in %s (the clocks go back); give an offset, %s or %s",
			when, loc, found[0].Format("-07:00"), found[1].Format("-07:00"))
	}
	return found[0], nil
}
