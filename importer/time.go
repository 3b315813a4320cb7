package importer

import (
	"errors"
	"fmt"
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
	if wall, offset, zoned, ok := readTime(s); ok {
		if zoned {
			return wall.Add(-time.Duration(offset) * time.Second).In(loc), nil
		}
		return inZone(wall, loc)
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

// readTime reads the forms of a time that exports have, RFC 3339 without
// a fraction of a second and the wall-clock forms of localLayouts, as
// time.Parse reads them but without the errors it makes for every layout
// that does not fit. wall is the time as written, in UTC, and offset is in
// seconds east of UTC when zoned. Anything else, valid or not, is not ok
// and left to time.Parse.
func readTime(s string) (wall time.Time, offset int, zoned, ok bool) {
	if len(s) < len("2006-01-02 15:04") || s[4] != '-' || s[7] != '-' || s[10] != 'T' && s[10] != ' ' || s[13] != ':' {
		return time.Time{}, 0, false, false
	}
	year, okYear := number(s[0:4], 9999)
	month, okMonth := number(s[5:7], 12)
	day, okDay := number(s[8:10], 31)
	hour, okHour := number(s[11:13], 23)
	minute, okMinute := number(s[14:16], 59)
	if !(okYear && okMonth && okDay && okHour && okMinute) || month == 0 || day == 0 || day > daysIn(month, year) {
		return time.Time{}, 0, false, false
	}
	rest := s[16:]
	if rest == "" {
		return time.Date(year, time.Month(month), day, hour, minute, 0, 0, time.UTC), 0, false, true
	}
	if len(rest) < len(":05") || rest[0] != ':' {
		return time.Time{}, 0, false, false
	}
	sec, okSec := number(rest[1:3], 59)
	if !okSec {
		return time.Time{}, 0, false, false
	}
	wall = time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	switch rest = rest[3:]; {
	case rest == "":
		return wall, 0, false, true
	case s[10] != 'T':
		// An offset follows a T only.
	case rest == "Z":
		return wall, 0, true, true
	case len(rest) == len("-07:00") && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, okH := number(rest[1:3], 23)
		m, okM := number(rest[4:6], 59)
		if !okH || !okM {
			break
		}
		offset = (h*60 + m) * 60
		if rest[0] == '-' {
			offset = -offset
		}
		return wall, offset, true, true
	}
	return time.Time{}, 0, false, false
}

// number reads s, ASCII digits only, as a decimal number of at most max.
func number(s string, max int) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int(d)
	}
	return n, n <= max
}

// daysIn is the number of days of a month of the proleptic Gregorian
// calendar, as time.Parse checks them.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// inZone places a wall-clock time, given in UTC, in loc. time.Date would
// pick one reading of a time that the daylight-saving change repeats and
// shift one that it skips; both are refused instead.
func inZone(wall time.Time, loc *time.Location) (time.Time, error) {
	// The offsets a day before and a day after: a change of the clocks lies
	// between them, or none does and they are one.
	_, before := wall.Add(-24 * time.Hour).In(loc).Zone()
	_, after := wall.Add(24 * time.Hour).In(loc).Zone()
	offsets := [2]int{before, after}
	probes := offsets[:]
	if after == before {
		probes = offsets[:1]
	}
	var found [2]time.Time
	n := 0
	for _, offset := range probes {
		t := wall.Add(-time.Duration(offset) * time.Second).In(loc)
		if _, o := t.Zone(); o == offset && (n == 0 || !t.Equal(found[0])) {
			found[n] = t
			n++
		}
	}
	switch n {
	case 0:
		return time.Time{}, fmt.Errorf("%s does not exist in %s (the clocks skip it); give an offset",
			wall.Format("2006-01-02 15:04"), loc)
	case 2:
		return time.Time{}, fmt.Errorf("%s occurs twice in %s (the clocks go back); give an offset, %s or %s",
			wall.Format("2006-01-02 15:04"), loc, found[0].Format("-07:00"), found[1].Format("-07:00"))
	}
	return found[0], nil
}
