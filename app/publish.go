package app

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/postponement/notifier/notifier"
)

// EventOptions describe an outage event to build.
type EventOptions struct {
	Type        string // outage.declared (default), outage.updated, outage.resolved
	Facility    string
	From, Until time.Time
	Departments []string
	Kinds       []string
	Action      string // postpone (default) or cancel
	Hotline     string
	InfoURL     string
	Note        map[string]string
	OutageID    string // default <facility>-<from as YYYYMMDD>
	EventID     string // default evt-<unix time>-<random>
	Source      string // default /notifier/cli
	Notify      bool
	// Scope, for outage.approved, is the digest of the held scope the
	// approval is for (the status page shows it).
	Scope string
	Now   time.Time
}

// BuildEvent builds an outage event and checks it exactly as a worker will,
// so that a mistake is reported to the person publishing, not after.
func BuildEvent(o EventOptions) (*notifier.Event, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Type == "" {
		o.Type = notifier.EventDeclared
	}
	if o.Action == "" && o.Type != notifier.EventResolved && o.Type != notifier.EventApproved {
		o.Action = notifier.ActionPostpone
	}
	if o.OutageID == "" {
		if o.From.IsZero() {
			return nil, fmt.Errorf("--outage-id is required for %s", o.Type)
		}
		o.OutageID = o.Facility + "-" + o.From.Format("20060102")
	}
	if o.EventID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		o.EventID = fmt.Sprintf("evt-%d-%s", o.Now.Unix(), hex.EncodeToString(b[:]))
	}
	if o.Source == "" {
		o.Source = "/notifier/cli"
	}
	data, err := json.Marshal(notifier.Outage{
		OutageID: o.OutageID, Facility: o.Facility, From: o.From, Until: o.Until,
		Departments: o.Departments, Kinds: o.Kinds, Action: o.Action, Hotline: o.Hotline,
		InfoURL: o.InfoURL, Note: o.Note, Notify: o.Notify, Scope: o.Scope,
	})
	if err != nil {
		return nil, err
	}
	ev := notifier.Event{
		SpecVersion: "1.0", ID: o.EventID, Source: o.Source, Type: o.Type,
		Time: o.Now.UTC().Format(time.RFC3339), DataContentType: "application/json", Data: data,
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return notifier.DecodeEvent(raw, o.Facility)
}

// ParseTime reads a time given on the command line: RFC 3339, or a local
// date ("2020-09-14", midnight) or date and time ("2020-09-14 09:30",
// "2020-09-14T09:30") in the facility's time zone.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2020-09-14T09:30:00+02:00) or a local 2020-09-14 or 2020-09-14 09:30", s)
}
