package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StaffCookie is the session cookie the sign-in form sets.
const StaffCookie = "notifier_staff"

// StaffSessionFor is how long a sign-in lasts: a shift.
const StaffSessionFor = 12 * time.Hour

// MinStaffTokenLen is the shortest staff token accepted.
const MinStaffTokenLen = 16

// Staff knows who may work the call list: whoever presents one of the staff
// tokens, as "Authorization: Bearer <token>" or through the sign-in form,
// which sets a session cookie. The cookie holds the typed name and an
// expiry, signed with the token signed in with (HMAC-SHA256), not the
// token itself; a token taken out of the file ends its sessions at the
// next start.
type Staff struct {
	tokens [][]byte
	now    func() time.Time
}

// NewStaff returns the staff who know one of tokens; now is the clock
// (time.Now when nil).
func NewStaff(tokens []string, now func() time.Time) *Staff {
	s := &Staff{now: now}
	if s.now == nil {
		s.now = time.Now
	}
	for _, t := range tokens {
		s.tokens = append(s.tokens, []byte(t))
	}
	return s
}

// token is the configured token equal to t, or nil. Every token is
// compared, in constant time.
func (s *Staff) token(t string) []byte {
	var found []byte
	for _, k := range s.tokens {
		if subtle.ConstantTimeCompare(k, []byte(t)) == 1 {
			found = k
		}
	}
	return found
}

// bearer reports whether the request carries a staff token as bearer.
func (s *Staff) bearer(r *http.Request) bool {
	t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.token(t) != nil
}

// sessionMAC signs a session's name and expiry with a token.
func sessionMAC(token []byte, name string, exp int64) []byte {
	m := hmac.New(sha256.New, token)
	m.Write([]byte("notifier staff session\x00" + name + "\x00" + strconv.FormatInt(exp, 10)))
	return m.Sum(nil)
}

// cookie is a session cookie for name, signed with token.
func (s *Staff) cookie(r *http.Request, token []byte, name string) *http.Cookie {
	exp := s.now().Add(StaffSessionFor).Unix()
	b64 := base64.RawURLEncoding
	return &http.Cookie{
		Name:     StaffCookie,
		Value:    b64.EncodeToString([]byte(name)) + "." + strconv.FormatInt(exp, 10) + "." + b64.EncodeToString(sessionMAC(token, name, exp)),
		Path:     "/",
		MaxAge:   int(StaffSessionFor / time.Second),
		HttpOnly: true,
		Secure:   overTLS(r),
		SameSite: http.SameSiteStrictMode,
	}
}

// endCookie removes the session cookie.
func endCookie(r *http.Request) *http.Cookie {
	return &http.Cookie{Name: StaffCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: overTLS(r), SameSite: http.SameSiteStrictMode}
}

// overTLS reports whether the browser reached the server over TLS, itself
// or through a proxy that says so.
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// Session is the name of the staff member signed in with the request's
// cookie; ok is false without a valid, unexpired session.
func (s *Staff) Session(r *http.Request) (name string, ok bool) {
	c, err := r.Cookie(StaffCookie)
	if err != nil {
		return "", false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return "", false
	}
	b64 := base64.RawURLEncoding
	raw, err1 := b64.DecodeString(parts[0])
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	mac, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || s.now().Unix() >= exp {
		return "", false
	}
	name = string(raw)
	for _, k := range s.tokens {
		if hmac.Equal(mac, sessionMAC(k, name, exp)) {
			ok = true
		}
	}
	return name, ok
}

// Admits reports whether a request may pass the front door of
// http.token_file without its bearer token, which a browser cannot send:
// the sign-in form itself, and the call list's pages and writes for a
// staff member signed in.
func (s *Staff) Admits(r *http.Request) bool {
	if s == nil || len(s.tokens) == 0 {
		return false
	}
	if r.URL.Path == signInPath || r.URL.Path == signOutPath {
		return true
	}
	if !isCallListPath(r.URL.Path) {
		return false
	}
	_, ok := s.Session(r)
	return ok || s.bearer(r)
}

// isCallListPath reports whether path is one of an outage's call list
// routes.
func isCallListPath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/outages/")
	if !ok {
		return false
	}
	id, tail, ok := strings.Cut(rest, "/")
	return ok && id != "" && (tail == "calllist.html" || tail == "calllist.csv" || tail == "calls")
}
