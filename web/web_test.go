package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/metrics"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/web"
)

func TestStatusPage(t *testing.T) {
	page := get(t, web.New(options(fixture(t))), "/")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %s", page.Status)
	}
	text := strings.Join(strings.Fields(stripTags(page.body)), " ")
	contains := func(t *testing.T, s, want string) {
		t.Helper()
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	t.Run("the outage's counts", func(t *testing.T) {
		for field, want := range map[string]string{"planned": "6", "delivered": "4", "manual": "1", "pending": "1"} {
			contains(t, page.body, `data-count="`+field+`">`+want+`<`)
		}
		contains(t, text, "delivered · 66%")
		contains(t, text, "Delivered by relay 3 sms 1")
		contains(t, page.body, `aria-label="4 of 6 notices delivered, 1 on the call list, 1 pending"`)
	})
	t.Run("window and scope in the facility's zone", func(t *testing.T) {
		contains(t, text, "Universitätsklinikum Düsseldorf outage ukd-it-2020-10 declared")
		contains(t, text, "Window Wed 2020-10-21 00:00 CEST – Wed 2020-10-28 00:00 CET")
		contains(t, text, "Scope cardiology, radiology; outpatient")
		contains(t, text, "Patient hotline +49 211 81-04444")
		contains(t, text, "Updated 12:00:00 CEST")
	})
	t.Run("rate and time to finish", func(t *testing.T) {
		// Five outcomes since the first, two minutes ago; one pending.
		contains(t, text, "Rate 2.5 per minute")
		contains(t, text, "Finish about 24 s to go, around 12:00:24 CEST")
	})
	t.Run("soonest patients not reached", func(t *testing.T) {
		contains(t, text, "Soonest not yet told Thu 2020-10-22 13:00 CEST (in 25 h)")
		contains(t, text, "Soonest to phone Thu 2020-10-22 08:00 CEST (in 20 h)")
	})
	t.Run("call list links", func(t *testing.T) {
		contains(t, page.body, `href="/outages/ukd-it-2020-10/calllist.html"`)
		contains(t, page.body, `href="/outages/ukd-it-2020-10/calllist.csv"`)
	})
	t.Run("channels", func(t *testing.T) {
		contains(t, text, "relay email breaker open open 5 Wed 2020-10-21 11:59 CEST (1 min ago)")
		contains(t, text, "sms sms up closed 0 never")
	})
	t.Run("escapes what it shows", func(t *testing.T) {
		contains(t, page.body, "dial tcp: &lt;script&gt;alert(1)&lt;/script&gt; refused")
		if strings.Contains(strings.ToLower(page.body), "<script") {
			t.Error("page holds a script element")
		}
	})
	t.Run("refreshes itself and suits a phone", func(t *testing.T) {
		contains(t, page.body, `<meta http-equiv="refresh" content="5">`)
		contains(t, page.body, `<meta name="viewport" content="width=device-width, initial-scale=1">`)
		contains(t, page.body, `<link rel="stylesheet" href="/style.css">`)
		if got := page.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", got)
		}
	})
}

func TestStatusPageWithoutOutages(t *testing.T) {
	page := get(t, web.New(web.Options{DB: openStore(t)}), "/")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "No outage declared") ||
		!strings.Contains(page.body, "No channel health is reported here.") {
		t.Errorf("GET / = %s:\n%s", page.Status, page.body)
	}
}

func TestStatusPageShowsAnOutageBeingPlanned(t *testing.T) {
	db := openStore(t)
	f := &filler{t: t, db: db}
	// Notices arrive before the outage's event is recorded as planned.
	f.notice("ukd-new", "n-1", "P-1", clock.Add(48*time.Hour), "A-1")
	f.notice("ukd-new", "n-2", "P-2", clock.Add(49*time.Hour), "A-2")
	h := web.New(web.Options{DB: db, Facilities: facilities, Now: func() time.Time { return clock }})

	text := strings.Join(strings.Fields(stripTags(get(t, h, "/").body)), " ")
	for _, want := range []string{"outage ukd-new planning", "Window known once its first event is planned", "2 pending",
		"The call list is ready once planning completes."} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	var o apiOutage
	decode(t, get(t, h, "/api/outages/ukd-new"), &o)
	if o.State != "planning" || o.Planned != 2 || o.Pending != 2 || o.From != nil || o.DeclaredAt != nil {
		t.Errorf("outage %+v, want planning with 2 pending and no window", o)
	}
}

