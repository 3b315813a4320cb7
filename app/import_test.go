package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/notifier"
)

// importRows is a CSV of n appointments A-1…A-n; the rows listed in long
// carry a location of 190 characters.
func importRows(n int, long ...int) string {
	var b strings.Builder
	b.WriteString("id,department,location,start,end,status,kind,patient_id,patient_name,language,email,phone\n")
	for i := 1; i <= n; i++ {
		location := "Building 13"
		for _, l := range long {
			if l == i {
				location = strings.Repeat("L", 190)
			}
		}
		fmt.Fprintf(&b, "A-%d,cardiology,%s,2030-03-05T09:30:00+01:00,,booked,outpatient,P-%d,Jana Müller,de,p%d@example.org,\n", i, location, i, i)
	}
	return b.String()
}

// importText imports a CSV for facility ukd and returns the result and the
// lines reported as rejected, with their reasons.
func importText(t *testing.T, js jetstream.JetStream, text string) (ImportResult, map[int]string) {
	t.Helper()
	loc, _ := time.LoadLocation("Europe/Berlin")
	rows, err := importer.NewCSV(strings.NewReader(text), "ukd", loc)
	if err != nil {
		t.Fatal(err)
	}
	rejected := map[int]string{}
	res, err := Import(context.Background(), js, rows, func(line int, err error) { rejected[line] = err.Error() }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res, rejected
}

// storedRecords checks that the stream holds exactly the records of the
// CSV's rows A-1…A-n but the ones skipped, as the CSV gave them.
func storedRecords(t *testing.T, js jetstream.JetStream, text string, skip ...int) {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, engine.StreamAppointments)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Berlin")
	rows, err := importer.NewCSV(strings.NewReader(text), "ukd", loc)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := 1; ; i++ {
		r, err := rows.Next()
		if err != nil {
			break
		}
		stored, err := s.GetLastMsgForSubject(ctx, engine.AppointmentSubject("ukd", r.Appointment.ID))
		skipped := false
		for _, k := range skip {
			skipped = skipped || k == i
		}
		if skipped {
			if err == nil {
				t.Errorf("row %d stored, want it refused", i)
			}
			continue
		}
		want++
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		data, _ := notifier.EncodeJSON(&r.Appointment)
		if string(stored.Data) != string(data) {
			t.Fatalf("row %d stored as %s, want %s", i, stored.Data, data)
		}
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(want) {
		t.Errorf("the stream holds %d records, want %d", info.State.Msgs, want)
	}
}

// TestImportAsAFastBatch: the rows go as one fast batch, and every one is
// stored once, as the file gave it.
func TestImportAsAFastBatch(t *testing.T) {
	e := newEnv(t)
	e.startWorker() // it lets APPOINTMENTS take fast batches
	text := importRows(3000)
	res, rejected := importText(t, e.conn.JS, text)
	if res.RowByRow != nil {
		t.Fatalf("published row by row: %v", res.RowByRow)
	}
	if res.Accepted != 3000 || res.Rejected != 0 || len(rejected) != 0 {
		t.Fatalf("%+v, rejected %v; want 3000 accepted", res, rejected)
	}
	storedRecords(t, e.conn.JS, text)
	s, err := e.conn.JS.Stream(context.Background(), engine.StreamAppointments)
	if err != nil {
		t.Fatal(err)
	}
	if info := s.CachedInfo(); info.State.LastSeq != 3000 {
		t.Errorf("last sequence %d: rows were stored more than once", info.State.LastSeq)
	}
}

// TestImportGoesOnRowByRowWhenTheBatchEnds: a row NATS refuses ends the fast
// batch; the rows it had not acknowledged are published again one by one,
// as is the rest of the file, the refused rows are reported with NATS's
// reason, and every other row is stored.
func TestImportGoesOnRowByRowWhenTheBatchEnds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.conn.JS.CreateStream(ctx, jetstream.StreamConfig{
		Name: engine.StreamAppointments, Subjects: []string{engine.SubjectAppointments + ".>"},
		MaxMsgsPerSubject: 1, MaxMsgSize: 350, AllowBatchPublish: true,
	}); err != nil {
		t.Fatal(err)
	}
	text := importRows(3000, 1200, 2500)
	res, rejected := importText(t, e.conn.JS, text)
	if res.RowByRow == nil {
		t.Error("the import does not say it went on row by row")
	}
	if res.Accepted != 2998 || res.Rejected != 2 {
		t.Errorf("%+v; want 2998 accepted, 2 rejected", res)
	}
	// Line 1 is the header.
	for _, line := range []int{1201, 2501} {
		if !strings.Contains(rejected[line], "not stored by NATS") || !strings.Contains(rejected[line], "maximum") {
			t.Errorf("line %d: %q, want NATS's reason", line, rejected[line])
		}
	}
	if len(rejected) != 2 {
		t.Errorf("rejected %v, want lines 1201 and 2501", rejected)
	}
	storedRecords(t, e.conn.JS, text, 1200, 2500)
}

// TestImportRowByRowWithoutFastBatches: with nats.fast_import off the worker
// turns fast batches off on APPOINTMENTS (as an older server has none), and
// an import publishes every row with an acknowledgement of its own, says
// so, and stores every row.
func TestImportRowByRowWithoutFastBatches(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := engine.EnsureStreams(ctx, e.conn.JS, 0, engine.StreamAppointments); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.SetFastImport(ctx, e.conn.JS, true); err != nil {
		t.Fatal(err)
	}
	off := false
	e.cfg.NATS.FastImport = &off
	e.startWorker()
	if on, err := engine.FastImport(ctx, e.conn.JS); err != nil || on {
		t.Fatalf("fast batches on APPOINTMENTS: %t, %v; want them off", on, err)
	}
	text := importRows(500)
	res, rejected := importText(t, e.conn.JS, text)
	if res.RowByRow == nil {
		t.Error("the import does not say it went row by row")
	}
	if res.Accepted != 500 || len(rejected) != 0 {
		t.Fatalf("%+v, rejected %v; want 500 accepted", res, rejected)
	}
	storedRecords(t, e.conn.JS, text)
}
