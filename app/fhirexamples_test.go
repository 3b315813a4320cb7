package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// specEntry is a resource of testdata/fhir-r4 as a FHIR server at base
// returns it in a search: with its fullUrl, the search mode and
// meta.lastUpdated; change sets top-level elements as an update on the
// server would.
func specEntry(t *testing.T, base, file, mode, updated string, change map[string]any) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fhir-r4", file))
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	res["meta"] = map[string]any{"lastUpdated": updated}
	for k, v := range change {
		res[k] = v
	}
	entry, err := json.Marshal(map[string]any{
		"fullUrl": fmt.Sprintf("%s/fhir/%s/%s", base, res["resourceType"], res["id"]),
		"search":  map[string]any{"mode": mode}, "resource": res,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(entry)
}

// TestFHIRPollSpecExamples: the FHIR R4 specification's Appointment
// examples, served as a searchset of two pages with their Patient and
// Location included, become exactly the two appointments that have a start
// ("example", "2docs"); the proposed request without one ("examplereq") is
// refused. When "example" is cancelled on the server, the next poll
// cancels it in the replica.
func TestFHIRPollSpecExamples(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	srv := newFHIRServer(t, nil)
	ctx := context.Background()
	entry := func(file, mode, updated string, change map[string]any) string {
		return specEntry(t, srv.URL, file, mode, updated, change)
	}
	included := func(updated string) []string {
		return []string{entry("patient-example.json", "include", updated, nil), entry("location-example.json", "include", updated, nil)}
	}
	srv.mu.Lock()
	srv.pages = [][]string{
		append([]string{entry("appointment-example.json", "match", "2013-10-10T08:00:00Z", nil),
			entry("appointment-example2doctors.json", "match", "2013-10-11T08:00:00Z", nil)}, included("2012-06-03T23:45:32Z")...),
		append([]string{entry("appointment-example-request.json", "match", "2015-12-02T08:00:00Z", nil)}, included("2012-06-03T23:45:32Z")...),
	}
	srv.mu.Unlock()

	var refused []string
	p := &FHIRPoll{Base: srv.URL + "/fhir", Facility: "ukd", Token: "s3cret-token", Report: func(_ int, err error) { refused = append(refused, err.Error()) }}
	res, err := p.Poll(ctx, e.cfg, e.conn)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 2 || res.Accepted != 2 || res.Rejected != 1 || len(refused) != 1 || !strings.Contains(refused[0], "start") {
		t.Errorf("poll: %+v, refused %q; want 2 pages, 2 accepted, examplereq refused for its missing start", res, refused)
	}
	if want := time.Date(2015, 12, 2, 8, 0, 0, 0, time.UTC); !res.Position.Equal(want) {
		t.Errorf("position %v, want the latest Appointment's lastUpdated %v", res.Position, want)
	}

	got := map[string]notifier.Appointment{}
	read := func() {
		clear(got)
		e.w.DB.AppointmentsByID(ctx, "ukd", []string{"example", "2docs", "examplereq", "123"}, func(a notifier.AffectedAppointment) error {
			got[a.ID] = a.Appointment
			return nil
		})
	}
	waitUntil(t, "the replica holds both appointments", func() bool { read(); return len(got) == 2 })
	chalmers := notifier.Patient{ID: "example", Name: "Peter James Chalmers", Phone: "(03) 5555 6473"}
	for id, want := range map[string]notifier.Appointment{
		"example": {ID: "example", Facility: "ukd", Department: "General practice", Kind: "followup", Status: "booked",
			Location: "South Wing, second floor, Second floor of the Old South Wing, formerly in use by Psychiatry",
			Start:    time.Date(2013, 12, 10, 9, 0, 0, 0, time.UTC), End: time.Date(2013, 12, 10, 11, 0, 0, 0, time.UTC), Patient: chalmers},
		"2docs": {ID: "2docs", Facility: "ukd", Department: "General practice", Kind: "walkin", Status: "booked",
			Start: time.Date(2013, 12, 9, 9, 0, 0, 0, time.UTC), End: time.Date(2013, 12, 9, 11, 0, 0, 0, time.UTC), Patient: chalmers},
	} {
		g := got[id]
		if g.Department != want.Department || g.Kind != want.Kind || g.Status != want.Status || g.Location != want.Location ||
			!g.Start.Equal(want.Start) || !g.End.Equal(want.End) || fmt.Sprint(g.Patient) != fmt.Sprint(want.Patient) {
			t.Errorf("%s:\n got %+v\nwant %+v", id, g, want)
		}
	}

	srv.mu.Lock()
	srv.pages = [][]string{append([]string{entry("appointment-example.json", "match", "2016-01-04T10:00:00Z", map[string]any{
		"status": "cancelled", "cancelationReason": map[string]any{"coding": []any{map[string]any{"code": "pat", "display": "Patient"}}},
	})}, included("2012-06-03T23:45:32Z")...)}
	srv.mu.Unlock()
	if _, err := p.Poll(ctx, e.cfg, e.conn); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the replica has example cancelled", func() bool { read(); return got["example"].Status == "cancelled" })
	if len(got) != 2 || got["2docs"].Status != "booked" {
		t.Errorf("after the cancellation: %+v", got)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.since) != 2 || srv.since[1] != "ge2015-12-02T08:00:00Z" {
		t.Errorf("_lastUpdated asked for: %q; want nothing, then ge the saved position", srv.since)
	}
}
