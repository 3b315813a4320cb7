package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// confirmEnv is a worker whose notices carry confirmation links, an SMTP
// relay that takes them, and appointments from now on: one patient each
// at hours (from now) ahead.
func confirmEnv(t *testing.T, within map[string]time.Duration, hours ...int) (*env, *relay.Relay, *notifier.Event) {
	t.Helper()
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	secret := filepath.Join(e.dir, "confirm.key")
	if err := os.WriteFile(secret, []byte("a confirmation secret of some length\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfg.Confirm = config.Confirm{PublicURL: "https://notice.example.org/", SecretFile: secret}
	e.cfg.Dispatch.ConfirmWithin = within
	e.startWorker()
	now := time.Now().Truncate(time.Minute)
	var csv strings.Builder
	csv.WriteString("id,department,start,status,kind,patient_id,patient_name,language,email\n")
	for i, h := range hours {
		fmt.Fprintf(&csv, "A-%d,cardiology,%s,booked,outpatient,P-%d,Patient %d,de,p%d@example.org\n",
			i+1, now.Add(time.Duration(h)*time.Hour).Format(time.RFC3339), i+1, i+1, i+1)
	}
	e.importCSV(csv.String())
	ev, err := BuildEvent(EventOptions{Facility: "ukd", OutageID: "ukd-now", EventID: "evt-now", Source: "/scheduling/ukd",
		From: now.Add(-time.Hour), Until: now.Add(14 * 24 * time.Hour), Departments: []string{"*"},
		Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	e.declare(ev)
	return e, rec, ev
}

var confirmLink = regexp.MustCompile(`https://notice\.example\.org/c/[A-Za-z0-9_.-]+`)

// links are the confirmation links of the relay's messages, by recipient,
// each the same in the plain-text and the HTML part.
func links(t *testing.T, rec *relay.Relay) map[string]string {
	t.Helper()
	out := map[string]string{}
	for to, m := range parseAll(t, rec.Messages()) {
		link := confirmLink.FindString(m.text)
		if link == "" || !strings.Contains(m.html, `href="`+link+`"`) {
			t.Fatalf("the message to %s has no confirmation link in both parts:\n%s", to, m.text)
		}
		out[to] = link
	}
	return out
}

// noticeIDs are the notices of the relay's messages, by recipient, read
// from their Message-ID.
func noticeIDs(t *testing.T, rec *relay.Relay) map[string]string {
	t.Helper()
	out := map[string]string{}
	for to, m := range parseAll(t, rec.Messages()) {
		id, err := m.header.MessageID()
		if err != nil || !strings.HasPrefix(id, "n-") {
			t.Fatalf("the message to %s has Message-ID %q: %v", to, id, err)
		}
		out[to], _, _ = strings.Cut(id, "@")
	}
	return out
}

// streamMsgs are every message stored in a stream.
func streamMsgs(t *testing.T, js jetstream.JetStream, stream string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		if m, err := s.GetMsg(ctx, seq); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// TestConfirmationLink: opening the link shows a page and changes nothing
// (so a mail scanner confirms nothing); its button confirms, once however
// often it is pressed; the outcome is revised with a higher revision and
// the summary counts the patient reached; forged links are refused.
func TestConfirmationLink(t *testing.T) {
	e, rec, ev := confirmEnv(t, nil, 30)
	h := e.handler()
	ctx := context.Background()
	link := links(t, rec)["p1@example.org"]
	path := strings.TrimPrefix(link, "https://notice.example.org")
	id := noticeIDs(t, rec)["p1@example.org"]
	if token := strings.TrimPrefix(path, ConfirmPath); len(token) != notifier.ConfirmTokenLen || strings.Contains(token, id[2:8]) {
		t.Errorf("token %q: want %d characters that do not spell the notice id", token, notifier.ConfirmTokenLen)
	}

	do := func(method, path string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("Accept-Language", "en-GB,en;q=0.8")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		w := do(method, path)
		if w.Code != http.StatusOK {
			t.Fatalf("%s the link: %d", method, w.Code)
		}
		if method == http.MethodGet && (!strings.Contains(w.Body.String(), `<form method="post">`) || !strings.Contains(w.Body.String(), `lang="de"`)) {
			t.Errorf("the page does not ask in the patient's language:\n%s", w.Body)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script") {
			t.Errorf("the page's policy %q", csp)
		}
		if w.Header().Get("Referrer-Policy") != "no-referrer" || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("the page may leak or be cached: %v", w.Header())
		}
	}
	if n := len(streamMsgs(t, e.conn.JS, engine.StreamFeedback)); n != 0 {
		t.Fatalf("opening the link stored %d feedback messages, want none", n)
	}

	for range 2 {
		w := do(http.MethodPost, path)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Vielen Dank") {
			t.Fatalf("pressing the button: %d\n%s", w.Code, w.Body)
		}
	}
	waitUntil(t, "the notice confirmed", func() bool {
		_, d, _, _ := e.w.DB.NoticeOutcome(ctx, id)
		return d != nil && d.Confirmed()
	})
	if w := do(http.MethodPost, path); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Vielen Dank") || strings.Contains(w.Body.String(), "<form") {
		t.Errorf("the button pressed after the confirmation: %d\n%s", w.Code, w.Body)
	}
	e.settled()
	if n := len(streamMsgs(t, e.conn.JS, engine.StreamFeedback)); n != 1 {
		t.Errorf("%d feedback messages, want 1: the confirmation counts once", n)
	}
	_, d, _, _ := e.w.DB.NoticeOutcome(ctx, id)
	if d.Outcome != notifier.OutcomeDelivered || d.Channel != "relay" || d.Revision != 2 {
		t.Errorf("outcome %s via %s, revision %d; want delivered via the relay, revision 2", d.Outcome, d.Channel, d.Revision)
	}
	s, err := e.w.DB.Summarize(ctx, ev.Outage.OutageID)
	if err != nil || s.Confirmed != 1 || s.Delivered != 1 || !s.SoonestUnreached.IsZero() {
		t.Errorf("summary %+v, %v; want one delivered and confirmed, nobody unreached", s, err)
	}
	// The API and the metrics say the same.
	if w := do(http.MethodGet, "/api/outages/ukd-now"); !strings.Contains(w.Body.String(), `"confirmed": 1,`) ||
		!strings.Contains(w.Body.String(), `"earliest_unreached_appointment": null`) {
		t.Errorf("the API does not count the confirmation:\n%s", w.Body)
	}
	if w := do(http.MethodGet, "/metrics"); !strings.Contains(w.Body.String(), `notifier_outage_notices{facility="ukd",outage="ukd-now",state="confirmed"} 1`) {
		t.Errorf("the metrics do not count the confirmation:\n%s", w.Body)
	}
	sc := schemas(t)
	for stream, schema := range map[string]string{engine.StreamFeedback: "feedback", engine.StreamDeliveries: "delivery"} {
		for _, m := range streamMsgs(t, e.conn.JS, stream) {
			if err := validate(t, sc[schema], m.Subject, m.Data); err != nil {
				t.Errorf("%s #%d: %v\n%s", stream, m.Sequence, err, m.Data)
			}
		}
	}

	// A link of the earlier long form stays valid.
	mac := hmac.New(sha256.New, []byte("a confirmation secret of some length"))
	mac.Write([]byte("notifier confirm\x00" + id))
	long := ConfirmPath + id + "." + hex.EncodeToString(mac.Sum(nil))[:32]
	if w := do(http.MethodGet, long); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Vielen Dank") {
		t.Errorf("GET a link of the earlier form: %d, want the confirmed page", w.Code)
	}
	other := ConfirmPath + "n-00000000000000000000000000000000." + long[len(long)-32:]
	forged := path[:len(path)-1] + map[bool]string{true: "B", false: "A"}[path[len(path)-1] == 'A']
	for _, bad := range []string{forged, other, ConfirmPath + id, ConfirmPath, long[:len(long)-1] + "x"} {
		w := do(http.MethodPost, bad)
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "not valid") {
			t.Errorf("POST %s: %d, want 404 with the invalid-link page", bad, w.Code)
		}
	}
	// A link whose notice this worker's store does not know (yet): later.
	unknown := ConfirmPath + notifier.ConfirmToken("n-ffffff00000000000000000000000000", []byte("a confirmation secret of some length"))
	if w := do(http.MethodGet, unknown); w.Code != http.StatusServiceUnavailable {
		t.Errorf("GET a link of a notice not known here: %d, want 503", w.Code)
	}
	if w := do(http.MethodDelete, path); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE the link: %d, want 405", w.Code)
	}
}

