package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"mime"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postponement/notifier/calllist"
)

// callListCSV serves an outage's call list as CSV, as a download.
func (s *server) callListCSV(w http.ResponseWriter, r *http.Request) {
	o, rows, ok := s.callList(w, r)
	if !ok {
		return
	}
	var b bytes.Buffer
	if err := calllist.WriteCSV(&b, o, rows); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "calllist-" + o.ID + ".csv"}))
	w.Write(b.Bytes())
}

// callListHTML serves an outage's call list as the page staff work it
// on.
func (s *server) callListHTML(w http.ResponseWriter, r *http.Request) {
	o, rows, ok := s.callList(w, r)
	if !ok {
		return
	}
	s.writeWorklist(w, r, http.StatusOK, o, rows, s.worklist(r, o.ID))
}

// callList reads the outage's call list, or answers the request itself
// (404 for an unknown outage) and reports false. Every answer forbids
// caching: the list holds names and phone numbers.
func (s *server) callList(w http.ResponseWriter, r *http.Request) (calllist.Outage, []calllist.Row, bool) {
	w.Header().Set("Cache-Control", "no-store")
	id := r.PathValue("id")
	if !s.knownHost(r.Host) {
		http.Error(w, "Call lists are served only to an IP address, localhost or a configured host name.", http.StatusForbidden)
		return calllist.Outage{}, nil, false
	}
	if s.CallList == nil {
		http.Error(w, "Call lists are not served here.", http.StatusNotFound)
		return calllist.Outage{}, nil, false
	}
	_, _, known, err := s.DB.Outage(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return calllist.Outage{}, nil, false
	}
	if !known {
		http.Error(w, "No such outage.", http.StatusNotFound)
		return calllist.Outage{}, nil, false
	}
	o, rows, err := s.CallList(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return calllist.Outage{}, nil, false
	}
	return o, rows, true
}

// knownHost reports whether a request's Host is an IP address, localhost
// or one of the configured names. A page that an attacker's name resolves
// to 127.0.0.1 for sends its own name, and is refused.
func (s *server) knownHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if net.ParseIP(host) != nil || strings.EqualFold(host, "localhost") {
		return true
	}
	return slices.ContainsFunc(s.Hosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// styleBlock finds the inline style sheets of a page.
var styleBlock = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// callListCSP is the call list page's policy: like the status page's, but
// allowing the page's own inline style sheet by its hash, worked out from
// the page itself so that a change to its style cannot break it, and its
// forms to post to this server.
var callListCSP = sync.OnceValue(func() string {
	var b bytes.Buffer
	_ = calllist.WriteHTML(&b, calllist.Outage{ID: "x", TimeZone: time.UTC}, nil, time.Time{})
	var hashes []string
	for _, m := range styleBlock.FindAllSubmatch(b.Bytes(), -1) {
		sum := sha256.Sum256(m[1])
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	csp := strings.Replace(pageCSP, "style-src 'self'", "style-src 'self' "+strings.Join(hashes, " "), 1)
	return strings.Replace(csp, "form-action 'none'", "form-action 'self'", 1)
})
