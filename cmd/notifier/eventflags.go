package main

import (
	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/notifier"
)

// eventFlags are the flags that describe an outage event. publish and
// preview share them, so that a preview is of exactly the event that
// publish would send with the same flags.
type eventFlags struct {
	o                         app.EventOptions
	from, until, depts, kinds string
	notes                     []string
	file                      string
}

func (e *eventFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&e.o.Facility, "facility", "", "facility id (required)")
	fl.StringVar(&e.from, "from", "", "start of the outage window (inclusive)")
	fl.StringVar(&e.until, "until", "", "end of the outage window (exclusive)")
	fl.StringVar(&e.depts, "departments", "", "comma-separated departments, or '*' for all (required)")
	fl.StringVar(&e.kinds, "kinds", "", "comma-separated appointment kinds (default: all but inpatient)")
	fl.StringVar(&e.o.Hotline, "hotline", "", "phone number patients can call (required)")
	fl.StringVar(&e.o.InfoURL, "info-url", "", "web page with more information")
	fl.StringVar(&e.o.Action, "action", notifier.ActionPostpone, "postpone or cancel")
	fl.StringVar(&e.o.OutageID, "outage-id", "", "outage id (default <facility>-<from date>)")
	fl.StringVar(&e.o.EventID, "event-id", "", "CloudEvents id (default: generated)")
	fl.StringVar(&e.o.Source, "source", "/notifier/cli", "CloudEvents source")
	fl.StringVar(&e.o.Type, "type", notifier.EventDeclared, "event type: outage.declared, outage.updated or outage.resolved")
	fl.StringArrayVar(&e.notes, "note", nil, "operator note for one language, as LANG=TEXT (repeatable)")
	fl.BoolVar(&e.o.Notify, "notify", false, "with outage.resolved: tell notified patients services have resumed")
	fl.StringVar(&e.file, "event", "", "take the event from this JSON file instead of building one")
}

// event reads the event from --event, or builds it from the other flags,
// checked exactly as a worker will, and makes sure its facility is
// configured.
func (e *eventFlags) event(cfg *config.Config) (*notifier.Event, error) {
	var (
		ev  *notifier.Event
		err error
	)
	if e.file != "" {
		ev, err = readEvent(e.file)
	} else {
		ev, err = buildEvent(cfg, &e.o, e.from, e.until, e.depts, e.kinds, e.notes)
	}
	if err != nil {
		return nil, err
	}
	if _, err := cfg.Facility(ev.Outage.Facility); err != nil {
		return nil, err
	}
	return ev, nil
}
