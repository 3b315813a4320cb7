package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/examples"
	"github.com/postponement/notifier/hl7"
	"github.com/postponement/notifier/relay"
)

// schemaBase is the $id prefix of the schemas: they refer to each other by
// it, so each is added under its $id before any is compiled.
const schemaBase = "https://github.com/postponement/notifier/docs/schemas/"

// schemas compiles the JSON Schemas of docs/schemas, formats asserted.
func schemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	names := []string{"appointment", "patient", "outage-event", "delivery", "feedback", "call-event"}
	for _, name := range names {
		f, err := os.Open(filepath.Join("..", "docs", "schemas", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		if err := c.AddResource(schemaBase+name+".json", doc); err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, name := range names {
		s, err := c.Compile(schemaBase + name + ".json")
		if err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		out[name] = s
	}
	return out
}

func validate(t *testing.T, s *jsonschema.Schema, what string, data []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", what, err)
	}
	return s.Validate(v)
}

// TestMessagesMatchTheSchemas: the shipped example event, and every
// appointment record (from the CSV import, HL7 SIU, the FHIR poll and
// hook), contact record (from HL7 ADT), outage event and delivery outcome
// a run produces, are valid against docs/schemas; input the worker refuses is refused by
// the schemas too; docs/asyncapi.yaml names every subject.
func TestMessagesMatchTheSchemas(t *testing.T) {
	sc := schemas(t)
	if err := validate(t, sc["outage-event"], "examples/outage.json", examples.OutageJSON); err != nil {
		t.Errorf("examples/outage.json: %v", err)
	}

	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.startWorker()
	e.importCSV(fixture)
	hl7Addr := e.startHL7(nil)
	sendHL7(t, hl7Addr, []string{
		adt("A08", "M1", "P-1", "Müller", "Jana", "jana.neu@example.org"),
		strings.Replace(adt("A31", "M2", "P-2", "Clarke", "Emily", "emily@example.org"), "Clarke^Emily", `""`, 1),
	}, hl7.AA, hl7.AA)
	// SIU messages as the standard's examples and a Mirth feed write them.
	for _, name := range []string{"siu-standard.hl7", "siu-mirth.hl7"} {
		data, err := os.ReadFile(filepath.Join("..", "hl7", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var msgs, codes []string
		for _, m := range hl7.SplitFile(data) {
			msgs, codes = append(msgs, string(m)), append(codes, hl7.AA)
		}
		sendHL7(t, hl7Addr, msgs, codes...)
	}
	// Appointments read by a FHIR poll and taken from a Subscription's
	// full-resource notification.
	fhir := newFHIRServer(t, samplePages())
	if _, err := (&FHIRPoll{Base: fhir.URL + "/fhir", Facility: "ukd", Token: "s3cret-token"}).Poll(context.Background(), e.cfg, e.conn); err != nil {
		t.Fatal(err)
	}
	hook := &FHIRHook{Cfg: e.cfg, Conn: e.conn, Facility: "ukd", Secret: "hook-secret", Log: testLogger(t)}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"resourceType": "Bundle", "type": "history", "entry": [`+
		appointment("F-10", "p9", "2020-10-22T08:00:00+02:00", "2020-10-19T10:00:00Z")+","+patient("p9", "Yılmaz", "Ayşe", "ayse@example.org")+`]}`))
	req.Header.Set("Authorization", "Bearer hook-secret")
	answer := httptest.NewRecorder()
	hook.ServeHTTP(answer, req)
	if answer.Code != http.StatusOK || !strings.Contains(answer.Body.String(), "1 accepted") {
		t.Fatalf("the FHIR hook: %d %s", answer.Code, answer.Body)
	}
	ev := sampleOutage(t, "evt-1")
	e.declare(ev)
	resolved, err := BuildEvent(EventOptions{Type: "outage.resolved", Facility: "ukd", OutageID: ev.Outage.OutageID, EventID: "evt-2", Notify: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.PublishEvent(context.Background(), e.conn.JS, resolved); err != nil {
		t.Fatal(err)
	}
	e.settled()

	counts := map[string]int{}
	validated := map[string]bool{}
	for stream, schema := range map[string]string{engine.StreamAppointments: "appointment", engine.StreamPatients: "patient", engine.StreamOutages: "outage-event", engine.StreamDeliveries: "delivery"} {
		s, err := e.conn.JS.Stream(context.Background(), stream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
			m, err := s.GetMsg(context.Background(), seq)
			if err != nil {
				continue
			}
			counts[schema]++
			validated[m.Subject] = true
			if err := validate(t, sc[schema], m.Subject, m.Data); err != nil {
				t.Errorf("%s #%d on %s is not valid: %v\n%s", stream, seq, m.Subject, err, m.Data)
			}
		}
	}
	if counts["appointment"] == 0 || counts["patient"] != 2 || counts["outage-event"] != 2 || counts["delivery"] < 4 {
		t.Errorf("validated %v: want the records, both events and every outcome", counts)
	}
	for id, from := range map[string]string{"A-1": "the CSV import", "2196178": "SIU S12/S13", "2196179": "SIU S15", "2196184": "SIU without SCH-11 or AIL",
		"F-77120": "the Mirth feed", "F-1": "the FHIR poll", "F-10": "the FHIR hook"} {
		if !validated[engine.AppointmentSubject("ukd", id)] {
			t.Errorf("no record of %s (%s) validated", id, from)
		}
	}

	for name, c := range map[string]struct{ schema, doc string }{
		"unknown status":            {"appointment", `{"id":"A-1","facility":"ukd","start":"2020-10-22T09:00:00Z","status":"maybe","patient":{"id":"P-1"}}`},
		"no patient":                {"appointment", `{"id":"A-1","facility":"ukd","start":"2020-10-22T09:00:00Z"}`},
		"start without offset":      {"appointment", `{"id":"A-1","facility":"ukd","start":"2020-10-22T09:00:00","patient":{"id":"P-1"}}`},
		"bidi override in a name":   {"appointment", `{"id":"A-1","facility":"ukd","start":"2020-10-22T09:00:00Z","patient":{"id":"P-1","name":"Jana \u202eM"}}`},
		"contact without a patient": {"patient", `{"facility":"ukd"}`},
		"contact id not a token":    {"patient", `{"facility":"ukd","patient":{"id":"P/1"}}`},
		"contact clears a channel":  {"patient", `{"facility":"ukd","patient":{"id":"P-1"},"clear":["channels"]}`},
		"contact with a bad phone":  {"patient", `{"facility":"ukd","patient":{"id":"P-1","phone":"call me"}}`},
		"declaration without data":  {"outage-event", `{"specversion":"1.0","id":"e","source":"/s","type":"outage.declared","data":{"outage_id":"o","facility":"ukd"}}`},
		"scope in a declaration":    {"outage-event", strings.Replace(string(examples.OutageJSON), `"action"`, `"scope":"0123456789abcdef","action"`, 1)},
		"bad scope in an approval":  {"outage-event", `{"specversion":"1.0","id":"e","source":"/s","type":"outage.approved","data":{"outage_id":"o","facility":"ukd","scope":"xyz"}}`},
		"unknown type":              {"outage-event", `{"specversion":"1.0","id":"e","source":"/s","type":"outage.maybe","data":{}}`},
	} {
		if validate(t, sc[c.schema], name, []byte(c.doc)) == nil {
			t.Errorf("%s: valid against %s, but the worker refuses it", name, c.schema)
		}
	}

	raw, err := os.ReadFile(filepath.Join("..", "docs", "asyncapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AsyncAPI string `yaml:"asyncapi"`
		Channels map[string]struct {
			Address string `yaml:"address"`
		} `yaml:"channels"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docs/asyncapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.AsyncAPI, "3.") {
		t.Errorf("asyncapi %q, want 3.x", doc.AsyncAPI)
	}
	for _, subject := range []string{engine.SubjectAppointments, engine.SubjectPatients, engine.SubjectOutages, engine.SubjectNotices, engine.SubjectDeliveries, engine.SubjectPlans, engine.SubjectCalls} {
		found := false
		for _, ch := range doc.Channels {
			found = found || strings.HasPrefix(ch.Address, subject+".")
		}
		if !found {
			t.Errorf("docs/asyncapi.yaml has no channel for %s.>", subject)
		}
	}
}

// TestREADMEExamplesMatchTheSchemas: the JSON examples of README.md's
// Contracts (an appointment record, a contact record, an outage event) are
// valid against docs/schemas.
func TestREADMEExamplesMatchTheSchemas(t *testing.T) {
	sc := schemas(t)
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, block := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(readme, -1) {
		var doc map[string]any
		if err := json.Unmarshal(block[1], &doc); err != nil {
			t.Errorf("README example is not JSON: %v\n%s", err, block[1])
			continue
		}
		schema := "patient"
		switch {
		case doc["specversion"] != nil:
			schema = "outage-event"
		case doc["start"] != nil:
			schema = "appointment"
		}
		seen[schema]++
		if err := validate(t, sc[schema], "README.md", block[1]); err != nil {
			t.Errorf("README's %s example is not valid: %v\n%s", schema, err, block[1])
		}
	}
	if seen["appointment"] != 1 || seen["patient"] != 1 || seen["outage-event"] != 1 {
		t.Errorf("README examples validated: %v, want one of each", seen)
	}
}
