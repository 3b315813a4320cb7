package webhook

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	date := func(d time.Duration) string { return testNow.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name   string
		header string
		want   time.Duration
	}{
		{"missing", "", 0},
		{"seconds", "1", time.Second},
		{"seconds with blanks", " 30 ", 30 * time.Second},
		{"zero", "0", 0},
		{"negative seconds are unreadable", "-5", 0},
		{"fractions are unreadable", "1.5", 0},
		{"garbage", "soon", 0},
		{"an HTTP date", date(2 * time.Minute), 2 * time.Minute},
		{"an HTTP date in the past", date(-time.Minute), 0},
		{"an obsolete RFC 850 date", testNow.Add(time.Minute).Format(time.RFC850), time.Minute},
		{"too many seconds are capped", "86400", MaxRetryAfter},
		{"seconds beyond any duration are capped", "99999999999999999999", MaxRetryAfter},
		{"a date far ahead is capped", date(48 * time.Hour), MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryAfter(tt.header, testNow); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	const phone, text = "0211 5550101", "UKD: Ihr Termin am 14.09.2020 um 09:30 ist verschoben."
	tests := []struct {
		name, reply, want string
	}{
		{"nothing to hide", "unknown subscriber", "unknown subscriber"},
		{"short numbers stay", "error 4001 on line 2", "error 4001 on line 2"},
		{"the number as given", "bad number 0211 5550101", "bad number [redacted]"},
		{"the number in E.164", `{"to":"+492115550101"}`, `{"to":"[redacted]"}`},
		{"the number written another way", "bad number (0211) 555-0101!", "bad number [redacted]!"},
		{"another long number", "ref 123456", "ref [redacted]"},
		{"a reply quoting the text", `{"text":"` + text + `"}`, ""},
		{"a reply quoting part of the text", "rejected: Ihr Termin am 14.09", ""},
		{"line breaks and control characters", "bad\r\nrequest\x00here", "bad request here"},
		{"invalid UTF-8", "bad \xff byte", "bad \uFFFD byte"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(tt.reply, phone, text); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.reply, got, tt.want)
			}
		})
	}
	t.Run("a long reply is cut at a character", func(t *testing.T) {
		long := ""
		for range maxReplyText {
			long += "ü"
		}
		got := redact(long, phone, text)
		if want := long[:maxReplyText] + "…"; got != want {
			t.Errorf("redact(long) = %q, want %q", got, want)
		}
	})
}
