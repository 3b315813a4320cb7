package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/hl7"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// siu writes a SIU message of the given trigger for one appointment of the
// sample outage's week (start as HL7 writes it, facility time).
func siu(trigger, control, id, patient, family, given, start, charset string, extra ...string) string {
	msh := fmt.Sprintf(`MSH|^~\&|ORBIS|UKD|NOTIFIER|UKD|20201020093000||SIU^%s^SIU_S12|%s|P|2.5|||||DE|%s`, trigger, control, charset)
	segs := []string{msh,
		fmt.Sprintf("SCH||%s^ORBIS||||||OUTPATIENT|||^^30^%s||||||||||||||BOOKED", id, start),
		fmt.Sprintf("PID|1||%s^^^UKD^MR||%s^%s||||||||^NET^Internet^%s@example.org||de", patient, family, given, strings.ToLower(given)),
		"AIS|1||CARD^Kardiologie|" + start,
		`AIL|1||Kardiologie^^^UKD^^^^^Geb\T\13, Ebene 2`,
	}
	return strings.Join(append(segs, extra...), "\r") + "\r"
}

// startHL7 serves facility ukd's MLLP listener on a loopback port until
// the test ends and returns its address; wrap, when set, wraps its handler.
func (e *env) startHL7(wrap func(handle func(context.Context, []byte) []byte) func(context.Context, []byte) []byte) string {
	e.t.Helper()
	srv, err := HL7Server(e.cfg, "ukd", e.conn, testLogger(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	if wrap != nil {
		srv.Handle = wrap(srv.Handle)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	e.t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// TestHL7FeedsTheReplica: SIU messages over a real MLLP connection become
// the replica's appointments: new bookings (one in 8859/1 with umlauts, one
// with a Z-segment), a cancellation, a reschedule out of the outage's
// window; an unusable message is answered AE and recorded, another message
// type AR. The outage then tells exactly the one patient still affected.
func TestHL7FeedsTheReplica(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.startWorker()
	addr := e.startHL7(nil)

	latin1, _ := charmap.ISO8859_1.NewEncoder().String(siu("S12", "M2", "H-2", "P-2", "Größe", "Jürgen", "20201023100000", "8859/1"))
	msgs := []string{
		siu("S12", "M1", "H-1", "P-1", "Müller", "Jana", "20201022093000", "UNICODE UTF-8"),
		latin1,
		siu("S12", "M3", "H-3", "P-3", "Yılmaz", "Ayşe", "20201024140000", "", "ZXY|1|custom^data~more"),
		strings.Replace(siu("S12", "M4", "H-4", "P-4", "Clarke", "Emily", "20201024140000", ""), "^^30^20201024140000", "^^30^not a time", 1),
		strings.Replace(siu("S12", "M5", "H-5", "P-5", "Doe", "John", "20201024140000", ""), "SIU^S12", "ADT^A01", 1),
		siu("S15", "M6", "H-1", "P-1", "Müller", "Jana", "20201022093000", ""),
		siu("S13", "M7", "H-2", "P-2", "Grosse", "Juergen", "20201110100000", ""),
	}
	acks := sendHL7(t, addr, msgs, hl7.AA, hl7.AA, hl7.AA, hl7.AE, hl7.AR, hl7.AA, hl7.AA)
	if _, text, _ := hl7.AckCode(acks[3]); !strings.Contains(text, "SCH-11.4") {
		t.Errorf("the AE does not name the field: %q", text)
	}

	got := map[string]notifier.AffectedAppointment{}
	// The replica has applied every record once the last one (H-2's
	// reschedule) is there.
	waitUntil(t, "the replica holds the three appointments, H-2 rescheduled", func() bool {
		clear(got)
		e.w.DB.AppointmentsByID(context.Background(), "ukd", []string{"H-1", "H-2", "H-3"}, func(a notifier.AffectedAppointment) error {
			got[a.ID] = a
			return nil
		})
		return len(got) == 3 && got["H-2"].Start.Month() == time.November
	})
	if got["H-1"].Status != "cancelled" {
		t.Errorf("H-1 after S15: status %q, want cancelled", got["H-1"].Status)
	}
	if s := got["H-2"].Start; !s.Equal(time.Date(2020, 11, 10, 10, 0, 0, 0, berlin)) || got["H-2"].Patient.Name != "Juergen Grosse" {
		t.Errorf("H-2 after S13: %v %q", s, got["H-2"].Patient.Name)
	}
	if h3 := got["H-3"]; h3.Patient.Name != "Ayşe Yılmaz" || h3.Patient.Language != "de" || h3.Location != "Geb&13, Ebene 2" || h3.Patient.Email != "ayşe@example.org" && h3.Patient.Email != "ayse@example.org" {
		t.Errorf("H-3: %+v", h3)
	}
	waitUntil(t, "the unusable message recorded as refused", func() bool {
		rejects, _ := e.w.DB.Rejects(context.Background())
		for _, r := range rejects {
			if r.Stream == "HL7" && strings.Contains(r.Reason, "SCH-11.4") {
				return true
			}
		}
		return false
	})

	s := e.declare(sampleOutage(t, "evt-1"))
	if s.Planned != 1 {
		t.Errorf("summary %+v: want one notice, for the one appointment still booked in the window", s)
	}
}

// TestHL7NotStoredClosesUnanswered: while JetStream cannot store records
// (the APPOINTMENTS stream is gone), a message gets no ACK at all: the
// connection closes before the next message is read, so the interface
// engine cannot move past it. Once JetStream is back, sending the queue
// again stores both, in order: the cancellation is the latest record.
func TestHL7NotStoredClosesUnanswered(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := engine.EnsureStreams(ctx, e.conn.JS, 1, engine.StreamAppointments, engine.StreamPlans); err != nil {
		t.Fatal(err)
	}
	addr := e.startHL7(nil)
	if err := e.conn.JS.DeleteStream(ctx, engine.StreamAppointments); err != nil {
		t.Fatal(err)
	}
	queue := [][]byte{
		[]byte(siu("S12", "M1", "H-1", "P-1", "Müller", "Jana", "20201022093000", "")),
		[]byte(siu("S15", "M2", "H-1", "P-1", "Müller", "Jana", "20201022093000", "")),
	}
	acks, err := hl7.Send(ctx, addr, nil, queue, 5*time.Second)
	if err == nil || len(acks) != 0 {
		t.Fatalf("with JetStream unable to store: %d ACKs (%v); want the connection closed unanswered", len(acks), err)
	}

	if err := engine.EnsureStreams(ctx, e.conn.JS, 1, engine.StreamAppointments); err != nil {
		t.Fatal(err)
	}
	sendHL7(t, addr, []string{string(queue[0]), string(queue[1])}, hl7.AA, hl7.AA)
	s, err := e.conn.JS.Stream(ctx, engine.StreamAppointments)
	if err != nil {
		t.Fatal(err)
	}
	last, err := s.GetLastMsgForSubject(ctx, engine.AppointmentSubject("ukd", "H-1"))
	if err != nil {
		t.Fatal(err)
	}
	var a notifier.Appointment
	if err := json.Unmarshal(last.Data, &a); err != nil {
		t.Fatal(err)
	}
	if a.Status != "cancelled" || last.Sequence != 2 {
		t.Errorf("H-1's latest record: sequence %d, status %q; want 2, cancelled", last.Sequence, a.Status)
	}
}

// TestHL7SpecExamples: the messages of hl7/testdata, SIU S12, S13, S14 and
// S15 in the shape of the HL7 v2.5 standard's examples (one without the
// deprecated SCH-11 and without AIL) and as Mirth passes
// on a German KIS's feed (Z-segments, repetitions, escapes, 8859/1
// umlauts), sent as one batch over a real MLLP session: every ACK echoes
// its message's control id, and the replica then holds exactly the
// expected records; the messages answered AE or AR left nothing in it.
func TestHL7SpecExamples(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	addr := e.startHL7(nil)

	var batch [][]byte
	var want []string
	for _, f := range []struct {
		name  string
		codes []string
	}{
		{"siu-standard.hl7", []string{hl7.AA, hl7.AA, hl7.AA, hl7.AA, hl7.AA, hl7.AA, hl7.AA}},
		{"siu-mirth.hl7", []string{hl7.AA, hl7.AA, hl7.AA}},
		{"siu-refused.hl7", []string{hl7.AE, hl7.AR, hl7.AE}},
	} {
		data, err := os.ReadFile(filepath.Join("..", "hl7", "testdata", f.name))
		if err != nil {
			t.Fatal(err)
		}
		msgs := hl7.SplitFile(data)
		if len(msgs) != len(f.codes) {
			t.Fatalf("%s: %d messages, want %d", f.name, len(msgs), len(f.codes))
		}
		batch = append(batch, msgs...)
		want = append(want, f.codes...)
	}
	acks, err := hl7.Send(context.Background(), addr, nil, batch, 10*time.Second)
	if err != nil || len(acks) != len(batch) {
		t.Fatalf("%d ACKs of %d messages: %v", len(acks), len(batch), err)
	}
	for i, a := range acks {
		ack, err := hl7.Parse(a)
		if err != nil {
			t.Fatalf("ACK %d: %v", i+1, err)
		}
		control := hl7.ParseHeader(batch[i]).Field("MSH", 10)
		if code := ack.Field("MSA", 1); code != want[i] || ack.Field("MSA", 2) != control {
			t.Errorf("message %d (%s): ACK %s for %q, want %s for it", i+1, control, code, ack.Field("MSA", 2), want[i])
		}
	}

	s, err := e.conn.JS.Stream(context.Background(), engine.StreamAppointments)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.LastSeq != 10 {
		t.Errorf("APPOINTMENTS holds %d records, want the 10 of the messages answered AA", info.State.LastSeq)
	}
	waitUntil(t, "the replica has applied every record", func() bool { return e.w.ReplicaApplied() >= info.State.LastSeq })

	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	expected := map[string]notifier.Appointment{
		"2196178": {Department: "CARD", Location: "Building 13, level 2", Start: at("2020-11-03 13:30"), End: at("2020-11-03 14:30"), Status: "booked", Kind: "outpatient",
			Patient: notifier.Patient{ID: "42", Name: "Paul Smith", Language: "en", Email: "paul.smith@example.org", Phone: "+492115551234"}},
		"2196179": {Department: "ORTH", Location: "Building 2, ground floor", Start: at("2020-10-23 14:00"), End: at("2020-10-23 14:30"), Status: "cancelled", Kind: "elective",
			Patient: notifier.Patient{ID: "43", Name: "Maria Schmidt", Language: "de", Email: "maria.schmidt@example.org", Phone: "+49 211 5552345"}},
		"2196180": {Department: "CARD", Location: "Building 13, level 2", Start: at("2020-10-26 10:15"), End: at("2020-10-26 11:00"), Status: "booked", Kind: "outpatient",
			Patient: notifier.Patient{ID: "44", Name: "Chidi Okafor", Language: "en", Phone: "+4917012345678"}},
		// Without SCH-11 and AIL, as v2.5 allows: start AIS-4, end AIS-4 plus
		// AIS-7 minutes, department AIS-3.1.
		"2196184": {Department: "DERM", Start: at("2020-10-27 08:30"), End: at("2020-10-27 08:50"), Status: "booked", Kind: "outpatient",
			Patient: notifier.Patient{ID: "48", Name: "Lena Weber", Language: "de", Email: "lena.weber@example.org", Phone: "+4915112345678"}},
		"F-77120": {Department: "Kardiologie", Location: "Gebäude 13| Ebene 2, Raum 2.014", Start: at("2020-10-24 11:15"), End: at("2020-10-24 11:45"), Status: "booked", Kind: "outpatient",
			Patient: notifier.Patient{ID: "0004711", Name: "Jürgen Müller-Lüdenscheidt", Language: "de", Email: "juergen.mueller@example.org", Phone: "+49 170 7654321"}},
		"F-77121": {Department: "Neurologie", Location: `Ebene 1 \ Raum 1.09 (geändert)`, Start: at("2020-10-25 09:40"), End: at("2020-10-25 10:00"), Status: "booked", Kind: "outpatient",
			Patient: notifier.Patient{ID: "0004712", Name: "Renée Großmann", Language: "fr", Email: "renee.grossmann@example.org", Phone: "+49 171 2223334"}},
	}
	ids := []string{"2196181", "2196182", "2196183"} // answered AE, AR, AE
	for id := range expected {
		ids = append(ids, id)
	}
	got := map[string]notifier.Appointment{}
	if err := e.w.DB.AppointmentsByID(context.Background(), "ukd", ids, func(a notifier.AffectedAppointment) error {
		got[a.ID] = a.Appointment
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.w.DB.CountAppointments(context.Background(), "ukd"); err != nil || n != len(expected) {
		t.Errorf("the replica holds %d appointments (%v), want %d", n, err, len(expected))
	}
	for id, w := range expected {
		w.ID, w.Facility = id, "ukd"
		g, ok := got[id]
		if !ok {
			t.Errorf("%s: not in the replica", id)
			continue
		}
		if !g.Start.Equal(w.Start) || !g.End.Equal(w.End) {
			t.Errorf("%s: %v to %v, want %v to %v", id, g.Start, g.End, w.Start, w.End)
		}
		g.Start, g.End, w.Start, w.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		g.Patient.Channels = nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", id, g, w)
		}
	}
	for _, id := range ids[:3] {
		if _, ok := got[id]; ok {
			t.Errorf("%s, answered %s, is in the replica", id, map[string]string{"2196181": "AE", "2196182": "AR", "2196183": "AE"}[id])
		}
	}
	waitUntil(t, "both messages answered AE recorded as refused", func() bool {
		rejects, _ := e.w.DB.Rejects(context.Background())
		var noStart, charset bool
		for _, r := range rejects {
			noStart = noStart || r.Stream == "HL7" && strings.Contains(r.Reason, "SCH-11.4")
			charset = charset || r.Stream == "HL7" && strings.Contains(r.Reason, "MSH-18")
		}
		return noStart && charset
	})
}

// TestHL7RescheduleIntoTheWindow: S13 moves an appointment booked after
// the outage into its window, another S13 moves one out of it, and S15
// cancels one inside it: the outage then tells the moved-in patient, of
// the new time, and nobody else.
func TestHL7RescheduleIntoTheWindow(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.startWorker()
	addr := e.startHL7(nil)
	sendHL7(t, addr, []string{
		siu("S12", "M1", "H-1", "P-1", "Müller", "Jana", "20201105100000", ""),
		siu("S12", "M2", "H-2", "P-2", "Clarke", "Emily", "20201022093000", ""),
		siu("S12", "M3", "H-3", "P-3", "Yilmaz", "Ayse", "20201024140000", ""),
		siu("S13", "M4", "H-1", "P-1", "Müller", "Jana", "20201023103000", ""),
		siu("S15", "M5", "H-2", "P-2", "Clarke", "Emily", "20201022093000", ""),
		siu("S13", "M6", "H-3", "P-3", "Yilmaz", "Ayse", "20201110140000", ""),
	}, hl7.AA, hl7.AA, hl7.AA, hl7.AA, hl7.AA, hl7.AA)

	s := e.declare(sampleOutage(t, "evt-1"))
	if s.Planned != 1 {
		t.Errorf("summary %+v: want one notice, for the appointment moved into the window", s)
	}
	got := parseAll(t, rec.Messages())
	if len(got) != 1 {
		t.Fatalf("notices to %d patients, want 1", len(got))
	}
	n, ok := got["jana@example.org"]
	if !ok {
		t.Fatalf("the notice went to %v, want the moved-in patient", rec.Messages()[0].To)
	}
	if !strings.Contains(n.text, "23. Oktober 2020, 10:30") {
		t.Errorf("the notice does not name the new time (23 October, 10:30):\n%s", n.text)
	}
}

// TestHL7MappingFromYAML: the hl7 section of a configuration file is what
// the listener maps with: a KIS that writes the department in AIL-3.4 and
// the kind in SCH-7 says so, and its codes map to kinds.
func TestHL7MappingFromYAML(t *testing.T) {
	cfg, err := config.Parse([]byte(`
facilities: {ukd: {timezone: Europe/Berlin, language: de}}
hl7:
  max_conns: 8
  fields:
    department: AIL-3.4
    location: AIL-3.1
    kind: SCH-7.1
  kinds: {ROUTINE: elective}
`))
	if err != nil {
		t.Fatal(err)
	}
	mp, err := HL7Mapping(cfg.HL7)
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.Replace(siu("S12", "M1", "H-1", "P-1", "Müller", "Jana", "20201022093000", ""),
		`AIL|1||Kardiologie^^^UKD^^^^^Geb\T\13, Ebene 2`, `AIL|1||Station 4^^^KARD`, 1)
	raw = strings.Replace(raw, "||||||OUTPATIENT|", "|||||ROUTINE^Routine|OUTPATIENT|", 1)
	m, err := hl7.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.Appointment("ukd", berlin, mp)
	if err != nil {
		t.Fatal(err)
	}
	if a.Department != "KARD" || a.Location != "Station 4" || a.Kind != "elective" {
		t.Errorf("department %q location %q kind %q; want KARD, Station 4, elective", a.Department, a.Location, a.Kind)
	}
	srv, err := HL7Server(cfg, "ukd", nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if srv.MaxConns != 8 {
		t.Errorf("the listener from the file: max conns %d, want 8", srv.MaxConns)
	}

	bad, err := config.Parse([]byte("facilities: {ukd: {timezone: Europe/Berlin}}\nhl7: {fields: {department: AIL3.4}}\n"))
	if err == nil {
		_, err = HL7Server(bad, "ukd", nil, testLogger(t))
	}
	if err == nil || !strings.Contains(err.Error(), "hl7.fields.department") {
		t.Errorf("a place that is not one: %v, want an error naming hl7.fields.department", err)
	}
}