// TestUnconfirmedUrgentNoticeGoesOnTheCallList: an urgent notice delivered
// but not confirmed within dispatch.confirm_within goes on the call list
// with the reason "not confirmed"; a notice that is not urgent does not; a
// patient who confirms after all leaves the call list again.
func TestUnconfirmedUrgentNoticeGoesOnTheCallList(t *testing.T) {
	e, rec, ev := confirmEnv(t, map[string]time.Duration{"urgent": time.Second}, 3, 4, 24*5)
	h := e.handler()
	ctx := context.Background()
	byPatient := map[string]string{}
	for to, link := range links(t, rec) {
		byPatient[strings.TrimSuffix(to, "@example.org")] = strings.TrimPrefix(link, "https://notice.example.org")
	}
	ids := noticeIDs(t, rec)
	noticeOf := func(p string) string { return ids[p+"@example.org"] }
	waitUntil(t, "both urgent notices on the call list", func() bool {
		rows, _ := e.w.DB.CallEntries(ctx, ev.Outage.OutageID)
		return len(rows) == 2
	})
	rows, _ := e.w.DB.CallEntries(ctx, ev.Outage.OutageID)
	for _, r := range rows {
		last := r.Trail[len(r.Trail)-1]
		if r.PatientID == "P-3" || last.Result != notifier.ResultNotConfirmed || !strings.Contains(last.Reason, "not confirmed") {
			t.Errorf("call list row of %s, last attempt %+v; want the urgent ones, not confirmed", r.PatientID, last)
		}
	}
	// P-1 confirms after all: the notice is delivered again, and off the list.
	req := httptest.NewRequest(http.MethodPost, byPatient["p1"], nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("confirming: %d", w.Code)
	}
	waitUntil(t, "P-1 off the call list", func() bool {
		rows, _ := e.w.DB.CallEntries(ctx, ev.Outage.OutageID)
		return len(rows) == 1 && rows[0].PatientID == "P-2"
	})
	_, d, _, _ := e.w.DB.NoticeOutcome(ctx, noticeOf("p1"))
	if d.Outcome != notifier.OutcomeDelivered || d.Channel != "relay" || !d.Confirmed() || d.Revision != 3 {
		t.Errorf("P-1: %s via %s, confirmed %v, revision %d; want delivered via the relay, confirmed, revision 3", d.Outcome, d.Channel, d.Confirmed(), d.Revision)
	}
	_, d, _, _ = e.w.DB.NoticeOutcome(ctx, noticeOf("p3"))
	if d.Outcome != notifier.OutcomeDelivered || d.Revision != 1 {
		t.Errorf("P-3, not urgent: %s, revision %d; want delivered as it was", d.Outcome, d.Revision)
	}
	s, _ := e.w.DB.Summarize(ctx, ev.Outage.OutageID)
	if s.Confirmed != 1 || s.Manual != 1 || s.Delivered != 2 {
		t.Errorf("summary %+v; want 1 confirmed, 1 on the call list, 2 delivered", s)
	}
}

