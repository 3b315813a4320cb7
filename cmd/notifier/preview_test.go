package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/notifier"
)

// localConfig writes a configuration whose data folder is dataDir, with
// a NATS URL nothing listens on: the local commands must not need it.
func localConfig(t *testing.T, dataDir string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notifier.yaml")
	err := os.WriteFile(path, []byte(fmt.Sprintf(`data_dir: %s
nats: {url: "nats://127.0.0.1:%d"}
facilities:
  ukd: {name: "Universitätsklinikum Düsseldorf", timezone: Europe/Berlin, language: de}
`, dataDir, freePort(t))), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// fillReplica writes the sample appointments into a new SQLite file under
// dataDir, as a worker's replica holds them after an import.
func fillReplica(t *testing.T, dataDir string) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dataDir
	db, err := app.OpenStore(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, err := os.Open("../../examples/appointments.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	loc, _ := time.LoadLocation("Europe/Berlin")
	rows, _, err := app.OpenRows(f, "ukd", loc)
	if err != nil {
		t.Fatal(err)
	}
	var changes []notifier.AppointmentChange
	for {
		row, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || row.Err != nil {
			t.Fatal(err, row.Err)
		}
		changes = append(changes, notifier.AppointmentChange{Seq: uint64(len(changes) + 1), Appointment: &row.Appointment})
	}
	if err := db.ApplyAppointments(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
}

// TestPreview previews the sample outage against a replica of the sample
// appointments: 177 appointments of 157 patients, 135 of them with an
// e-mail address for the default Maildir, 22 for the call list.
func TestPreview(t *testing.T) {
	data := t.TempDir()
	fillReplica(t, data)
	cfg := localConfig(t, data)

	t.Run("table", func(t *testing.T) {
		out, stderr, code := runCLI(t, "preview", "--config", cfg, "--event", "../../examples/outage.json")
		if code != 0 {
			t.Fatalf("exit %d, stderr %s", code, stderr)
		}
		for _, want := range []string{
			`appointments affected\s+177\n`, `patients affected\s+157\n`, `no e-mail and no phone\s+0\n`,
			`cardiology\s+24\s+24\n`, `Wed 2020-10-21\s+42\s+42\n`,
			`maildir\s+maildir\s+135\n`, `call list only\s+22\n`,
			`sample notice in "de"`, `Subject: Ihr Termin am 21.10.2020`, `sample notice in "tr"`, `Subject: Your appointment`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		}
		if stderr != "" {
			t.Errorf("stderr is not empty: %s", stderr)
		}
	})

	t.Run("json", func(t *testing.T) {
		out, stderr, code := runCLI(t, "preview", "--config", cfg, "--event", "../../examples/outage.json", "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d, stderr %s", code, stderr)
		}
		var p app.Preview
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		var langs []string
		for _, s := range p.Samples {
			langs = append(langs, s.Language)
		}
		if p.Appointments != 177 || p.Patients != 157 || p.CallListOnly != 22 || len(p.Days) != 5 ||
			len(p.FirstChannels) != 1 || p.FirstChannels[0].Patients != 135 || !slices.Equal(langs, []string{"de", "en", "tr"}) {
			t.Errorf("preview %+v", p)
		}
		for _, key := range []string{`"outage_id": "ukd-it-2020-10"`, `"first_channels"`, `"call_list_only": 22`, `"no_contact": 0`, `"urgent_within": "48h0m0s"`} {
			if !strings.Contains(out, key) {
				t.Errorf("JSON lacks %s", key)
			}
		}
	})

	t.Run("the flags of publish", func(t *testing.T) {
		out, stderr, code := runCLI(t, "preview", "--config", cfg, "--format", "json", "--facility", "ukd",
			"--from", "2020-10-21", "--until", "2020-10-28", "--departments", "Cardiology", "--kinds", "outpatient,elective",
			"--hotline", "+49 211 81-04444", "--action", "cancel")
		if code != 0 {
			t.Fatalf("exit %d, stderr %s", code, stderr)
		}
		var p app.Preview
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		if p.Appointments != 24 || len(p.Departments) != 1 || p.Action != notifier.ActionCancel || !strings.Contains(p.Samples[0].Subject, "abgesagt") {
			t.Errorf("preview of cardiology: %+v", p)
		}
	})

	t.Run("an event publish would refuse", func(t *testing.T) {
		_, stderr, code := runCLI(t, "preview", "--config", cfg, "--facility", "ukd", "--from", "2020-10-21", "--until", "2020-10-28",
			"--hotline", "+49 211 81-04444")
		if code != 1 || !strings.Contains(stderr, "data.departments: required") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})

	t.Run("no replica yet", func(t *testing.T) {
		empty := t.TempDir()
		_, stderr, code := runCLI(t, "preview", "--config", localConfig(t, empty), "--event", "../../examples/outage.json")
		if code != 1 || !strings.Contains(stderr, "no database") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
		if entries, _ := os.ReadDir(empty); len(entries) != 0 {
			t.Errorf("preview wrote into the empty data folder: %v", entries)
		}
	})

	t.Run("an unknown format", func(t *testing.T) {
		_, stderr, code := runCLI(t, "preview", "--config", cfg, "--event", "../../examples/outage.json", "--format", "xml")
		if code != 1 || !strings.Contains(stderr, "--format") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
}

func TestLocalCommandsHelp(t *testing.T) {
	for _, cmd := range []string{"preview", "report"} {
		t.Run(cmd, func(t *testing.T) {
			out, _, code := runCLI(t, cmd, "--help")
			if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "--format") {
				t.Errorf("exit %d, output:\n%s", code, out)
			}
		})
	}
}
