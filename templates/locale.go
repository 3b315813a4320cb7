package templates

import (
	"strconv"
	"strings"
	"time"
)

// locale is what a language needs besides its wording: the names of days and
// months, which Go's time package knows only in English, and the order in
// which the language writes a date. Patterns use the placeholders {weekday},
// {day}, {dd}, {month}, {mon} (the month's first three letters), {mm},
// {year} and {time}.
type locale struct {
	weekdays [7]string  // Sunday first, as time.Weekday counts
	months   [12]string // January first
	// dateTime writes an appointment's start: weekday, date and time.
	dateTime string
	// date writes a day on its own, short enough for a subject line.
	date string
	// short writes an appointment's start, date and time, for an SMS: short,
	// and in the letters of the GSM 7-bit alphabet, so that the month's name
	// does not turn the message into UCS-2 (Turkish "Şubat" would).
	short string
}

// locales holds one locale per file in lang/; New refuses a language without.
var locales = map[string]*locale{
	"de": {
		weekdays: [7]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
		months: [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni",
			"Juli", "August", "September", "Oktober", "November", "Dezember"},
		dateTime: "{weekday}, {day}. {month} {year}, {time} Uhr",
		date:     "{dd}.{mm}.{year}",
		short:    "{dd}.{mm}.{year} um {time}",
	},
	"en": {
		weekdays: [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		months: [12]string{"January", "February", "March", "April", "May", "June",
			"July", "August", "September", "October", "November", "December"},
		// Day before month and a 24-hour clock, as in the UK: the notices
		// go out from European hospitals.
		dateTime: "{weekday}, {day} {month} {year} at {time}",
		date:     "{day} {month} {year}",
		// The month by name, as "14/09" reads as a month 14 in the US.
		short: "{day} {mon} {year} at {time}",
	},
	"tr": {
		weekdays: [7]string{"Pazar", "Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi"},
		months: [12]string{"Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran",
			"Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"},
		dateTime: "{day} {month} {year} {weekday}, {time}",
		date:     "{dd}.{mm}.{year}",
		short:    "{dd}.{mm}.{year} {time}",
	},
}

// format writes t, already in the zone it is to be read in, after pattern.
// It runs for every date of every notice, so it scans the pattern itself
// instead of building a strings.Replacer each time, and appends each field
// to one buffer.
func (l *locale) format(pattern string, t time.Time) string {
	b := make([]byte, 0, len(pattern)+24)
	for len(pattern) > 0 {
		open := strings.IndexByte(pattern, '{')
		end := strings.IndexByte(pattern, '}')
		if open < 0 || end < open {
			b = append(b, pattern...)
			break
		}
		b = append(b, pattern[:open]...)
		b = l.appendField(b, pattern[open+1:end], t)
		pattern = pattern[end+1:]
	}
	return string(b)
}

// appendField appends one named part of a date.
func (l *locale) appendField(b []byte, name string, t time.Time) []byte {
	switch name {
	case "weekday":
		return append(b, l.weekdays[t.Weekday()]...)
	case "day":
		return strconv.AppendInt(b, int64(t.Day()), 10)
	case "dd":
		return t.AppendFormat(b, "02")
	case "month":
		return append(b, l.months[t.Month()-1]...)
	case "mon":
		month := l.months[t.Month()-1]
		n := 0
		for i := range month {
			if n == 3 {
				return append(b, month[:i]...)
			}
			n++
		}
		return append(b, month...)
	case "mm":
		return t.AppendFormat(b, "01")
	case "year":
		return t.AppendFormat(b, "2006")
	case "time":
		return t.AppendFormat(b, "15:04")
	}
	return append(append(append(b, '{'), name...), '}')
}

// when writes an appointment's start, t in the zone it is to be read in.
func (l *locale) when(t time.Time) string { return l.format(l.dateTime, t) }

// day writes the day of t, for subject lines.
func (l *locale) day(t time.Time) string { return l.format(l.date, t) }

// brief writes an appointment's start, t in the zone it is to be read in,
// for an SMS.
func (l *locale) brief(t time.Time) string { return l.format(l.short, t) }

// neutralPlace stands for the department and location of an appointment
// in a sensitive department.
var neutralPlace = map[string]string{
	"de": "Ihr Termin in unserem Klinikum",
	"en": "your appointment at our hospital",
	"tr": "hastanemizdeki randevunuz",
}