// apiOutage mirrors the API's outage: the field names are the contract.
type apiOutage struct {
	ID                           string         `json:"id"`
	Facility                     string         `json:"facility"`
	FacilityName                 string         `json:"facility_name"`
	State                        string         `json:"state"`
	Action                       string         `json:"action"`
	From                         *time.Time     `json:"from"`
	Until                        *time.Time     `json:"until"`
	TimeZone                     string         `json:"time_zone"`
	Departments                  []string       `json:"departments"`
	Kinds                        []string       `json:"kinds"`
	Hotline                      string         `json:"hotline"`
	DeclaredAt                   *time.Time     `json:"declared_at"`
	UpdatedAt                    *time.Time     `json:"updated_at"`
	Planned                      int            `json:"planned"`
	Delivered                    int            `json:"delivered"`
	Manual                       int            `json:"manual"`
	Pending                      int            `json:"pending"`
	Held                         int            `json:"held"`
	ApprovalScope                string         `json:"approval_scope"`
	DeliveredByChannel           map[string]int `json:"delivered_by_channel"`
	PlannedByKind                map[string]int `json:"planned_by_kind"`
	Phase                        string         `json:"phase"`
	FirstOutcomeAt               *time.Time     `json:"first_outcome_at"`
	LastOutcomeAt                *time.Time     `json:"last_outcome_at"`
	RatePerMinute                float64        `json:"rate_per_minute"`
	RateWindowSeconds            int            `json:"rate_window_seconds"`
	RemainingSeconds             *int64         `json:"remaining_seconds"`
	EstimatedFinishAt            *time.Time     `json:"estimated_finish_at"`
	EarliestPendingAppointment   *time.Time     `json:"earliest_pending_appointment"`
	EarliestManualAppointment    *time.Time     `json:"earliest_manual_appointment"`
	Confirmed                    int            `json:"confirmed"`
	FailedAfterAcceptance        int            `json:"failed_after_acceptance"`
	EarliestUnreachedAppointment *time.Time     `json:"earliest_unreached_appointment"`
	CallList                     struct {
		ToCall      int `json:"to_call"`
		Later       int `json:"later"`
		Claimed     int `json:"claimed"`
		Reached     int `json:"reached"`
		Unreachable int `json:"unreachable"`
		Attempts    int `json:"attempts"`
	} `json:"calllist"`
	Links struct {
		Self         string `json:"self"`
		CallListHTML string `json:"calllist_html"`
		CallListCSV  string `json:"calllist_csv"`
	} `json:"links"`
}

// apiStatus mirrors the API's list.
type apiStatus struct {
	GeneratedAt time.Time   `json:"generated_at"`
	Outages     []apiOutage `json:"outages"`
	Ready       bool        `json:"ready"`
	NotReady    []string    `json:"not_ready"`
	Channels    []struct {
		Name                string     `json:"name"`
		Medium              string     `json:"medium"`
		State               string     `json:"state"`
		Breaker             string     `json:"breaker"`
		ConsecutiveFailures uint32     `json:"consecutive_failures"`
		LastFailureAt       *time.Time `json:"last_failure_at"`
		LastFailureReason   string     `json:"last_failure_reason"`
	} `json:"channels"`
}

// decode reads a JSON response strictly: an unknown field is an error, so
// a renamed field fails the test.
func decode(t *testing.T, r response, v any) {
	t.Helper()
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s, %s: %s", r.Status, r.Header.Get("Content-Type"), r.body)
	}
	dec := json.NewDecoder(strings.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode: %v\n%s", err, r.body)
	}
}

