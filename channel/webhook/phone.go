package webhook

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/postponement/notifier/notifier"
)

// region returns the region a number without a country code is read in:
// the notice's country if the phone metadata knows it, else fallback.
func region(m *notifier.Message, fallback string) string {
	if m.Notice != nil {
		if r := strings.ToUpper(strings.TrimSpace(m.Notice.Country)); phonenumbers.GetSupportedRegions()[r] {
			return r
		}
	}
	return fallback
}

// e164 returns phone in E.164 ("+492115550101"), reading a number without
// a country code in region. A number that does not parse or cannot exist is
// a BadAddress. A number without a country code when there is no region to
// read it in is Permanent: the fault is the configuration's, and another
// channel may know the region. Reasons never quote the number.
func e164(phone, region string) (string, error) {
	phone = strings.TrimSpace(phone)
	if phone == "" {
		return "", &notifier.SendError{Class: notifier.BadAddress, Reason: "patient has no phone number"}
	}
	num, err := phonenumbers.Parse(phone, region)
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode) && region == "" && !strings.HasPrefix(phone, "+"):
		return "", &notifier.SendError{Class: notifier.Permanent, Err: err,
			Reason: "phone number has no country code, and neither the notice nor the channel names a region"}
	case err != nil:
		// The library's errors are fixed texts that never quote the number.
		return "", &notifier.SendError{Class: notifier.BadAddress, Err: err, Reason: "phone number does not parse: " + err.Error()}
	case !phonenumbers.IsValidNumber(num):
		return "", &notifier.SendError{Class: notifier.BadAddress, Reason: "phone number is not a valid number"}
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
