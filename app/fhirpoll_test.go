package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fhirServer is an in-process FHIR R4 server of Appointment searches: the
// pages of a searchset (their entries), behind a bearer token. It records
// the _lastUpdated of each first-page request.
type fhirServer struct {
	*httptest.Server
	mu    sync.Mutex
	since []string
	pages [][]string
}

func appointment(id, patient, start, updated string) string {
	return fmt.Sprintf(`{"fullUrl": "https://fhir.example/Appointment/%s", "search": {"mode": "match"}, "resource": {"resourceType": "Appointment", "id": %q,
		"meta": {"lastUpdated": %q}, "status": "booked", "start": %q, "serviceType": [{"text": "cardiology"}],
		"participant": [{"actor": {"reference": "Patient/%s"}}]}}`, id, id, updated, start, patient)
}

func patient(id, family, given, email string) string {
	return fmt.Sprintf(`{"search": {"mode": "include"}, "resource": {"resourceType": "Patient", "id": %q, "name": [{"family": %q, "given": [%q]}],
		"telecom": [{"system": "email", "value": %q}], "communication": [{"language": {"coding": [{"code": "de"}]}}]}}`, id, family, given, email)
}

// samplePages are two pages: two appointments and a third whose id the
// subjects cannot take, with their Patients.
func samplePages() [][]string {
	return [][]string{{
		appointment("F-1", "p1", "2020-10-22T09:30:00+02:00", "2020-10-19T08:00:00Z"),
		patient("p1", "Müller", "Jana", "jana@example.org"),
	}, {
		appointment("F-2", "p2", "2020-10-23T11:00:00+02:00", "2020-10-19T09:15:00Z"),
		appointment("F.3", "p2", "2020-10-23T12:00:00+02:00", "2020-10-19T09:00:00Z"),
		patient("p2", "Clarke", "Emily", "emily@example.org"),
	}}
}

func newFHIRServer(t *testing.T, pages [][]string) *fhirServer {
	f := &fhirServer{pages: pages}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/fhir/Appointment" {
			http.NotFound(w, r)
			return
		}
		page := 1
		if p := r.URL.Query().Get("page"); p != "" {
			fmt.Sscan(p, &page)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if page == 1 {
			f.since = append(f.since, r.URL.Query().Get("_lastUpdated"))
			if !strings.Contains(strings.Join(r.URL.Query()["_include"], ","), "Appointment:patient") {
				http.Error(w, "no _include", http.StatusBadRequest)
				return
			}
		}
		if page < 1 || page > len(f.pages) {
			http.NotFound(w, r)
			return
		}
		link := `[{"relation": "self", "url": "x"}]`
		if page < len(f.pages) {
			link = fmt.Sprintf(`[{"relation": "self", "url": "x"}, {"relation": "next", "url": "%s/fhir/Appointment?page=%d"}]`, f.URL, page+1)
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprint(w, `{"resourceType": "Bundle", "type": "searchset", "link": `+link+`, "entry": [`+strings.Join(f.pages[page-1], ",")+`]}`)
	}))
	t.Cleanup(f.Close)
	return f
}