func TestStatusAPI(t *testing.T) {
	h := web.New(options(fixture(t)))
	var list apiStatus
	decode(t, get(t, h, "/api/outages"), &list)
	if len(list.Outages) != 1 || len(list.Channels) != 2 {
		t.Fatalf("%d outages and %d channels, want 1 and 2", len(list.Outages), len(list.Channels))
	}
	var one apiOutage
	decode(t, get(t, h, "/api/outages/"+outageID), &one)

	for name, o := range map[string]apiOutage{"list": list.Outages[0], "one": one} {
		t.Run(name, func(t *testing.T) {
			if o.ID != outageID || o.Facility != "ukd" || o.FacilityName != "Universitätsklinikum Düsseldorf" ||
				o.State != "declared" || o.Action != "postpone" || o.TimeZone != "Europe/Berlin" || o.Hotline != "+49 211 81-04444" {
				t.Errorf("outage %+v", o)
			}
			if want := time.Date(2020, 10, 20, 22, 0, 0, 0, time.UTC); o.From == nil || !o.From.Equal(want) || o.From.Location() != time.UTC {
				t.Errorf("from %v, want %v in UTC", o.From, want)
			}
			if o.Planned != 6 || o.Delivered != 4 || o.Manual != 1 || o.Pending != 1 {
				t.Errorf("planned %d, delivered %d, manual %d, pending %d; want 6, 4, 1, 1", o.Planned, o.Delivered, o.Manual, o.Pending)
			}
			if want := map[string]int{"relay": 3, "sms": 1}; !maps.Equal(o.DeliveredByChannel, want) {
				t.Errorf("delivered by channel %v, want %v", o.DeliveredByChannel, want)
			}
			if o.Phase != "sending" || o.RatePerMinute != 2.5 || o.RateWindowSeconds != 300 ||
				o.RemainingSeconds == nil || *o.RemainingSeconds != 24 || !o.EstimatedFinishAt.Equal(clock.Add(24*time.Second)) {
				t.Errorf("phase %q, rate %v over %d s, remaining %v, finish %v; want sending at 2.5 a minute, 24 s to go",
					o.Phase, o.RatePerMinute, o.RateWindowSeconds, o.RemainingSeconds, o.EstimatedFinishAt)
			}
			if want := time.Date(2020, 10, 22, 11, 0, 0, 0, time.UTC); o.EarliestPendingAppointment == nil || !o.EarliestPendingAppointment.Equal(want) {
				t.Errorf("earliest pending %v, want %v", o.EarliestPendingAppointment, want)
			}
			if o.Links.CallListCSV != "/outages/ukd-it-2020-10/calllist.csv" {
				t.Errorf("links %+v", o.Links)
			}
		})
	}
	t.Run("channels", func(t *testing.T) {
		c := list.Channels[0]
		if c.Name != "relay" || c.Medium != "email" || c.State != "breaker open" || c.Breaker != "open" ||
			c.ConsecutiveFailures != 5 || c.LastFailureAt == nil || !strings.Contains(c.LastFailureReason, "refused") {
			t.Errorf("channel %+v", c)
		}
		if list.Channels[1].LastFailureAt != nil {
			t.Errorf("a channel that never failed has a last failure time")
		}
	})
	t.Run("unknown outage", func(t *testing.T) {
		if r := get(t, h, "/api/outages/nope"); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET /api/outages/nope = %s, want 404", r.Status)
		}
	})
	t.Run("no outage is an empty list, not null", func(t *testing.T) {
		body := get(t, web.New(web.Options{DB: openStore(t)}), "/api/outages").body
		if !strings.Contains(body, `"outages": []`) || !strings.Contains(body, `"channels": []`) {
			t.Errorf("body %s", body)
		}
	})
}

func TestCallLists(t *testing.T) {
	h := web.New(options(fixture(t)))

	t.Run("CSV to download", func(t *testing.T) {
		r := get(t, h, "/outages/"+outageID+"/calllist.csv")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", r.Status, r.body)
		}
		for header, want := range map[string]string{
			"Content-Type":        "text/csv; charset=utf-8",
			"Content-Disposition": `attachment; filename=calllist-ukd-it-2020-10.csv`,
			"Cache-Control":       "no-store",
		} {
			if got := r.Header.Get(header); got != want {
				t.Errorf("%s %q, want %q", header, got, want)
			}
		}
		records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 2 || records[1][1] != "P-1" || records[1][2] != "Patient 1" || records[1][0] != "2020-10-22 08:00" {
			t.Errorf("records %q, want the header and Patient 1 at 08:00 Düsseldorf time", records)
		}
	})
	t.Run("page to print", func(t *testing.T) {
		r := get(t, h, "/outages/"+outageID+"/calllist.html")
		if r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" ||
			!strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s, %v", r.Status, r.Header)
		}
		if !strings.Contains(r.body, "Patient 1") || !strings.Contains(r.body, "mailbox unknown") {
			t.Errorf("page lacks the patient or the reason:\n%s", r.body)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "'sha256-") || strings.Contains(csp, "script") {
			t.Errorf("Content-Security-Policy %q, want the page's style by hash, no script", csp)
		}
	})
	t.Run("unknown outage", func(t *testing.T) {
		for _, path := range []string{"/outages/nope/calllist.csv", "/outages/nope/calllist.html"} {
			r := get(t, h, path)
			if r.StatusCode != http.StatusNotFound || r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("GET %s = %s, want 404, not stored", path, r.Status)
			}
		}
	})
	t.Run("only to hosts it knows", func(t *testing.T) {
		o := options(fixture(t))
		o.Hosts = []string{"status.ukd.example"}
		h := web.New(o)
		for host, want := range map[string]int{
			"127.0.0.1:8025":           http.StatusOK,
			"[::1]:8025":               http.StatusOK,
			"localhost:8025":           http.StatusOK,
			"status.ukd.example":       http.StatusOK,
			"STATUS.ukd.example:443":   http.StatusOK,
			"rebound.attacker.example": http.StatusForbidden,
		} {
			req := httptest.NewRequest(http.MethodGet, "/outages/"+outageID+"/calllist.csv", nil)
			req.Host = host
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != want {
				t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
			}
		}
	})
	t.Run("without a call list source", func(t *testing.T) {
		r := get(t, web.New(web.Options{DB: openStore(t)}), "/outages/"+outageID+"/calllist.csv")
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("GET = %s, want 404", r.Status)
		}
	})
}

