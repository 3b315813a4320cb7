package templates

import (
	"testing"
	"time"

	"github.com/postponement/notifier/sms"
)

func TestLocaleDates(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		lang     string
		at       time.Time
		wantWhen string
		wantDay  string
	}{
		{"de", "de", time.Date(2020, 9, 14, 9, 30, 0, 0, berlin), "Montag, 14. September 2020, 09:30 Uhr", "14.09.2020"},
		{"de single-digit day and month", "de", time.Date(2021, 3, 1, 8, 5, 0, 0, berlin), "Montag, 1. März 2021, 08:05 Uhr", "01.03.2021"},
		{"de afternoon on a Sunday", "de", time.Date(2020, 12, 20, 15, 0, 0, 0, berlin), "Sonntag, 20. Dezember 2020, 15:00 Uhr", "20.12.2020"},
		{"en", "en", time.Date(2020, 9, 14, 9, 30, 0, 0, berlin), "Monday, 14 September 2020 at 09:30", "14 September 2020"},
		{"en single-digit day", "en", time.Date(2021, 3, 6, 17, 45, 0, 0, berlin), "Saturday, 6 March 2021 at 17:45", "6 March 2021"},
		{"tr", "tr", time.Date(2020, 9, 14, 9, 30, 0, 0, berlin), "14 Eylül 2020 Pazartesi, 09:30", "14.09.2020"},
		{"tr single-digit day", "tr", time.Date(2021, 2, 3, 8, 0, 0, 0, berlin), "3 Şubat 2021 Çarşamba, 08:00", "03.02.2021"},
		{"tr Thursday in August", "tr", time.Date(2021, 8, 26, 13, 15, 0, 0, berlin), "26 Ağustos 2021 Perşembe, 13:15", "26.08.2021"},
		{"summer time before the change", "de", time.Date(2020, 10, 24, 9, 30, 0, 0, berlin), "Samstag, 24. Oktober 2020, 09:30 Uhr", "24.10.2020"},
		{"winter time after the change", "de", time.Date(2020, 10, 26, 9, 30, 0, 0, berlin), "Montag, 26. Oktober 2020, 09:30 Uhr", "26.10.2020"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := locales[tt.lang]
			if got := l.when(tt.at); got != tt.wantWhen {
				t.Errorf("when(%v) = %q, want %q", tt.at, got, tt.wantWhen)
			}
			if got := l.day(tt.at); got != tt.wantDay {
				t.Errorf("day(%v) = %q, want %q", tt.at, got, tt.wantDay)
			}
		})
	}
}

func TestLocaleNames(t *testing.T) {
	// Every name is spelled out: an empty entry would print a date without
	// its weekday or month.
	for code, l := range locales {
		for i, name := range l.weekdays {
			if name == "" {
				t.Errorf("%s: weekday %v has no name", code, time.Weekday(i))
			}
		}
		for i, name := range l.months {
			if name == "" {
				t.Errorf("%s: month %v has no name", code, time.Month(i+1))
			}
		}
	}
}

func TestLocaleBrief(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang string
		at   time.Time
		want string
	}{
		{"de", time.Date(2020, 9, 14, 9, 30, 0, 0, berlin), "14.09.2020 um 09:30"},
		{"de", time.Date(2021, 3, 1, 8, 5, 0, 0, berlin), "01.03.2021 um 08:05"},
		{"en", time.Date(2020, 9, 14, 9, 30, 0, 0, berlin), "14 Sep 2020 at 09:30"},
		{"en", time.Date(2021, 3, 6, 17, 45, 0, 0, berlin), "6 Mar 2021 at 17:45"},
		{"tr", time.Date(2021, 2, 3, 8, 0, 0, 0, berlin), "03.02.2021 08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+" "+tt.want, func(t *testing.T) {
			if got := locales[tt.lang].brief(tt.at); got != tt.want {
				t.Errorf("brief(%v) = %q, want %q", tt.at, got, tt.want)
			}
		})
	}
	t.Run("every month is written in GSM-7", func(t *testing.T) {
		for code, l := range locales {
			for m := time.January; m <= time.December; m++ {
				s := l.brief(time.Date(2021, m, 1, 8, 0, 0, 0, berlin))
				if enc, _ := sms.Segments(s); enc != sms.GSM7 {
					t.Errorf("%s: brief = %q, in %s", code, s, enc)
				}
			}
		}
	})
}
