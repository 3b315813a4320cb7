package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/notifier"
)

// FHIRHook receives the notifications of a FHIR R4 Subscription (the R4
// backport's rest-hook, id-only or full-resource payload) about
// Appointments, and publishes the Appointments as the bundle import does.
type FHIRHook struct {
	Cfg      *config.Config
	Conn     *Conn
	Facility string
	// Secret is what the Subscription sends in its Authorization header
	// ("Bearer <secret>"); required.
	Secret string
	// Poll, when set, is the server the Appointments of id-only
	// notifications are read from (with their Patients and Locations), and
	// the Patients that full-resource notifications refer to but do not
	// carry. Without it, an id-only notification is refused (400) and an
	// Appointment whose Patient is missing is refused as the bundle import
	// refuses it.
	Poll *FHIRPoll
	Log  *slog.Logger
}

// ServeHTTP takes one notification: 200 once every Appointment in it is
// published (refused ones are recorded with the reason), 401 without the
// secret, 400 for a body that is not a notification Bundle.
func (h *FHIRHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a notification Bundle", http.StatusMethodNotAllowed)
		return
	}
	want := []byte("Bearer " + h.Secret)
	if h.Secret == "" || subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, importer.MaxBundleSize+1))
	if err != nil || len(body) > importer.MaxBundleSize {
		outcome(w, http.StatusRequestEntityTooLarge, "the notification is too large")
		return
	}
	var n struct {
		ResourceType string            `json:"resourceType"`
		Entry        []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(body, &n); err != nil || n.ResourceType != "Bundle" {
		outcome(w, http.StatusBadRequest, "not a FHIR Bundle in JSON")
		return
	}
	var appointments, others []json.RawMessage
	var ids []string
	for _, raw := range n.Entry {
		var e struct {
			FullURL  string `json:"fullUrl"`
			Resource *struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
				Parameter    []struct {
					Name      string `json:"name"`
					ValueCode string `json:"valueCode"`
				} `json:"parameter"`
				Type string `json:"type"`
			} `json:"resource"`
		}
		if json.Unmarshal(raw, &e) != nil {
			continue
		}
		switch {
		case e.Resource == nil:
			if id := appointmentID(e.FullURL); id != "" {
				ids = append(ids, id)
			}
		case e.Resource.ResourceType == "Appointment":
			appointments = append(appointments, raw)
		case e.Resource.ResourceType == "SubscriptionStatus" || e.Resource.ResourceType == "Parameters":
			// The notification's status: a handshake or heartbeat carries
			// nothing to publish.
		default:
			others = append(others, raw)
		}
	}
	ctx := r.Context()
	res := ImportResult{}
	if len(appointments) > 0 && h.Poll != nil {
		patients, err := h.missingPatients(ctx, appointments, others)
		if err != nil {
			outcome(w, http.StatusBadGateway, err.Error())
			return
		}
		others = append(others, patients...)
	}
	if len(appointments) > 0 {
		r, err := h.publish(ctx, append(appointments, others...))
		if err != nil {
			outcome(w, http.StatusInternalServerError, "not stored: "+err.Error())
			return
		}
		res.Accepted += r.Accepted
		res.Rejected += r.Rejected
	}
	if len(ids) > 0 {
		if h.Poll == nil {
			outcome(w, http.StatusBadRequest, "an id-only notification, but no FHIR server to read the Appointments from (--base)")
			return
		}
		for _, id := range ids {
			r, err := h.fetch(ctx, id)
			if err != nil {
				outcome(w, http.StatusBadGateway, "reading Appointment/"+id+": "+err.Error())
				return
			}
			res.Accepted += r.Accepted
			res.Rejected += r.Rejected
		}
	}
	h.Log.Info("fhir: notification", "accepted", res.Accepted, "rejected", res.Rejected)
	w.Header().Set("Content-Type", "application/fhir+json")
	fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational","diagnostics":"%d accepted, %d refused"}]}`, res.Accepted, res.Rejected)
}

// publish imports entries as one collection Bundle.
func (h *FHIRHook) publish(ctx context.Context, entries []json.RawMessage) (ImportResult, error) {
	var b bytes.Buffer
	b.WriteString(`{"resourceType":"Bundle","type":"collection","entry":[`)
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteString(`]}`)
	return h.importBundle(ctx, b.Bytes())
}