func TestEveryResponseIsLockedDown(t *testing.T) {
	o := options(fixture(t))
	o.Metrics = metrics.New(nil).Handler()
	h := web.New(o)
	for _, path := range []string{"/", "/style.css", "/api/outages", "/api/outages/" + outageID, "/api/outages/nope",
		"/outages/" + outageID + "/calllist.csv", "/outages/" + outageID + "/calllist.html", "/metrics", "/healthz", "/readyz", "/nope"} {
		t.Run(path, func(t *testing.T) {
			r := get(t, h, path)
			for header, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"X-Frame-Options":        "DENY",
			} {
				if got := r.Header.Get(header); got != want {
					t.Errorf("%s %q, want %q", header, got, want)
				}
			}
			csp := r.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
				t.Errorf("Content-Security-Policy %q allows scripts or inline content", csp)
			}
		})
	}
}

func TestOnlyGetIsServed(t *testing.T) {
	srv := web.New(options(fixture(t)))
	for _, path := range []string{"/", "/api/outages", "/healthz"} {
		req, _ := http.NewRequest(http.MethodPost, path, nil)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s = %d, want 405", path, rec.Code)
		}
	}
}

func TestProbes(t *testing.T) {
	db := openStore(t)
	tests := []struct {
		name       string
		ready      func(context.Context) error
		path       string
		wantStatus int
		wantBody   string
	}{
		{"alive", nil, "/healthz", http.StatusOK, "ok\n"},
		{"alive while not ready", func(context.Context) error { return errors.New("starting") }, "/healthz", http.StatusOK, "ok\n"},
		{"ready without a check", nil, "/readyz", http.StatusOK, "ready\n"},
		{"ready", func(context.Context) error { return nil }, "/readyz", http.StatusOK, "ready\n"},
		{"not ready, with the reason", func(context.Context) error { return errors.New("NATS is disconnected") },
			"/readyz", http.StatusServiceUnavailable, "not ready: NATS is disconnected\n"},
		{"a check that hangs is cut short", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			"/readyz", http.StatusServiceUnavailable, "not ready: context deadline exceeded\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, web.New(web.Options{DB: db, Ready: tc.ready}), tc.path)
			if r.StatusCode != tc.wantStatus || r.body != tc.wantBody {
				t.Errorf("GET %s = %d %q, want %d %q", tc.path, r.StatusCode, r.body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

func TestMetricsRoute(t *testing.T) {
	db := openStore(t)
	m := metrics.New(health)
	m.Finished(notifier.OutcomeDelivered, "relay", time.Second)
	r := get(t, web.New(web.Options{DB: db, Metrics: m.Handler()}), "/metrics")
	for _, want := range []string{`notifier_notices_finished_total{channel="relay",outcome="delivered"} 1`, `notifier_channel_breaker_state{channel="relay"} 2`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if r := get(t, web.New(web.Options{DB: db}), "/metrics"); r.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics without metrics = %s, want 404", r.Status)
	}
}

func TestAStoreThatFailsAnswers500WithoutDetails(t *testing.T) {
	db := fixture(t)
	h := web.New(options(db))
	db.Close()
	for _, path := range []string{"/", "/api/outages", "/api/outages/" + outageID, "/outages/" + outageID + "/calllist.csv"} {
		r := get(t, h, path)
		if r.StatusCode != http.StatusInternalServerError || strings.Contains(r.body, "sql") {
			t.Errorf("GET %s = %s %q, want 500 without the error", path, r.Status, r.body)
		}
	}
}

// stripTags reduces a page to its text, roughly: enough to read what a
// person sees.
func stripTags(html string) string {
	text := regexp.MustCompile(`(?s)<head>.*</head>|<[^>]*>`).ReplaceAllString(html, " ")
	return strings.NewReplacer("&#43;", "+", "&lt;", "<", "&gt;", ">", "&amp;", "&", "&#39;", "'", "&#34;", `"`, "\u202f", "").Replace(text)
}
