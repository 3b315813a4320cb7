package notifier

import (
	"fmt"
	"time"
)

// Facility is a hospital site the worker serves, from the configuration.
type Facility struct {
	ID   string
	Name string
	// ShortName names the facility in SMS, where every character counts.
	ShortName string
	TimeZone  string
	// Language is the notice language for patients whose own language is
	// unknown or has no templates.
	Language string
	// Country is the ISO 3166 region code for phone numbers written
	// without a country code.
	Country string
}

// Location loads the facility's time zone.
func (f Facility) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(f.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("facility %s: time zone %q: %w", f.ID, f.TimeZone, err)
	}
	return loc, nil
}
