package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// fhirServer is an in-process FHIR R4 server of Appointment searches: the
// pages of a searchset (their entries), behind a bearer token. A search
// by _id answers that Appointment alone, with the resources it refers to;
// GET Patient/<id> reads a Patient of the pages. It records the
// _lastUpdated of each first-page request, the _id searched for and the
// Patients read.
type fhirServer struct {
	*httptest.Server
	mu       sync.Mutex
	since    []string
	ids      []string
	patients []string
	pages    [][]string
}

// entryOf reads what the server needs of a search entry.
type entryOf struct {
	Resource struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Participant  []struct {
			Actor struct {
				Reference string `json:"reference"`
			} `json:"actor"`
		} `json:"participant"`
	} `json:"resource"`
}

// byID is the searchset of one Appointment and the resources of the pages
// its participants refer to.
func (f *fhirServer) byID(id string) []string {
	var found []string
	refs := map[string]bool{}
	var all []string
	for _, page := range f.pages {
		all = append(all, page...)
	}
	for _, raw := range all {
		var e entryOf
		if json.Unmarshal([]byte(raw), &e) == nil && e.Resource.ResourceType == "Appointment" && e.Resource.ID == id {
			found = append(found, raw)
			for _, p := range e.Resource.Participant {
				refs[p.Actor.Reference] = true
			}
		}
	}
	for _, raw := range all {
		var e entryOf
		if json.Unmarshal([]byte(raw), &e) == nil && refs[e.Resource.ResourceType+"/"+e.Resource.ID] {
			found = append(found, raw)
			delete(refs, e.Resource.ResourceType+"/"+e.Resource.ID)
		}
	}
	return found
}

