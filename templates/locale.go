package templates

import (
	"strconv"
	"strings"
	"time"
)

// locale is what a language needs besides its wording: the names of days and
// months, which Go's time package knows only in English, and the order in
// which the language writes a date. Patterns use the placeholders {weekday},
// {day}, {dd}, {month}, {mm}, {year} and {time}.
type locale struct {
	weekdays [7]string  // Sunday first, as time.Weekday counts
	months   [12]string // January first
	// dateTime writes an appointment's start: weekday, date and time.
	dateTime string
	// date writes a day on its own, short enough for a subject line.
	date string
}

// locales holds one locale per file in lang/; New refuses a language without.
var locales = map[string]*locale{
	"de": {
		weekdays: [7]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
		months: [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni",
			"Juli", "August", "September", "Oktober", "November", "Dezember"},
		dateTime: "{weekday}, {day}. {month} {year}, {time} Uhr",
		date:     "{dd}.{mm}.{year}",
	},
	"en": {
		weekdays: [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		months: [12]string{"January", "February", "March", "April", "May", "June",
			"July", "August", "September", "October", "November", "December"},
		// Day before month and a 24-hour clock, as in the UK: the notices
		// go out from European hospitals.
		dateTime: "{weekday}, {day} {month} {year} at {time}",
		date:     "{day} {month} {year}",
	},
	"tr": {
		weekdays: [7]string{"Pazar", "Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi"},
		months: [12]string{"Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran",
			"Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"},
		dateTime: "{day} {month} {year} {weekday}, {time}",
		date:     "{dd}.{mm}.{year}",
	},
}

// format writes t, already in the zone it is to be read in, after pattern.
func (l *locale) format(pattern string, t time.Time) string {
	return strings.NewReplacer(
		"{weekday}", l.weekdays[t.Weekday()],
		"{day}", strconv.Itoa(t.Day()),
		"{dd}", t.Format("02"),
		"{month}", l.months[t.Month()-1],
		"{mm}", t.Format("01"),
		"{year}", t.Format("2006"),
		"{time}", t.Format("15:04"),
	).Replace(pattern)
}

// when writes an appointment's start, t in the zone it is to be read in.
func (l *locale) when(t time.Time) string { return l.format(l.dateTime, t) }

// day writes the day of t, for subject lines.
func (l *locale) day(t time.Time) string { return l.format(l.date, t) }
