package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// binary is the notifier built once for these tests: they drive it as a
// user would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "notifier-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "notifier")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the binary to completion and returns its output and exit
// status.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestHelpOnEveryCommand: every command and subcommand of the binary,
// as the command tree lists them, answers --help.
func TestHelpOnEveryCommand(t *testing.T) {
	var paths []string
	var walk func(c *cobra.Command, path string)
	walk = func(c *cobra.Command, path string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			if sub.Name() != "help" && sub.Name() != "completion" {
				walk(sub, strings.TrimSpace(path+" "+sub.Name()))
			}
		}
	}
	walk(newRoot(), "")
	for _, want := range []string{"run", "import", "version", "hl7 listen", "hl7 send", "fhir poll", "fhir listen", "nats"} {
		if !slices.Contains(paths, want) {
			t.Errorf("no command %q in the tree %q", want, paths)
		}
	}
	for _, cmd := range paths {
		t.Run("help "+cmd, func(t *testing.T) {
			args := append(strings.Fields(cmd), "--help")
			out, _, code := runCLI(t, args...)
			if code != 0 || !strings.Contains(out, "Usage:") {
				t.Errorf("exit %d, output:\n%s", code, out)
			}
		})
	}
}

// TestRunImportPublish drives a real worker process: it is started on an
// empty data folder, appointments are imported and an outage published by
// separate processes, the notices land in the Maildir, and SIGTERM stops
// the worker cleanly.
func TestRunImportPublish(t *testing.T) {
	dir := t.TempDir()
	port, httpPort := freePort(t), freePort(t)
	cfg := filepath.Join(dir, "notifier.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
nats: {listen: "127.0.0.1:%d"}
facilities:
  ukd: {name: "Universitätsklinikum Düsseldorf", timezone: Europe/Berlin, language: de}
dispatch: {shutdown_grace: 5s}
http: {addr: "127.0.0.1:%d"}
`, filepath.Join(dir, "data"), port, httpPort)), 0o600)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)

	t.Run("import without NATS fails with status 1", func(t *testing.T) {
		_, stderr, code := runCLI(t, "import", "--config", cfg, "--facility", "ukd", "../../examples/appointments.csv")
		if code != 1 || !strings.Contains(stderr, "connect to NATS") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})

	run := exec.Command(binary, "run", "--config", cfg)
	var runLog bytes.Buffer
	run.Stderr = &runLog
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	t.Cleanup(func() {
		if run.ProcessState == nil {
			run.Process.Kill()
		}
	})
	waitFor(t, "the worker to listen", listening(port))

	t.Run("import all good", func(t *testing.T) {
		out, stderr, code := runCLI(t, "import", "--nats-url", url, "--facility", "ukd", "../../examples/appointments.csv")
		if code != 0 || !strings.Contains(out, "274 accepted, 0 rejected") {
			t.Errorf("exit %d, stdout %s, stderr %s", code, out, stderr)
		}
	})
	t.Run("import with bad rows exits 2", func(t *testing.T) {
		out, stderr, code := runCLI(t, "import", "--config", cfg, "--facility", "ukd", "../../examples/bad-appointments.csv")
		if code != 2 || !strings.Contains(out, "2 accepted, 10 rejected") || !strings.Contains(stderr, "line 3:") {
			t.Errorf("exit %d, stdout %s, stderr %s", code, out, stderr)
		}
	})
	t.Run("import of nothing good exits 1", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.csv")
		os.WriteFile(bad, []byte("id,start,patient_id\nA-1,not a time,P-1\n"), 0o600)
		_, stderr, code := runCLI(t, "import", "--config", cfg, "--facility", "ukd", bad)
		if code != 1 || !strings.Contains(stderr, "line 2: start") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
	t.Run("import stops past --max-rows", func(t *testing.T) {
		out, stderr, code := runCLI(t, "import", "--config", cfg, "--facility", "ukd", "--max-rows", "10", "../../examples/appointments.csv")
		if code != 1 || !strings.Contains(stderr, "more than 10 rows") || !strings.Contains(out, "10 accepted") {
			t.Errorf("exit %d, stdout %s, stderr %s", code, out, stderr)
		}
	})
	t.Run("publish refuses an event without departments", func(t *testing.T) {
		_, stderr, code := runCLI(t, "publish", "--config", cfg, "--facility", "ukd", "--from", "2020-10-21", "--until", "2020-10-28",
			"--hotline", "+49 211 81-04444")
		if code == 0 || !strings.Contains(stderr, "data.departments: required") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
	t.Run("publish", func(t *testing.T) {
		out, stderr, code := runCLI(t, "publish", "--config", cfg, "--facility", "ukd", "--from", "2020-10-21", "--until", "2020-10-28",
			"--departments", "*", "--kinds", "outpatient,elective", "--hotline", "+49 211 81-04444", "--outage-id", "ukd-test")
		if code != 0 || !strings.Contains(out, "published outage.declared") {
			t.Errorf("exit %d, stdout %s, stderr %s", code, out, stderr)
		}
	})

	maildir := filepath.Join(dir, "data", "maildir", "new")
	// 157 patients of the sample are affected, 135 of them with an e-mail
	// address, and one more from the good rows of bad-appointments.csv.
	waitFor(t, "136 messages in the Maildir", func() bool {
		entries, _ := os.ReadDir(maildir)
		return len(entries) == 136
	})

	t.Run("status page, API, call list and metrics", func(t *testing.T) {
		base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
		waitFor(t, "the worker to be ready", func() bool { return httpGet(t, base+"/readyz").code == 200 })
		// The audit view records outcomes a moment after the relay
		// accepted them.
		waitFor(t, "136 outcomes in the audit view", func() bool {
			return strings.Contains(httpGet(t, base+"/api/outages").body, `"delivered": 136`)
		})
		for path, want := range map[string]string{
			"/":                               "ukd-test",
			"/api/outages":                    `"delivered": 136`,
			"/outages/ukd-test/calllist.csv":  "patient has no e-mail address",
			"/outages/ukd-test/calllist.html": "<table",
			"/metrics":                        "notifier_notices_finished_total",
			"/healthz":                        "ok",
		} {
			r := httpGet(t, base+path)
			if r.code != 200 || !strings.Contains(r.body, want) {
				t.Errorf("GET %s: %d, want 200 with %q in:\n%.500s", path, r.code, want, r.body)
			}
		}
	})

	t.Run("import a FHIR bundle", func(t *testing.T) {
		out, stderr, code := runCLI(t, "import", "--config", cfg, "--facility", "ukd", "../../importer/testdata/bundle.json")
		if code != 2 || !strings.Contains(out, "37 accepted, 7 rejected") || !strings.Contains(stderr, "rejected: entry ") ||
			!strings.Contains(stderr, "skipped: ") {
			t.Errorf("exit %d, stdout %s, stderr %s", code, out, stderr)
		}
	})

	if err := run.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("worker exited with %v after SIGTERM; log:\n%s", err, runLog.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("worker did not stop after SIGTERM; log:\n%s", runLog.String())
	}
	log := runLog.String()
	if !strings.Contains(log, "notifier stopped") {
		t.Errorf("no clean stop in the log:\n%s", log)
	}
	for _, private := range []string{"Müller", "example.org", "+49 211 555"} {
		if strings.Contains(log, private) {
			t.Errorf("the log contains patient data (%q)", private)
		}
	}
	if info, err := os.Stat(filepath.Join(dir, "data", "notifier.db")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("database file: %v, mode %v; want owner-only", err, info.Mode())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type response struct {
	code int
	body string
}

func httpGet(t *testing.T, url string) response {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		return response{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b)}
}