func (h *FHIRHook) importBundle(ctx context.Context, bundle []byte) (ImportResult, error) {
	fac, err := h.Cfg.Facility(h.Facility)
	if err != nil {
		return ImportResult{}, err
	}
	loc, err := fac.Location()
	if err != nil {
		return ImportResult{}, err
	}
	rows, err := importer.NewFHIR(bytes.NewReader(bundle), h.Facility, loc)
	if err != nil {
		return ImportResult{}, err
	}
	return Import(ctx, h.Conn.JS, AdmitRows(rows, fac), func(_ int, err error) {
		if rerr := recordFHIRReject(ctx, h.Conn, h.Facility, bundle, err); rerr != nil {
			h.Log.Error("fhir: recording the refusal", "err", rerr)
		}
	}, nil)
}

// recordFHIRReject records a resource refused from a FHIR document with
// the workers' refusals (plans._, shown by notifier report); its id is the
// reason and the document's digest, so the same document read again is
// recorded once.
func recordFHIRReject(ctx context.Context, conn *Conn, facility string, doc []byte, why error) error {
	sum := sha256.Sum256(append([]byte(why.Error()), doc...))
	rej := &notifier.Reject{At: time.Now().UTC(), Stream: "FHIR", Subject: "fhir." + facility, Reason: why.Error()}
	return engine.RecordReject(ctx, conn.JS, "fhir:"+hex.EncodeToString(sum[:16]), rej)
}

// fetch reads one Appointment with its Patient and Location by search.
func (h *FHIRHook) fetch(ctx context.Context, id string) (ImportResult, error) {
	q := url.Values{"_id": {id}, "_include": {"Appointment:patient", "Appointment:location"}}
	page, err := getPage(ctx, &http.Client{Timeout: 30 * time.Second}, strings.TrimRight(h.Poll.Base, "/")+"/Appointment?"+q.Encode(), h.Poll.Token)
	if err != nil {
		return ImportResult{}, err
	}
	return h.importBundle(ctx, page)
}

// missingPatients reads from the server the Patients the appointments
// refer to ("Patient/<id>" or a URL ending so) that the notification does
// not carry, as entries to import with them: a full-resource notification
// often holds the Appointment alone.
func (h *FHIRHook) missingPatients(ctx context.Context, appointments, others []json.RawMessage) ([]json.RawMessage, error) {
	have := map[string]bool{}
	for _, raw := range others {
		var e struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
			} `json:"resource"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Resource.ResourceType == "Patient" {
			have[e.Resource.ID] = true
		}
	}
	base := strings.TrimRight(h.Poll.Base, "/")
	var out []json.RawMessage
	for _, raw := range appointments {
		var e struct {
			Resource struct {
				Participant []struct {
					Actor struct {
						Reference string `json:"reference"`
					} `json:"actor"`
				} `json:"participant"`
			} `json:"resource"`
		}
		if json.Unmarshal(raw, &e) != nil {
			continue
		}
		for _, p := range e.Resource.Participant {
			id := referenceID(p.Actor.Reference, "Patient")
			if id == "" || have[id] {
				continue
			}
			have[id] = true
			u := base + "/Patient/" + id
			body, err := getPage(ctx, &http.Client{Timeout: 30 * time.Second}, u, h.Poll.Token)
			if err != nil {
				return nil, fmt.Errorf("reading Patient/%s: %w", id, err)
			}
			var res struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
			}
			if err := json.Unmarshal(body, &res); err != nil || res.ResourceType != "Patient" || res.ID != id {
				return nil, fmt.Errorf("reading Patient/%s: the server did not answer with that Patient", id)
			}
			entry, err := json.Marshal(map[string]any{"fullUrl": u, "resource": json.RawMessage(body)})
			if err != nil {
				return nil, err
			}
			out = append(out, entry)
		}
	}
	return out, nil
}

// appointmentID reads the id of ".../Appointment/<id>[/_history/n]".
func appointmentID(fullURL string) string { return referenceID(fullURL, "Appointment") }

// referenceID reads the id of a reference or URL "[...]/<typ>/<id>[/_history/n]".
func referenceID(ref, typ string) string {
	parts := strings.Split(strings.TrimRight(ref, "/"), "/")
	for i := len(parts) - 2; i >= 0; i-- {
		if parts[i] == typ && notifier.ValidID(parts[i+1]) {
			return parts[i+1]
		}
	}
	return ""
}

// outcome answers with an OperationOutcome.
func outcome(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	b, _ := json.Marshal(text)
	fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":%s}]}`, b)
}
