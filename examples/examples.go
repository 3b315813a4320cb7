// Package examples ships the sample data with the binary, so that
// `notifier demo` runs from any folder.
package examples

import _ "embed"

// AppointmentsCSV is examples/appointments.csv: sample appointments of the
// facility ukd, in the CSV import format.
//
//go:embed appointments.csv
var AppointmentsCSV []byte

// OutageJSON is examples/outage.json: the sample outage event.
//
//go:embed outage.json
var OutageJSON []byte