// TestFHIRPoll: a poll pages through the server's Appointments with their
// Patients, publishes them as the bundle import does (a bad one refused,
// the rest kept), and saves its position: the next poll asks only for what
// changed since. Without the token nothing is read.
func TestFHIRPoll(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	srv := newFHIRServer(t, samplePages())
	ctx := context.Background()

	bad := &FHIRPoll{Base: srv.URL + "/fhir", Facility: "ukd", Token: "wrong"}
	if _, err := bad.Poll(ctx, e.cfg, e.conn); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("poll with a wrong token: %v, want the 401", err)
	}

	var refused []string
	p := &FHIRPoll{Base: srv.URL + "/fhir", Facility: "ukd", Token: "s3cret-token", Report: func(_ int, err error) { refused = append(refused, err.Error()) }}
	res, err := p.Poll(ctx, e.cfg, e.conn)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 2 || res.Accepted != 2 || res.Rejected != 1 || len(refused) != 1 {
		t.Errorf("poll: %+v, refused %q; want 2 pages, 2 accepted, 1 refused", res, refused)
	}
	if want := time.Date(2020, 10, 19, 9, 15, 0, 0, time.UTC); !res.Position.Equal(want) {
		t.Errorf("position %v, want the latest lastUpdated %v", res.Position, want)
	}
	waitUntil(t, "the replica holds both appointments, and the refusal is recorded", func() bool {
		n, _ := e.w.DB.CountAppointments(ctx, "ukd")
		rejects, _ := e.w.DB.Rejects(ctx)
		return n == 2 && len(rejects) == 1 && rejects[0].Stream == "FHIR" && rejects[0].Reason == refused[0]
	})

	if _, err := (&FHIRPoll{Base: srv.URL + "/fhir", Facility: "ukd", Token: "s3cret-token"}).Poll(ctx, e.cfg, e.conn); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.since) != 2 || srv.since[0] != "" || srv.since[1] != "ge2020-10-19T09:15:00Z" {
		t.Errorf("_lastUpdated asked for: %q; want nothing, then ge the saved position", srv.since)
	}
}

// TestFHIRSubscriptionHook: a Subscription's rest-hook notifications are
// taken only with the secret; a handshake publishes nothing; a
// full-resource notification publishes its Appointment; an id-only one
// makes the hook read the Appointment (and its Patient) from the server.
func TestFHIRSubscriptionHook(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	fhir := newFHIRServer(t, samplePages())
	hook := httptest.NewServer(&FHIRHook{Cfg: e.cfg, Conn: e.conn, Facility: "ukd", Secret: "hook-secret", Log: testLogger(t),
		Poll: &FHIRPoll{Base: fhir.URL + "/fhir", Token: "s3cret-token"}})
	t.Cleanup(hook.Close)
	post := func(auth, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, hook.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/fhir+json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status := func(typ string) string {
		return `{"resource": {"resourceType": "Parameters", "parameter": [{"name": "type", "valueCode": "` + typ + `"}]}}`
	}
	notification := func(entries ...string) string {
		return `{"resourceType": "Bundle", "type": "history", "entry": [` + strings.Join(entries, ",") + `]}`
	}
	if code, _ := post("Bearer wrong", notification(status("handshake"))); code != http.StatusUnauthorized {
		t.Errorf("a wrong secret: %d, want 401", code)
	}
	if code, body := post("Bearer hook-secret", notification(status("handshake"))); code != http.StatusOK || !strings.Contains(body, "0 accepted") {
		t.Errorf("handshake: %d %s", code, body)
	}
	if code, body := post("Bearer hook-secret", "not json"); code != http.StatusBadRequest {
		t.Errorf("not a bundle: %d %s", code, body)
	}
	full := notification(status("event-notification"),
		appointment("F-10", "p9", "2020-10-22T08:00:00+02:00", "2020-10-19T10:00:00Z"),
		patient("p9", "Yılmaz", "Ayşe", "ayse@example.org"))
	if code, body := post("Bearer hook-secret", full); code != http.StatusOK || !strings.Contains(body, "1 accepted, 0 refused") {
		t.Errorf("full-resource: %d %s", code, body)
	}
	idOnly := notification(status("event-notification"), `{"fullUrl": "`+fhir.URL+`/fhir/Appointment/F-1/_history/3"}`)
	if code, body := post("Bearer hook-secret", idOnly); code != http.StatusOK || !strings.Contains(body, "1 accepted") {
		t.Errorf("id-only: %d %s", code, body)
	}
	waitUntil(t, "the replica holds both appointments", func() bool {
		n, _ := e.w.DB.CountAppointments(context.Background(), "ukd")
		return n == 2
	})
}
