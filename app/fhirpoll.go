package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/importer"
)

// FHIRPoll configures one poll of a FHIR R4 server's Appointments.
type FHIRPoll struct {
	// Base is the FHIR server's base URL (https, or http on loopback).
	Base     string
	Facility string
	// Since, when set, is where to start; else the position the last poll
	// of this base and facility saved; else everything.
	Since time.Time
	// Token is a bearer token. TokenURL, ClientID and ClientSecret get one
	// by the OAuth 2.0 client-credentials grant instead.
	Token                            string
	TokenURL, ClientID, ClientSecret string
	// HTTP is the client (default: one with a 60 s timeout).
	HTTP *http.Client
	// Report is told of every refused appointment, which is also recorded
	// with the workers' refusals.
	Report func(entry int, err error)
}

// FHIRPollResult is what one poll did.
type FHIRPollResult struct {
	Pages    int
	Accepted int
	Rejected int
	// Position is the latest meta.lastUpdated seen: where the next poll
	// starts.
	Position time.Time
}

// maxFHIRPages bounds the pages of one poll.
const maxFHIRPages = 10000

// Poll reads the Appointments changed since the position (with their
// Patients and Locations, _include), page after page through the next
// links, publishes each as the bundle import does (a refused one recorded
// with the reason, as the workers record theirs), and saves the new
// position under the data folder once every page is published.
func (p *FHIRPoll) Poll(ctx context.Context, cfg *config.Config, conn *Conn) (FHIRPollResult, error) {
	var res FHIRPollResult
	fac, err := cfg.Facility(p.Facility)
	if err != nil {
		return res, err
	}
	loc, err := fac.Location()
	if err != nil {
		return res, err
	}
	base, err := url.Parse(strings.TrimRight(p.Base, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "https" && !(base.Scheme == "http" && isLoopback(base.Hostname()))) {
		return res, fmt.Errorf("--base %q: an https URL of a FHIR server (http only on loopback)", p.Base)
	}
	client := p.HTTP
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	token := p.Token
	if token == "" && p.TokenURL != "" {
		if token, err = clientCredentials(ctx, client, p.TokenURL, p.ClientID, p.ClientSecret); err != nil {
			return res, err
		}
	}
	state := filepath.Join(cfg.DataDir, "fhir", p.Facility+"-"+urlKey(base)+".json")
	since := p.Since
	if since.IsZero() {
		since = loadPosition(state)
	}
	res.Position = since
	q := url.Values{"_include": {"Appointment:patient", "Appointment:location"}, "_count": {"100"}, "_sort": {"_lastUpdated"}}
	if !since.IsZero() {
		q.Set("_lastUpdated", "ge"+since.UTC().Format(time.RFC3339))
	}
	next := base.String() + "/Appointment?" + q.Encode()
	for next != "" {
		if res.Pages == maxFHIRPages {
			return res, fmt.Errorf("more than %d pages: the position is not saved", maxFHIRPages)
		}
		page, err := getPage(ctx, client, next, token)
		if err != nil {
			return res, err
		}
		res.Pages++
		var meta struct {
			Link []struct {
				Relation string `json:"relation"`
				URL      string `json:"url"`
			} `json:"link"`
			Entry []struct {
				Resource struct {
					ResourceType string `json:"resourceType"`
					Meta         struct {
						LastUpdated time.Time `json:"lastUpdated"`
					} `json:"meta"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(page, &meta); err != nil {
			return res, fmt.Errorf("page %d: not a FHIR Bundle in JSON: %w", res.Pages, err)
		}
		rows, err := importer.NewFHIR(bytes.NewReader(page), p.Facility, loc)
		if err != nil {
			return res, fmt.Errorf("page %d: %w", res.Pages, err)
		}
		r, err := Import(ctx, conn.JS, AdmitRows(rows, fac), func(entry int, err error) {
			if rerr := recordFHIRReject(ctx, conn, p.Facility, page, err); rerr != nil {
				err = fmt.Errorf("%w (the refusal is not recorded: %v)", err, rerr)
			}
			if p.Report != nil {
				p.Report(entry, err)
			}
		}, nil)
		res.Accepted += r.Accepted
		res.Rejected += r.Rejected
		if err != nil {
			return res, err
		}
		for _, e := range meta.Entry {
			if e.Resource.ResourceType == "Appointment" && e.Resource.Meta.LastUpdated.After(res.Position) {
				res.Position = e.Resource.Meta.LastUpdated
			}
		}
		next = ""
		for _, l := range meta.Link {
			if l.Relation == "next" {
				u, err := url.Parse(l.URL)
				if err != nil || u.Scheme != base.Scheme || u.Host != base.Host {
					return res, fmt.Errorf("page %d: the next link leaves the server %s; not followed", res.Pages, base.Host)
				}
				next = u.String()
			}
		}
	}
	if !res.Position.IsZero() {
		if err := savePosition(state, res.Position); err != nil {
			return res, err
		}
	}
	return res, nil
}

// getPage GETs one page of a search as FHIR JSON.
func getPage(ctx context.Context, client *http.Client, u, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/fhir+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, importer.MaxBundleSize+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("FHIR server answered %s", resp.Status)
	}
	if len(body) > importer.MaxBundleSize {
		return nil, fmt.Errorf("a page larger than %d MiB", importer.MaxBundleSize>>20)
	}
	return body, nil
}

// clientCredentials gets a bearer token by the client-credentials grant.
func clientCredentials(ctx context.Context, client *http.Client, tokenURL, id, secret string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	defer resp.Body.Close()
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token: the server answered %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&t); err != nil || t.AccessToken == "" {
		return "", errors.New("token: no access_token in the answer")
	}
	return t.AccessToken, nil
}

// isLoopback reports whether a host name or address stays on this machine.
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// urlKey names a base URL in a file name.
func urlKey(u *url.URL) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, u.Host+u.Path)
}

func loadPosition(path string) time.Time {
	var s struct {
		Since time.Time `json:"since"`
	}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &s)
	}
	return s.Since
}

func savePosition(path string, t time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]time.Time{"since": t.UTC()})
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
