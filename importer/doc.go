// Package importer reads appointments from files that a hospital's IT
// exports when the scheduling system cannot publish them itself.
//
// # The CSV contract
//
// A file is UTF-8 (a leading byte order mark is ignored) with a header row
// naming its columns, in any order, matched case-insensitively after
// trimming spaces:
//
//	id,department,location,start,end,status,kind,patient_id,patient_name,language,email,phone
//
// The header must name id, start and patient_id, and every row must give
// them a value; the other columns may be left out. A header name outside this
// list is an error, so that a misspelt column is not silently dropped.
//
// start and end are RFC 3339 (2020-09-14T09:30:00+02:00) or a wall-clock
// time without an offset (2020-09-14T09:30:00, 2020-09-14T09:30,
// 2020-09-14 09:30:00, 2020-09-14 09:30), read in the facility's time zone.
// A wall-clock time that the daylight-saving change skips or repeats is an
// error, as guessing could send a patient an hour early or late. An empty
// status means booked; every other field is checked by
// [notifier.Appointment.Normalize].
//
// A broken row, or a line longer than [MaxLineLength], is reported with its
// line number and does not stop the rows after it. Rows are read one at a time, so a file of any size is read in
// constant memory.
package importer
