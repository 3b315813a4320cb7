package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/web"
)

// staffToken is the test's staff token.
const staffToken = "staff-token-0123456789"

// withStaff configures a staff token file and a short claim.
func withStaff(t *testing.T) func(*config.Config) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "staff-tokens")
	if err := os.WriteFile(path, []byte("# ward 3\n"+staffToken+"\n\nanother-staff-token-42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) {
		c.CallList.StaffTokenFile = path
		c.CallList.ClaimFor = time.Minute
	}
}

// worklistRun is a run with a staff token whose outage put three patients
// on the call list; it returns their notice ids.
func worklistRun(t *testing.T, change func(*config.Config)) (*run, []string) {
	t.Helper()
	r := startRunWith(t, nil, change)
	r.importSample(30)
	r.wait(r.declare("ukd-calls"))
	return r, r.manualIDs("ukd-calls")
}

// manualIDs are the notices on the outage's call list in the run's store.
func (r *run) manualIDs(outageID string) []string {
	r.t.Helper()
	entries, err := r.w.DB.CallEntries(context.Background(), outageID)
	if err != nil {
		r.t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.NoticeID)
	}
	if len(ids) == 0 {
		r.t.Fatal("nobody on the call list")
	}
	return ids
}

// callState is where the notice's row stands in the run's store.
func (r *run) callState(outageID, noticeID string) notifier.CallState {
	r.t.Helper()
	entries, err := r.w.DB.CallEntries(context.Background(), outageID)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, e := range entries {
		if e.NoticeID == noticeID {
			return e.Call
		}
	}
	r.t.Fatalf("notice %s not on the call list", noticeID)
	return notifier.CallState{}
}

// post sends a form to the run's server without following redirects;
// header adds request headers.
func (r *run) post(path string, form url.Values, header http.Header) response {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return r.do(req)
}

// getWith fetches a path with request headers, without following
// redirects.
func (r *run) getWith(path string, header http.Header) response {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.srv.URL+path, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header = header
	return r.do(req)
}

func (r *run) do(req *http.Request) response {
	r.t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return response{resp, string(body)}
}

