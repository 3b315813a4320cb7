package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/natsd"
	"github.com/postponement/notifier/notifier"
)

// TestReport reports on the data folder a real demo run left behind: every
// notice has an outcome (exit 0); then a notice without one is planned
// into it, and the report says so (exit 3).
func TestReport(t *testing.T) {
	data := t.TempDir()
	if _, stderr, code := runCLI(t, "demo", "--dir", data, "--quiet"); code != 0 {
		t.Fatalf("demo: exit %d, stderr %s", code, stderr)
	}
	cfg := localConfig(t, data)

	t.Run("complete: exit 0", func(t *testing.T) {
		out, stderr, code := runCLI(t, "report", "--config", cfg)
		if code != 0 {
			t.Fatalf("exit %d, stderr %s\n%s", code, stderr, out)
		}
		for _, want := range []string{
			`outage ukd-it-2020-10 at facility ukd, declared .*: declared\n`,
			`notices\s+157\s+\(177 appointments\)`, `via external-relay\s+135\n`, `manual\s+22\s+\(staff must phone\)`,
			`calls\s+22 to call, 0 later, 0 being called, 0 reached, 0 unreachable\n`,
			`P113369\s+Wed 2020-10-21 07:30\s+A2010097\s+to-call\s+hospital-relay, external-relay: patient has no e-mail address\n`,
			`every notice has an outcome`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		out, _, code := runCLI(t, "report", "--config", cfg, "--outage", "ukd-it-2020-10", "--format", "json")
		var r app.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 {
			t.Fatalf("exit %d, %v:\n%s", code, err, out)
		}
		if !r.Complete || len(r.Outages) != 1 || r.Outages[0].Delivered != 135 || len(r.Outages[0].ManualNotices) != 22 {
			t.Errorf("report %+v", r)
		}
	})
	t.Run("csv", func(t *testing.T) {
		out, _, code := runCLI(t, "report", "--config", cfg, "--format", "csv")
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || code != 0 {
			t.Fatalf("exit %d, %v:\n%s", code, err, out)
		}
		manual := 0
		for _, r := range recs {
			if r[0] == "manual" {
				manual++
			}
		}
		if recs[0][0] != "record" || manual != 22 {
			t.Errorf("%d manual records in:\n%s", manual, out)
		}
	})
	t.Run("an unknown outage: exit 1", func(t *testing.T) {
		_, stderr, code := runCLI(t, "report", "--config", cfg, "--outage", "nope")
		if code != 1 || !strings.Contains(stderr, `outage "nope" is unknown`) {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})

	planPending(t, data)
	t.Run("pending: exit 3", func(t *testing.T) {
		out, stderr, code := runCLI(t, "report", "--config", cfg)
		if code != 3 || !strings.Contains(out, "not finished: 1 notice without an outcome yet") || stderr != "" {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, out)
		}
	})
}

// planPending records one more notice of the demo's outage, without an
// outcome, as a plan record would.
func planPending(t *testing.T, data string) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = data
	db, err := app.OpenStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	pos, err := db.Position(ctx, engine.StreamPlans)
	if err != nil {
		t.Fatal(err)
	}
	n := &notifier.PlannedNotice{ID: "n-pending", OutageID: "ukd-it-2020-10", Facility: "ukd", Kind: notifier.KindPostponed,
		PatientID: "P-late", AppointmentIDs: []string{"A-late"}, Earliest: time.Now(), PlannedAt: time.Now()}
	if err := db.ApplyPlans(ctx, []notifier.PlanChange{{Seq: pos + 1, Record: &notifier.PlanRecord{Notice: n}}}); err != nil {
		t.Fatal(err)
	}
}

// TestProgress: off a terminal, import and demo write plain progress lines
// to stderr; --quiet silences them, but not the results or the rejections.
func TestProgress(t *testing.T) {
	t.Run("import", func(t *testing.T) {
		srv, err := natsd.Start(natsd.Options{Port: -1, StoreDir: filepath.Join(t.TempDir(), "nats")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
		url := srv.ClientURL()

		out, stderr, code := runCLI(t, "import", "--nats-url", url, "--facility", "ukd", "../../examples/appointments.csv")
		if code != 0 || !strings.Contains(stderr, "import: 274 rows, 274 accepted, 0 rejected\n") || !strings.Contains(out, "274 accepted") {
			t.Errorf("exit %d, stdout %s, stderr %s", code, out, stderr)
		}
		out, stderr, code = runCLI(t, "import", "--quiet", "--nats-url", url, "--facility", "ukd", "../../examples/bad-appointments.csv")
		if code != 2 || strings.Contains(stderr, "import:") || !strings.Contains(stderr, "rejected: line 3:") || !strings.Contains(out, "2 accepted, 10 rejected") {
			t.Errorf("--quiet: exit %d, stdout %s, stderr %s", code, out, stderr)
		}
	})
	t.Run("demo", func(t *testing.T) {
		out, stderr, code := runCLI(t, "demo", "--dir", t.TempDir())
		if code != 0 || !strings.Contains(stderr, "demo: 157 of 157 notices have an outcome\n") || !strings.Contains(out, "missed                  0") {
			t.Errorf("exit %d, stdout %s, stderr %s", code, out, stderr)
		}
		if lines := strings.Count(stderr, "demo: "); lines > 12 {
			t.Errorf("%d progress lines, want one per tenth at most:\n%s", lines, stderr)
		}
		out, stderr, code = runCLI(t, "demo", "--dir", t.TempDir(), "-q")
		if code != 0 || stderr != "" || !strings.Contains(out, "missed                  0") {
			t.Errorf("--quiet: exit %d, stdout %s, stderr %s", code, out, stderr)
		}
	})
}
