package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/hl7"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
)

// adt writes an ADT message of the given trigger (A08, A31) changing a
// patient's contact data: the name, an e-mail address in PID-13 and a
// mobile number in parts.
func adt(trigger, control, patient, family, given, email string) string {
	return strings.Join([]string{
		fmt.Sprintf(`MSH|^~\&|ORBIS|UKD|NOTIFIER|UKD|20201020100000||ADT^%s^ADT_A01|%s|P|2.5|||||DE|UNICODE UTF-8`, trigger, control),
		"EVN|" + trigger + "|20201020095900",
		fmt.Sprintf("PID|1||%s^^^UKD^MR||%s^%s||||||||^NET^Internet^%s~^ORN^CP^^49^170^1234567||de", patient, family, given, email),
		"PV1|1|O",
	}, "\r") + "\r"
}

// sendHL7 sends messages on one connection, checks their ACK codes and
// returns the ACKs.
func sendHL7(t *testing.T, addr string, msgs []string, want ...string) [][]byte {
	t.Helper()
	raw := make([][]byte, len(msgs))
	for i, m := range msgs {
		raw[i] = []byte(m)
	}
	acks, err := hl7.Send(context.Background(), addr, nil, raw, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range acks {
		if code, text, err := hl7.AckCode(a); err != nil || code != want[i] {
			t.Errorf("message %d: %s %q (%v), want %s", i+1, code, text, err, want[i])
		}
	}
	if len(acks) != len(want) {
		t.Fatalf("%d ACKs, want %d", len(acks), len(want))
	}
	return acks
}

// patientsOf reads the replica's patient data of the facility's
// appointments with these ids.
func (e *env) patientsOf(ids ...string) map[string]notifier.Patient {
	got := map[string]notifier.Patient{}
	e.w.DB.AppointmentsByID(context.Background(), "ukd", ids, func(a notifier.AffectedAppointment) error {
		got[a.ID] = a.Patient
		return nil
	})
	return got
}

// TestHL7ADTUpdatesContacts: over a real MLLP connection, SIU S12 books
// appointments, then ADT A08 and A31 change patients' contact data: every
// appointment of the patient takes the new address and number, and the
// outage's notice goes to the new address. A malformed ADT is answered AE
// and the listener goes on; a record for a facility not configured is
// refused by the worker, which goes on too.
func TestHL7ADTUpdatesContacts(t *testing.T) {
	e := newEnv(t)
	rec := e.startRelay(relay.Options{})
	e.cfg.Channels = append(e.cfg.Channels[:0], smtpChannel("relay", rec.Addr()))
	e.startWorker()
	addr := e.startHL7(nil)

	sendHL7(t, addr, []string{
		siu("S12", "M1", "H-1", "P-1", "Müller", "Jana", "20201022093000", ""),
		siu("S12", "M2", "H-2", "P-1", "Müller", "Jana", "20201023093000", ""),
		siu("S12", "M3", "H-3", "P-2", "Clarke", "Emily", "20201024140000", ""),
		adt("A08", "M4", "P-1", "Müller-Lang", "Jana", "jana.neu@example.org"),
		strings.Replace(adt("A08", "M5", "P-2", "Clarke", "Emily", "x@example.org"), "P-2^^^UKD^MR", "", 1),
		adt("A31", "M6", "P-2", "Clarke", "Emily", "emily.clarke@example.org"),
		adt("A08", "M7", "P-9", "Nobody", "Yet", "nobody@example.org"),
	}, hl7.AA, hl7.AA, hl7.AA, hl7.AA, hl7.AE, hl7.AA, hl7.AA)
	e.publishRaw("patients.elsewhere.P-1", `{"facility": "elsewhere", "patient": {"id": "P-1", "email": "wrong@example.org"}}`)

	waitUntil(t, "the replica has the new contact data", func() bool {
		got := e.patientsOf("H-1", "H-2", "H-3")
		return got["H-1"].Email == "jana.neu@example.org" && got["H-2"].Email == "jana.neu@example.org" &&
			got["H-3"].Email == "emily.clarke@example.org"
	})
	got := e.patientsOf("H-1", "H-2", "H-3")
	for _, id := range []string{"H-1", "H-2"} {
		if p := got[id]; p.Name != "Jana Müller-Lang" || p.Phone != "+49 170 1234567" || p.Language != "de" {
			t.Errorf("%s after A08: %+v", id, p)
		}
	}
	if n, _ := e.w.DB.CountAppointments(context.Background(), "ukd"); n != 3 {
		t.Errorf("%d appointments, want 3: a contact record makes none", n)
	}
	waitUntil(t, "the malformed ADT and the other facility's record recorded as refused", func() bool {
		rejects, _ := e.w.DB.Rejects(context.Background())
		var hl7Refused, unknown bool
		for _, r := range rejects {
			hl7Refused = hl7Refused || r.Stream == "HL7" && strings.Contains(r.Reason, "PID-3")
			unknown = unknown || r.Stream == engine.StreamPatients && strings.Contains(r.Reason, "unknown facility")
		}
		return hl7Refused && unknown
	})

	e.declare(sampleOutage(t, "evt-1"))
	to := map[string]bool{}
	for _, m := range rec.Messages() {
		to[m.To[0]] = true
	}
	if len(to) != 2 || !to["jana.neu@example.org"] || !to["emily.clarke@example.org"] {
		t.Errorf("notices went to %v, want the new addresses only", to)
	}
}

// TestHL7ResendAfterLostAck: the listener stores a record and the
// connection breaks before the ACK is written; the interface engine sends
// the same message again and gets AA, and the record is stored once.
func TestHL7ResendAfterLostAck(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	var mu sync.Mutex
	seen := map[string]bool{}
	addr := e.startHL7(func(handle func(context.Context, []byte) []byte) func(context.Context, []byte) []byte {
		return func(ctx context.Context, raw []byte) []byte {
			ack := handle(ctx, raw)
			mu.Lock()
			defer mu.Unlock()
			if !seen[string(raw)] {
				seen[string(raw)] = true
				return nil // stored, and the connection closes before the ACK
			}
			return ack
		}
	})
	msgs := [][]byte{
		[]byte(siu("S12", "M1", "H-1", "P-1", "Müller", "Jana", "20201022093000", "")),
		[]byte(adt("A08", "M2", "P-1", "Müller", "Jana", "jana.neu@example.org")),
	}
	for _, m := range msgs {
		if _, err := hl7.Send(context.Background(), addr, nil, [][]byte{m}, 10*time.Second); err == nil {
			t.Fatal("an ACK came through the broken connection")
		}
		sendHL7(t, addr, []string{string(m)}, hl7.AA)
	}
	for _, name := range []string{engine.StreamAppointments, engine.StreamPatients} {
		s, err := e.conn.JS.Stream(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != 1 || info.State.LastSeq != 1 {
			t.Errorf("%s: %d messages, last sequence %d; want the one record stored once", name, info.State.Msgs, info.State.LastSeq)
		}
	}
	waitUntil(t, "the replica holds the record with the new address", func() bool {
		return e.patientsOf("H-1")["H-1"].Email == "jana.neu@example.org"
	})
	if n, _ := e.w.DB.CountAppointments(context.Background(), "ukd"); n != 1 {
		t.Errorf("%d appointments, want 1", n)
	}
}

// TestContactsAfterARebuild: an appointment record published after a
// contact change keeps its own contact data, in the live replica and in one
// rebuilt from the streams by a worker with an empty data folder.
func TestContactsAfterARebuild(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	addr := e.startHL7(nil)
	sendHL7(t, addr, []string{
		siu("S12", "M1", "H-1", "P-1", "Müller", "Jana", "20201022093000", ""),
		siu("S12", "M2", "H-2", "P-1", "Müller", "Jana", "20201023093000", ""),
		adt("A08", "M3", "P-1", "Müller", "Jana", "jana.neu@example.org"),
		siu("S14", "M4", "H-2", "P-1", "Müller", "Jana", "20201023100000", ""),
	}, hl7.AA, hl7.AA, hl7.AA, hl7.AA)
	for _, name := range []string{"live", "rebuilt"} {
		if name == "rebuilt" {
			cfg := *e.cfg
			cfg.DataDir = t.TempDir()
			e.cfg = &cfg
			e.startWorker()
		}
		waitUntil(t, "the "+name+" replica has applied both streams", func() bool {
			return e.w.ReplicaApplied() == 3 && e.patientsOf("H-1")["H-1"].Email == "jana.neu@example.org"
		})
		if got := e.patientsOf("H-2")["H-2"].Email; got != "jana@example.org" {
			t.Errorf("%s: H-2, booked again after the change, has %q; want its own record's", name, got)
		}
	}
}
