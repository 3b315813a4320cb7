package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/postponement/notifier/calllist"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
)

// The staff's sign-in and sign-out forms post here.
const (
	signInPath  = "/calllist/login"
	signOutPath = "/calllist/logout"
)

// maxFormBytes bounds a form posted to the call list.
const maxFormBytes = 16 << 10

// writesOff is what the page and refused writes say without staff tokens.
const writesOff = "Claiming rows and recording calls is off: no staff token is configured (calllist.staff_token_file). The list can be read and printed."

// saidMessages are what the page says after a write succeeded, by the
// said parameter of the redirect; nothing else from the URL is shown.
var saidMessages = map[string]string{
	notifier.CallClaim:   "Claimed: the others see that you are calling this patient.",
	notifier.CallRelease: "Released: the patient is free for others to call.",
	notifier.CallOutcome: "Recorded.",
	"signed-in":          "Signed in.",
}

// worklist is what the call list page adds for staff who request it.
func (s *server) worklist(r *http.Request, outageID string) calllist.Worklist {
	live := calllist.Worklist{
		Action: "/outages/" + url.PathEscape(outageID) + "/calls",
		Login:  signInPath, Logout: signOutPath,
		Next:    "/outages/" + url.PathEscape(outageID) + "/calllist.html",
		Message: saidMessages[r.URL.Query().Get("said")],
	}
	if !s.writable() {
		live.Off = writesOff
		return live
	}
	live.Caller, _ = s.Staff.Session(r)
	return live
}

// writable reports whether staff can sign in and write.
func (s *server) writable() bool {
	return s.Staff != nil && len(s.Staff.tokens) > 0 && s.RecordCall != nil
}

// safeNext is where a form returns to: a call list page of this server,
// else the status page.
func safeNext(next string) string {
	if isCallListPath(next) && strings.HasSuffix(next, "/calllist.html") && !strings.ContainsAny(next, "\\?#") {
		return next
	}
	return "/"
}

// signInPage serves the sign-in form on its own, for browsers that need
// it before they can reach a call list.
func (s *server) signInPage(w http.ResponseWriter, r *http.Request) {
	s.writeSignIn(w, r, http.StatusOK, "")
}