// TestSMSWithoutLinkIsNotUnconfirmed: an urgent notice that reached its
// patient only by an SMS without room for the confirmation link gave the
// patient nothing to confirm with: dispatch.confirm_within does not put it
// on the call list as not confirmed, while one sent by e-mail, with the
// link, goes there.
func TestSMSWithoutLinkIsNotUnconfirmed(t *testing.T) {
	e := newEnv(t)
	gw := e.startGateway(accept)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()), gw.channel(t, "sms"))
	secret := filepath.Join(e.dir, "confirm.key")
	if err := os.WriteFile(secret, []byte("a confirmation secret of some length\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfg.Confirm = config.Confirm{PublicURL: "https://notice.example.org/", SecretFile: secret}
	e.cfg.Dispatch.ConfirmWithin = map[string]time.Duration{"urgent": time.Second}
	e.startWorker()
	now := time.Now().Truncate(time.Minute)
	at := now.Add(3 * time.Hour).Format(time.RFC3339)
	e.importCSV("id,department,start,status,kind,patient_id,patient_name,language,email,phone\n" +
		"A-1,cardiology," + at + ",booked,outpatient,P-1,Patient 1,de,p1@example.org,\n" +
		"A-2,cardiology," + at + ",booked,outpatient,P-2,Patient 2,de,,+49 211 5550102\n")
	ev, err := BuildEvent(EventOptions{Facility: "ukd", OutageID: "ukd-now", EventID: "evt-now", Source: "/scheduling/ukd",
		From: now.Add(-time.Hour), Until: now.Add(24 * time.Hour), Departments: []string{"*"}, Hotline: "+49 211 81-04444"})
	if err != nil {
		t.Fatal(err)
	}
	e.declare(ev)
	sent := gw.sent()
	if len(sent) != 1 || strings.Contains(sent[0].Text, ConfirmPath) {
		t.Fatalf("SMS %+v: want one, without room for the link", sent)
	}
	ctx := context.Background()
	waitUntil(t, "the e-mailed notice on the call list", func() bool {
		rows, _ := e.w.DB.CallEntries(ctx, ev.Outage.OutageID)
		return len(rows) > 0
	})
	time.Sleep(500 * time.Millisecond) // two more looks at the deadlines
	rows, _ := e.w.DB.CallEntries(ctx, ev.Outage.OutageID)
	if len(rows) != 1 || rows[0].PatientID != "P-1" {
		t.Errorf("call list %+v, want only P-1, whose e-mail carried the link", rows)
	}
	_, d, _, _ := e.w.DB.NoticeOutcome(ctx, sent[0].NoticeID)
	if d.Outcome != notifier.OutcomeDelivered || d.Channel != "sms" || d.CarriesLink() {
		t.Errorf("P-2: %s via %s, carries the link %v; want delivered by SMS, without it", d.Outcome, d.Channel, d.CarriesLink())
	}
}
