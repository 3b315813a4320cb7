package engine

import (
	"testing"
	"time"
)

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2 * time.Hour:                    "2h",
		24 * time.Hour:                   "24h",
		90 * time.Minute:                 "1h30m",
		45 * time.Minute:                 "45m",
		90 * time.Second:                 "1m30s",
		time.Second:                      "1s",
		time.Hour + 5*time.Second:        "1h0m5s",
		1500 * time.Millisecond:          "1.5s",
		2*time.Hour + 30*time.Minute + 1: "2h30m0.000000001s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
