package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/bench/synth"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/notifier"
)

// newSet makes the run's synthetic appointments and their outage: the
// outage starts at the next midnight in the facility's zone and lasts a
// week, as one declared this evening would, so its first day or two are
// urgent.
func newSet(o Options, cfg *config.Config) (*synth.Set, notifier.Outage, error) {
	loc, err := cfg.FacilityMap()[facility].Location()
	if err != nil {
		return nil, notifier.Outage{}, err
	}
	now := time.Now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	set, err := synth.New(synth.Options{Appointments: o.Appointments, Affected: o.Affected,
		PatientsWithTwo: o.PatientsWithTwo, Seed: o.Seed, Facility: facility, From: from})
	if err != nil {
		return nil, notifier.Outage{}, err
	}
	return set, set.Outage(fmt.Sprintf("bench-%d", o.Seed), hotline), nil
}

// Data is what WriteData wrote.
type Data struct {
	// CSV is the appointments in the import format, Event the outage as an
	// outage.declared event for `notifier publish --event`.
	CSV, Event string
	Facility   string
	OutageID   string
	// Appointments, Affected and Notices count the records, those the
	// outage affects, and the notices it makes (one per patient).
	Appointments, Affected, Notices int
}

// WriteData writes the synthetic appointments of o as appointments.csv (the
// import format) and their outage as outage.json into dir, so that the real
// commands can be measured against servers of one's own: `notifier import`,
// then `notifier publish --event` into a running `notifier run`
// (bench/postfix.sh does so).
func WriteData(o Options, dir string) (*Data, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	set, outage, err := newSet(o, config.Default())
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	d := &Data{CSV: filepath.Join(dir, "appointments.csv"), Event: filepath.Join(dir, "outage.json"),
		Facility: facility, OutageID: outage.OutageID, Appointments: o.Appointments, Notices: set.Notices()}
	f, err := os.Create(d.CSV)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w, err := app.NewCSVWriter(f, outage.From.Location())
	if err != nil {
		return nil, err
	}
	records := set.Records()
	for a, ok := records.Next(); ok; a, ok = records.Next() {
		if outage.Affects(&a) {
			d.Affected++
		}
		if err := w.Write(&a); err != nil {
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	ev, err := app.BuildEvent(app.EventOptions{Facility: facility, OutageID: outage.OutageID,
		From: outage.From, Until: outage.Until, Departments: outage.Departments, Kinds: outage.Kinds,
		Action: outage.Action, Hotline: outage.Hotline, InfoURL: outage.InfoURL})
	if err != nil {
		return nil, err
	}
	raw, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return nil, err
	}
	return d, os.WriteFile(d.Event, append(raw, '\n'), 0o644)
}
