// Package calllist renders the call list: the patients no channel reached,
// whom hospital staff must phone about their postponed appointments.
//
// The list is written twice from the same rows. The CSV is for a laptop's
// spreadsheet; the HTML is a page that prints on paper in black and white
// and reads on a phone, for staff who work the list by hand while the
// hospital's own IT is down. Both are sorted soonest appointment first,
// whatever order the caller passes, so the most pressing calls come first.
//
// Publish writes both files for an outage into one directory, atomically and
// readable by their owner only: they hold names and phone numbers.
package calllist