func (s *server) writeSignIn(w http.ResponseWriter, r *http.Request, status int, message string) {
	live := calllist.Worklist{Login: signInPath, Next: safeNext(r.FormValue("next")), Message: message}
	if !s.writable() {
		live.Off = writesOff
	}
	var b bytes.Buffer
	if err := calllist.WriteSignIn(&b, live); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", callListCSP())
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// signIn checks a staff token and the typed name and sets the session
// cookie.
func (s *server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if !s.knownHost(r.Host) {
		http.Error(w, "Staff sign in only at an IP address, localhost or a configured host name.", http.StatusForbidden)
		return
	}
	if !s.writable() {
		s.writeSignIn(w, r, http.StatusForbidden, "")
		return
	}
	token := s.Staff.token(r.PostFormValue("token"))
	if token == nil {
		s.log.Warn("staff sign-in refused: wrong token", "remote", r.RemoteAddr)
		s.writeSignIn(w, r, http.StatusForbidden, "That staff token is not valid.")
		return
	}
	name, err := notifier.CallerName(r.PostFormValue("name"))
	if err != nil {
		s.writeSignIn(w, r, http.StatusBadRequest, "Please type your name as the others should see it ("+strings.TrimPrefix(err.Error(), notifier.ErrCallInvalid.Error()+": ")+").")
		return
	}
	http.SetCookie(w, s.Staff.cookie(r, token, name))
	s.log.Info("staff signed in", "by", name, "remote", r.RemoteAddr)
	http.Redirect(w, r, withSaid(safeNext(r.PostFormValue("next")), "signed-in"), http.StatusSeeOther)
}

// signOut ends the session.
func (s *server) signOut(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	http.SetCookie(w, endCookie(r))
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// withSaid adds the said parameter to a local path.
func withSaid(path, said string) string {
	if path == "/" {
		return path
	}
	return path + "?said=" + url.QueryEscape(said)
}

// recordCall takes a claim, a release or an outcome from the call list's
// forms (or a client with a staff token as bearer, which names the caller
// in the field by). Fields: notice_id; action (claim, release or outcome;
// outcome when only outcome is given); outcome (reached, no-answer,
// voicemail, wrong-number, unreachable); seen, the CALLS sequence of the
// row's latest event as the page showed it (optional: without it the
// event is decided on the row as it is). Success redirects to the call
// list (303); a refusal answers 409 with the page as it is now and the
// reason.
func (s *server) recordCall(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	outageID := r.PathValue("id")
	if !s.knownHost(r.Host) {
		http.Error(w, "Call lists are served only to an IP address, localhost or a configured host name.", http.StatusForbidden)
		return
	}
	if !s.writable() {
		http.Error(w, writesOff, http.StatusForbidden)
		return
	}
	by, signedIn := s.Staff.Session(r)
	if !signedIn {
		if !s.Staff.bearer(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="notifier staff"`)
			http.Error(w, "Sign in with a staff token first (the form at "+signInPath+"), or send it as \"Authorization: Bearer <token>\".", http.StatusUnauthorized)
			return
		}
		by = r.PostFormValue("by")
	}
	ev := notifier.CallEvent{NoticeID: r.PostFormValue("notice_id"), OutageID: outageID, Action: r.PostFormValue("action"),
		Outcome: r.PostFormValue("outcome"), By: by}
	if ev.Action == "" && ev.Outcome != "" {
		ev.Action = notifier.CallOutcome
	}
	seen := engine.AnySeq
	if v := r.PostFormValue("seen"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			http.Error(w, fmt.Sprintf("seen: %q is not a sequence number", v), http.StatusBadRequest)
			return
		}
		seen = n
	}
	planned, d, ok, err := s.DB.NoticeOutcome(r.Context(), ev.NoticeID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok || planned.OutageID != outageID || d == nil || d.Outcome != notifier.OutcomeManual {
		http.Error(w, "No such patient on this outage's call list.", http.StatusNotFound)
		return
	}
	ev.Facility = planned.Facility
	done, err := s.RecordCall(r.Context(), ev, seen)
	var conflict *notifier.CallConflict
	switch {
	case errors.As(err, &conflict):
		s.refuseCall(w, r, outageID, fmt.Sprintf("Not recorded: %s is calling this patient, until %s.", conflict.By,
			conflict.Until.In(s.zone(planned.Facility)).Format("15:04")))
		return
	case errors.Is(err, notifier.ErrCallFinished):
		s.refuseCall(w, r, outageID, "Not recorded: "+notifier.ErrCallFinished.Error()+".")
		return
	case errors.Is(err, engine.ErrCallChanged):
		s.refuseCall(w, r, outageID, "Not recorded: somebody else worked this row since your page was loaded. Here it is as it is now; look at it again.")
		return
	case errors.Is(err, notifier.ErrCallInvalid):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		s.log.Error("web: call event not recorded", "notice", ev.NoticeID, "err", err)
		http.Error(w, "Not recorded: the event could not be stored (is NATS reachable?); the log has the reason. Try again.", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, withSaid("/outages/"+url.PathEscape(outageID)+"/calllist.html", done.Action)+"#n-"+url.PathEscape(done.NoticeID), http.StatusSeeOther)
}

// refuseCall answers 409 with the call list as it is now and why the
// write was refused.
func (s *server) refuseCall(w http.ResponseWriter, r *http.Request, outageID, message string) {
	o, rows, ok := s.callList(w, r)
	if !ok {
		return
	}
	live := s.worklist(r, outageID)
	live.Message = message
	s.writeWorklist(w, r, http.StatusConflict, o, rows, live)
}

// writeWorklist writes the call list page for staff with status.
func (s *server) writeWorklist(w http.ResponseWriter, r *http.Request, status int, o calllist.Outage, rows []calllist.Row, live calllist.Worklist) {
	var b bytes.Buffer
	if err := calllist.WriteWorklist(&b, o, rows, s.Now(), live); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", callListCSP())
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