// patient reads a Patient resource of the pages.
func (f *fhirServer) patient(id string) (json.RawMessage, bool) {
	for _, page := range f.pages {
		for _, raw := range page {
			var e struct {
				Resource json.RawMessage `json:"resource"`
			}
			var meta entryOf
			if json.Unmarshal([]byte(raw), &meta) == nil && meta.Resource.ResourceType == "Patient" && meta.Resource.ID == id &&
				json.Unmarshal([]byte(raw), &e) == nil {
				return e.Resource, true
			}
		}
	}
	return nil, false
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
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/fhir+json")
		if id, ok := strings.CutPrefix(r.URL.Path, "/fhir/Patient/"); ok {
			f.patients = append(f.patients, id)
			if res, ok := f.patient(id); ok {
				w.Write(res)
				return
			}
			http.NotFound(w, r)
			return
		}
		if r.URL.Path != "/fhir/Appointment" {
			http.NotFound(w, r)
			return
		}
		if id := r.URL.Query().Get("_id"); id != "" {
			f.ids = append(f.ids, id)
			fmt.Fprint(w, `{"resourceType": "Bundle", "type": "searchset", "entry": [`+strings.Join(f.byID(id), ",")+`]}`)
			return
		}
		page := 1
		if p := r.URL.Query().Get("page"); p != "" {
			fmt.Sscan(p, &page)
		}
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
// full-resource notification publishes its Appointment, and the hook reads
// from the server a Patient it refers to but does not carry; an id-only
// one makes the hook read that one Appointment (with its Patient) from the
// server. Without a server to read from, an id-only notification is
// refused and an Appointment without its Patient is recorded as refused.
func TestFHIRSubscriptionHook(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	fhir := newFHIRServer(t, samplePages())
	post := func(h *FHIRHook, auth, body string) (int, string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/fhir+json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		answer := httptest.NewRecorder()
		h.ServeHTTP(answer, req)
		return answer.Code, answer.Body.String()
	}
	hook := &FHIRHook{Cfg: e.cfg, Conn: e.conn, Facility: "ukd", Secret: "hook-secret", Log: testLogger(t),
		Poll: &FHIRPoll{Base: fhir.URL + "/fhir", Token: "s3cret-token"}}
	server := httptest.NewServer(hook)
	t.Cleanup(server.Close)
	status := func(typ string) string {
		return `{"resource": {"resourceType": "Parameters", "parameter": [{"name": "type", "valueCode": "` + typ + `"}]}}`
	}
	notification := func(entries ...string) string {
		return `{"resourceType": "Bundle", "type": "history", "entry": [` + strings.Join(entries, ",") + `]}`
	}

	// Over HTTP, as the FHIR server calls it.
	for auth, want := range map[string]int{"Bearer wrong": http.StatusUnauthorized, "": http.StatusUnauthorized, "Bearer hook-secret": http.StatusOK} {
		req, _ := http.NewRequest(http.MethodPost, server.URL, strings.NewReader(notification(status("handshake"))))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || want == http.StatusOK && !strings.Contains(string(body), "0 accepted") {
			t.Errorf("handshake with %q: %d %s, want %d", auth, resp.StatusCode, body, want)
		}
	}
	if code, body := post(hook, "Bearer hook-secret", "not json"); code != http.StatusBadRequest {
		t.Errorf("not a bundle: %d %s", code, body)
	}
	full := notification(status("event-notification"),
		appointment("F-10", "p9", "2020-10-22T08:00:00+02:00", "2020-10-19T10:00:00Z"),
		patient("p9", "Yılmaz", "Ayşe", "ayse@example.org"))
	if code, body := post(hook, "Bearer hook-secret", full); code != http.StatusOK || !strings.Contains(body, "1 accepted, 0 refused") {
		t.Errorf("full-resource: %d %s", code, body)
	}
	alone := notification(status("event-notification"), appointment("F-20", "p1", "2020-10-24T08:00:00+02:00", "2020-10-19T11:00:00Z"))
	if code, body := post(hook, "Bearer hook-secret", alone); code != http.StatusOK || !strings.Contains(body, "1 accepted, 0 refused") {
		t.Errorf("full-resource without its Patient: %d %s", code, body)
	}
	// F-2 is on the server's second page, beside F.3, which the subjects
	// cannot take: only F-2 is read.
	idOnly := notification(status("event-notification"), `{"fullUrl": "`+fhir.URL+`/fhir/Appointment/F-2/_history/3"}`)
	if code, body := post(hook, "Bearer hook-secret", idOnly); code != http.StatusOK || !strings.Contains(body, "1 accepted, 0 refused") {
		t.Errorf("id-only: %d %s", code, body)
	}
	fhir.mu.Lock()
	if fmt.Sprint(fhir.ids) != "[F-2]" || fmt.Sprint(fhir.patients) != "[p1]" {
		t.Errorf("the hook searched for %v and read the Patients %v; want F-2 and p1", fhir.ids, fhir.patients)
	}
	fhir.mu.Unlock()

	bare := &FHIRHook{Cfg: e.cfg, Conn: e.conn, Facility: "ukd", Secret: "hook-secret", Log: testLogger(t)}
	if code, body := post(bare, "Bearer hook-secret", idOnly); code != http.StatusBadRequest {
		t.Errorf("id-only without a server to read from: %d %s, want 400", code, body)
	}
	alone = notification(status("event-notification"), appointment("F-21", "p1", "2020-10-24T09:00:00+02:00", "2020-10-19T11:00:00Z"))
	if code, body := post(bare, "Bearer hook-secret", alone); code != http.StatusOK || !strings.Contains(body, "0 accepted, 1 refused") {
		t.Errorf("full-resource without its Patient, and no server to read it from: %d %s, want it refused", code, body)
	}

	got := map[string]notifier.Patient{}
	waitUntil(t, "the replica holds the three appointments notified", func() bool {
		clear(got)
		e.w.DB.AppointmentsByID(context.Background(), "ukd", []string{"F-1", "F-2", "F-10", "F-20", "F-21"}, func(a notifier.AffectedAppointment) error {
			got[a.ID] = a.Patient
			return nil
		})
		n, _ := e.w.DB.CountAppointments(context.Background(), "ukd")
		return len(got) == 3 && n == 3
	})
	if got["F-2"].Email != "emily@example.org" || got["F-20"].Email != "jana@example.org" || got["F-10"].Email != "ayse@example.org" {
		t.Errorf("the notified appointments' patients: %+v", got)
	}
	if _, ok := got["F-1"]; ok {
		t.Error("F-1, never notified, is in the replica: the hook read more than the Appointment notified")
	}
}

// TestFHIRPollClientCredentials: with a token URL, a client id and a
// secret, the poll gets its bearer token by the OAuth 2.0
// client-credentials grant (client authentication by HTTP Basic, id and
// secret form-encoded first, RFC 6749 2.3.1) and reads the server with it;
// a secret the token endpoint refuses reads nothing.
func TestFHIRPollClientCredentials(t *testing.T) {
	e := newEnv(t)
	fhir := newFHIRServer(t, samplePages())
	const id, secret = "notifier ukd", "s3cret:&/+ key"
	var grants int
	var mu sync.Mutex
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		grants++
		mu.Unlock()
		user, pass, ok := r.BasicAuth()
		user, _ = url.QueryUnescape(user)
		pass, _ = url.QueryUnescape(pass)
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error": "unsupported_grant_type"}`)
			return
		}
		if !ok || user != id || pass != secret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": "invalid_client"}`)
			return
		}
		fmt.Fprint(w, `{"access_token": "s3cret-token", "token_type": "Bearer", "expires_in": 300}`)
	}))
	t.Cleanup(tokens.Close)
	ctx := context.Background()

	p := &FHIRPoll{Base: fhir.URL + "/fhir", Facility: "ukd", TokenURL: tokens.URL + "/token", ClientID: id, ClientSecret: secret}
	res, err := p.Poll(ctx, e.cfg, e.conn)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 2 || res.Accepted != 2 || grants != 1 {
		t.Errorf("poll: %+v after %d grants; want both pages read with one token", res, grants)
	}

	wrong := &FHIRPoll{Base: fhir.URL + "/fhir", Facility: "ukd", TokenURL: tokens.URL + "/token", ClientID: id, ClientSecret: "guess"}
	if res, err := wrong.Poll(ctx, e.cfg, e.conn); err == nil || !strings.Contains(err.Error(), "401") || res.Pages != 0 {
		t.Errorf("a refused secret: %+v %v, want the token endpoint's 401 and nothing read", res, err)
	}
}
