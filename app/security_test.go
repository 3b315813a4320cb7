package app

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
	"github.com/postponement/notifier/web"
)

// keyPair writes a key pair for the test and returns the public key line
// and the private key file.
func keyPair(t *testing.T, id string) (string, string) {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), id)
	pub, err := WriteKeyPair(id, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return pub.String(), prefix + ".key"
}

// TestSignedEventsOnly: a facility that lists keys refuses unsigned, badly
// signed and foreign-signed events, with the reason recorded, and plans the
// one signed by its key.
func TestSignedEventsOnly(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	trusted, key := keyPair(t, "scheduling")
	_, stranger := keyPair(t, "scheduling") // same id, another key
	f := e.cfg.Facilities["ukd"]
	f.Keys = []string{trusted}
	e.cfg.Facilities["ukd"] = f
	e.startWorker()
	e.importCSV(fixture)

	publish := func(ev *notifier.Event) {
		t.Helper()
		if err := engine.PublishEvent(context.Background(), e.conn.JS, ev); err != nil {
			t.Fatal(err)
		}
	}
	publish(sampleOutage(t, "unsigned"))
	forged, err := SignWith(sampleOutage(t, "forged"), stranger)
	if err != nil {
		t.Fatal(err)
	}
	publish(forged)
	good, err := SignWith(sampleOutage(t, "signed"), key)
	if err != nil {
		t.Fatal(err)
	}
	// Altered after signing: a wider window, the same signature.
	altered := *good
	altered.ID = "altered"
	publish(&altered)
	s := e.declare(good)
	if s.Delivered != 4 {
		t.Errorf("summary %+v, want the signed event's 4 notices delivered", s)
	}
	var rejects []notifier.Reject
	waitUntil(t, "three refusals are recorded", func() bool {
		rejects, _ = e.w.DB.Rejects(context.Background())
		return len(rejects) >= 3
	})
	all := ""
	for _, r := range rejects {
		all += r.Reason + "\n"
	}
	for _, want := range []string{"signature: missing", "does not match key \"scheduling\""} {
		if !strings.Contains(all, want) {
			t.Errorf("no refusal saying %q in:\n%s", want, all)
		}
	}
}