// signIn signs in through the form and returns the session cookie.
func (r *run) signIn(name string) *http.Cookie {
	r.t.Helper()
	resp := r.post("/calllist/login", url.Values{"token": {staffToken}, "name": {name}, "next": {"/outages/ukd-calls/calllist.html"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		r.t.Fatalf("sign in: %s %s", resp.Status, resp.body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == web.StaffCookie {
			return c
		}
	}
	r.t.Fatal("sign in set no cookie")
	return nil
}

func cookieHeader(c *http.Cookie) http.Header { return http.Header{"Cookie": {c.String()}} }

func TestWorklistWithoutStaffTokenIsReadOnly(t *testing.T) {
	r, ids := worklistRun(t, func(*config.Config) {})
	resp := r.post("/outages/ukd-calls/calls", url.Values{"notice_id": {ids[0]}, "action": {"claim"}, "by": {"Anna"}},
		http.Header{"Authorization": {"Bearer " + staffToken}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.body, "calllist.staff_token_file") {
		t.Errorf("write without a staff token configured: %s %q, want 403 naming calllist.staff_token_file", resp.Status, resp.body)
	}
	page := r.fetch("/outages/ukd-calls/calllist.html")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "no staff token is configured") || strings.Contains(page.body, "<form") {
		t.Errorf("page %s: want it readable, saying writes are off, without forms", page.Status)
	}
	if got := r.post("/calllist/login", url.Values{"token": {staffToken}, "name": {"Anna"}}, nil); got.StatusCode != http.StatusForbidden {
		t.Errorf("sign in without a staff token configured: %s, want 403", got.Status)
	}
}

func TestWorklistWrites(t *testing.T) {
	r, ids := worklistRun(t, withStaff(t))
	claim := func(id, by string) url.Values {
		return url.Values{"notice_id": {id}, "action": {"claim"}, "by": {by}}
	}
	t.Run("without a token, refused", func(t *testing.T) {
		if got := r.post("/outages/ukd-calls/calls", claim(ids[0], "Anna"), nil); got.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s, want 401", got.Status)
		}
		if got := r.post("/outages/ukd-calls/calls", claim(ids[0], "Anna"), http.Header{"Authorization": {"Bearer wrong-token-0123456789"}}); got.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong token: %s, want 401", got.Status)
		}
		if s := r.callState("ukd-calls", ids[0]); s.ClaimedBy != "" {
			t.Errorf("claimed by %q after refused writes", s.ClaimedBy)
		}
	})
	t.Run("with the token as bearer", func(t *testing.T) {
		got := r.post("/outages/ukd-calls/calls", claim(ids[0], "Anna Weiß"), http.Header{"Authorization": {"Bearer another-staff-token-42"}})
		if got.StatusCode != http.StatusSeeOther || !strings.HasPrefix(got.Header.Get("Location"), "/outages/ukd-calls/calllist.html?said=claim#n-") {
			t.Fatalf("%s to %q, want 303 to the call list", got.Status, got.Header.Get("Location"))
		}
		if s := r.callState("ukd-calls", ids[0]); s.ClaimedBy != "Anna Weiß" {
			t.Errorf("claimed by %q, want Anna Weiß", s.ClaimedBy)
		}
	})
	t.Run("a wrong token does not sign in", func(t *testing.T) {
		got := r.post("/calllist/login", url.Values{"token": {"wrong-token-0123456789"}, "name": {"Ben"}}, nil)
		if got.StatusCode != http.StatusForbidden || len(got.Cookies()) != 0 {
			t.Errorf("%s with %d cookies, want 403 and none", got.Status, len(got.Cookies()))
		}
	})
	t.Run("signing in sets a strict HttpOnly cookie, Secure behind TLS", func(t *testing.T) {
		c := r.signIn("Ben Kaya")
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || strings.Contains(c.Value, staffToken) {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP, without the token", c)
		}
		got := r.post("/calllist/login", url.Values{"token": {staffToken}, "name": {"Ben"}}, http.Header{"X-Forwarded-Proto": {"https"}})
		if cs := got.Cookies(); len(cs) != 1 || !cs[0].Secure {
			t.Errorf("cookies %v over TLS, want one Secure cookie", cs)
		}
	})
	t.Run("the cookie lets staff write under their name", func(t *testing.T) {
		c := r.signIn("Ben Kaya")
		page := r.getWith("/outages/ukd-calls/calllist.html", cookieHeader(c))
		if !strings.Contains(page.body, "Ben Kaya</strong>") || !strings.Contains(page.body, `value="claim"`) {
			t.Errorf("the page does not show Ben signed in with forms")
		}
		// The name typed in the form wins over a by field.
		got := r.post("/outages/ukd-calls/calls", url.Values{"notice_id": {ids[1]}, "outcome": {"no-answer"}, "by": {"Mallory"}, "seen": {"0"}}, cookieHeader(c))
		if got.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s %s", got.Status, got.body)
		}
		if s := r.callState("ukd-calls", ids[1]); s.OutcomeBy != "Ben Kaya" || s.Attempts != 1 || s.Outcome != notifier.CallNoAnswer {
			t.Errorf("row %+v, want one no-answer by Ben Kaya", s)
		}
		// The same form again (a double tap) counts once.
		r.post("/outages/ukd-calls/calls", url.Values{"notice_id": {ids[1]}, "outcome": {"no-answer"}, "seen": {"0"}}, cookieHeader(c))
		if s := r.callState("ukd-calls", ids[1]); s.Attempts != 1 {
			t.Errorf("%d attempts after the form was sent twice, want 1", s.Attempts)
		}
	})
	t.Run("a row somebody else holds is refused with the reason", func(t *testing.T) {
		c := r.signIn("Ben Kaya")
		got := r.post("/outages/ukd-calls/calls", url.Values{"notice_id": {ids[0]}, "action": {"claim"}}, cookieHeader(c))
		if got.StatusCode != http.StatusConflict || !strings.Contains(got.body, "Anna Weiß is calling this patient") {
			t.Errorf("%s, want 409 naming Anna", got.Status)
		}
	})
	t.Run("cross-origin posts are refused", func(t *testing.T) {
		c := r.signIn("Ben Kaya")
		for _, h := range []http.Header{
			{"Sec-Fetch-Site": {"cross-site"}},
			{"Origin": {"https://evil.example"}},
		} {
			for k, v := range cookieHeader(c) {
				h[k] = v
			}
			got := r.post("/outages/ukd-calls/calls", url.Values{"notice_id": {ids[2]}, "action": {"claim"}}, h)
			if got.StatusCode != http.StatusForbidden {
				t.Errorf("%v: %s, want 403", h, got.Status)
			}
			if got := r.post("/calllist/login", url.Values{"token": {staffToken}, "name": {"Eve"}}, h); got.StatusCode != http.StatusForbidden {
				t.Errorf("sign in %v: %s, want 403", h, got.Status)
			}
		}
		if s := r.callState("ukd-calls", ids[2]); s.ClaimedBy != "" {
			t.Errorf("claimed by %q through a cross-origin post", s.ClaimedBy)
		}
	})
	t.Run("a notice not on this list is refused", func(t *testing.T) {
		c := r.signIn("Ben Kaya")
		if got := r.post("/outages/other/calls", url.Values{"notice_id": {ids[2]}, "action": {"claim"}}, cookieHeader(c)); got.StatusCode != http.StatusNotFound {
			t.Errorf("%s, want 404", got.Status)
		}
	})
	t.Run("a stale page is refused", func(t *testing.T) {
		c := r.signIn("Ben Kaya")
		seen := strconv.Itoa(0)
		got := r.post("/outages/ukd-calls/calls", url.Values{"notice_id": {ids[0]}, "outcome": {"reached"}, "seen": {seen}}, cookieHeader(c))
		if got.StatusCode != http.StatusConflict {
			t.Errorf("%s, want 409", got.Status)
		}
	})
}

func TestWorklistBehindTheBearerToken(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "http-token")
	if err := os.WriteFile(tokenFile, []byte("page-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	staff := withStaff(t)
	r, ids := worklistRun(t, func(c *config.Config) { staff(c); c.HTTP.TokenFile = tokenFile })
	if got := r.getWith("/outages/ukd-calls/calllist.html", nil); got.StatusCode != http.StatusUnauthorized {
		t.Errorf("call list without token or session: %s, want 401", got.Status)
	}
	if got := r.getWith("/calllist/login", nil); got.StatusCode != http.StatusOK || !strings.Contains(got.body, `name="token"`) {
		t.Errorf("sign-in form: %s, want it served", got.Status)
	}
	c := r.signIn("Anna Weiß")
	if got := r.getWith("/outages/ukd-calls/calllist.html", cookieHeader(c)); got.StatusCode != http.StatusOK {
		t.Errorf("call list with a session: %s, want 200", got.Status)
	}
	if got := r.post("/outages/ukd-calls/calls", url.Values{"notice_id": {ids[0]}, "action": {"claim"}}, cookieHeader(c)); got.StatusCode != http.StatusSeeOther {
		t.Errorf("claim with a session: %s %s", got.Status, got.body)
	}
	if got := r.getWith("/api/outages", cookieHeader(c)); got.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API with only a staff session: %s, want 401", got.Status)
	}
	if got := r.getWith("/outages/ukd-calls/calllist.html", http.Header{"Authorization": {"Bearer page-token-0123456789"}}); got.StatusCode != http.StatusOK {
		t.Errorf("call list with the page's token: %s, want 200", got.Status)
	}
}