// TestHeldForApproval: an outage notifying more patients than the
// threshold is planned but nothing is sent until an approver's signed
// outage.approved arrives; an approval signed by another key is refused.
func TestHeldForApproval(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	approver, approverKey := keyPair(t, "director")
	_, nobodyKey := keyPair(t, "nobody")
	f := e.cfg.Facilities["ukd"]
	f.Approvers = []string{approver}
	f.ApprovalThreshold = 2
	e.cfg.Facilities["ukd"] = f
	e.startWorker()
	e.importCSV(fixture)

	ev := sampleOutage(t, "big")
	e.hold(ev)
	e.settled()
	if n := len(rec.Messages()); n != 0 {
		t.Fatalf("%d messages sent for a held outage", n)
	}
	page := httptest.NewRecorder()
	web.New(web.Options{DB: e.w.DB, Facilities: e.cfg.FacilityMap()}).ServeHTTP(page, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(page.Body.String(), "Held for approval") || !strings.Contains(page.Body.String(), "These 4 notices") {
		t.Errorf("the status page does not show the held outage and its notices:\n%.2000s", page.Body.String())
	}
	approve := func(id, keyFile string) *notifier.Event {
		a, err := BuildEvent(EventOptions{Type: notifier.EventApproved, Facility: "ukd", OutageID: ev.Outage.OutageID, EventID: id})
		if err != nil {
			t.Fatal(err)
		}
		if keyFile != "" {
			if a, err = SignWith(a, keyFile); err != nil {
				t.Fatal(err)
			}
		}
		if err := engine.PublishEvent(context.Background(), e.conn.JS, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	approve("unsigned-approval", "")
	approve("wrong-approver", nobodyKey)
	waitUntil(t, "both approvals refused", func() bool {
		rejects, _ := e.w.DB.Rejects(context.Background())
		return len(rejects) == 2
	})
	e.settled()
	if n := len(rec.Messages()); n != 0 {
		t.Fatalf("%d messages sent after approvals that are not the approver's", n)
	}
	approve("approval", approverKey)
	if s := e.waitFor(ev); s.Delivered != 4 {
		t.Errorf("summary %+v after the approval, want 4 delivered", s)
	}
	if n := len(rec.Messages()); n != 4 {
		t.Errorf("%d messages after the approval, want 4", n)
	}
}

// TestSensitiveDepartmentsAreNotNamed: a notice for an appointment in a
// sensitive department names neither the department nor its location.
func TestSensitiveDepartmentsAreNotNamed(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	f := e.cfg.Facilities["ukd"]
	f.SensitiveDepartments = []string{"Oncology"}
	e.cfg.Facilities["ukd"] = f
	e.startWorker()
	e.importCSV(fixture)
	e.declare(sampleOutage(t, "evt-1"))
	got := parseAll(t, rec.Messages())
	m, ok := got["emily@example.org"]
	if !ok {
		t.Fatal("no message for the oncology patient")
	}
	for _, part := range []string{m.text, m.html} {
		if strings.Contains(strings.ToLower(part), "oncology") || strings.Contains(part, "Building 2") {
			t.Errorf("the notice names the sensitive department or its place:\n%s", part)
		}
		if !strings.Contains(part, "your appointment at our hospital") {
			t.Errorf("the notice lacks the neutral label:\n%s", part)
		}
	}
}

// TestApprovalCoversAScope: an approval releases the held outage only for
// the scope it names; an update of a held outage keeps it held under a new
// scope; an approval of an outage that is not held is refused; an update of
// an approved outage that adds more patients than the threshold is held
// again.
func TestApprovalCoversAScope(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	f := e.cfg.Facilities["ukd"]
	f.ApprovalThreshold = 1
	e.cfg.Facilities["ukd"] = f
	e.startWorker()
	e.importCSV(fixture)
	ctx := context.Background()

	publish := func(ev *notifier.Event) {
		t.Helper()
		if err := engine.PublishEvent(ctx, e.conn.JS, ev); err != nil {
			t.Fatal(err)
		}
	}
	heldScope := func(what string, not string) string {
		t.Helper()
		var scope string
		waitUntil(t, what, func() bool {
			o, state, _, _ := e.w.DB.Outage(ctx, "ukd-it-2020-10")
			scope = o.Scope
			return state == notifier.OutageHeld && scope != "" && scope != not
		})
		return scope
	}
	refused := func(what, reason string) {
		t.Helper()
		waitUntil(t, what, func() bool {
			rejects, _ := e.w.DB.Rejects(ctx)
			for _, r := range rejects {
				if strings.Contains(r.Reason, reason) {
					return true
				}
			}
			return false
		})
	}
	approval := func(id, scope string) *notifier.Event {
		t.Helper()
		a, err := BuildEvent(EventOptions{Type: notifier.EventApproved, Facility: "ukd", OutageID: "ukd-it-2020-10", EventID: id, Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	// Cardiology alone: one patient, under the threshold, sent at once.
	narrow := sampleOutage(t, "evt-1")
	narrow.Outage.Departments = []string{"cardiology"}
	narrow = rebuild(t, narrow, notifier.EventDeclared)
	publish(narrow)
	waitUntil(t, "the narrow outage sent", func() bool { return len(rec.Messages()) == 1 })

	// Widened to every department: more new patients than the threshold,
	// so held although nothing was held before.
	wide := rebuild(t, sampleOutage(t, "evt-2"), notifier.EventUpdated)
	publish(wide)
	first := heldScope("the widened outage held", "")
	publish(approval("stale", "0123456789abcdef"))
	refused("an approval of another scope refused", "the approval is of scope 0123456789abcdef")

	// Updated while held: still held, under a new scope; the approval of
	// the old scope is refused, and nothing is sent meanwhile.
	later := sampleOutage(t, "evt-3")
	later.Outage.Until = later.Outage.Until.Add(24 * time.Hour)
	later = rebuild(t, later, notifier.EventUpdated)
	publish(later)
	second := heldScope("the updated outage held under a new scope", first)
	publish(approval("old-scope", first))
	refused("the approval of the old scope refused", "the approval is of scope "+first)
	if n := len(rec.Messages()); n != 1 {
		t.Fatalf("%d messages while held, want only the first", n)
	}
	publish(approval("current-scope", second))
	waitUntil(t, "everything held is released", func() bool {
		_, state, _, _ := e.w.DB.Outage(ctx, "ukd-it-2020-10")
		return state == notifier.OutageApproved
	})
	s := e.waitFor(later)
	if s.Pending != 0 || s.Delivered < 2 {
		t.Errorf("summary %+v after the approval, want everything delivered", s)
	}
	publish(approval("nothing-held", ""))
	refused("an approval of an outage not held refused", "not held for approval: nothing to release")
}

// rebuild makes ev again as an event of type typ, from its outage's data.
func rebuild(t *testing.T, ev *notifier.Event, typ string) *notifier.Event {
	t.Helper()
	o := ev.Outage
	out, err := BuildEvent(EventOptions{Type: typ, Facility: o.Facility, OutageID: o.OutageID, EventID: ev.ID,
		From: o.From, Until: o.Until, Departments: o.Departments, Kinds: o.Kinds, Hotline: o.Hotline})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestApprovalExpires: an approval published longer ago than the
// facility's approval_ttl when it is planned releases nothing.
func TestApprovalExpires(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	f := e.cfg.Facilities["ukd"]
	f.ApprovalThreshold = 1
	f.ApprovalTTL = time.Nanosecond // every approval is older than this when planned
	e.cfg.Facilities["ukd"] = f
	e.startWorker()
	e.importCSV(fixture)
	ctx := context.Background()
	ev := sampleOutage(t, "evt-1")
	e.hold(ev)
	a, err := BuildEvent(EventOptions{Type: notifier.EventApproved, Facility: "ukd", OutageID: ev.Outage.OutageID, EventID: "late"})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.PublishEvent(ctx, e.conn.JS, a); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the expired approval refused", func() bool {
		rejects, _ := e.w.DB.Rejects(ctx)
		return len(rejects) == 1 && strings.Contains(rejects[0].Reason, "longer ago than the approval TTL")
	})
	e.settled()
	if _, state, _, _ := e.w.DB.Outage(ctx, ev.Outage.OutageID); state != notifier.OutageHeld || len(rec.Messages()) != 0 {
		t.Errorf("state %s, %d messages after an expired approval; want still held, nothing sent", state, len(rec.Messages()))
	}
}
