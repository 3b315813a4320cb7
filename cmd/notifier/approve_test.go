package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestApproveCommand: approve waits for the worker's answer. An approval of
// another scope than the one held is refused with exit status 1 and sends
// nothing; the scope the API shows releases the notices (status 0); a
// second approval finds nothing held (status 1).
func TestApproveCommand(t *testing.T) {
	httpPort := freePort(t)
	cfg := startWorkerProcess(t, "approval_threshold: 5", fmt.Sprintf(`http: {addr: "127.0.0.1:%d"}`, httpPort))
	if _, stderr, code := runCLI(t, "import", "--config", cfg, "--facility", "ukd", "../../examples/appointments.csv"); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "publish", "--config", cfg, "--facility", "ukd", "--from", "2020-10-21", "--until", "2020-10-28",
		"--departments", "*", "--hotline", "+49 211 81-04444", "--outage-id", "big"); code != 0 {
		t.Fatalf("publish: exit %d: %s", code, stderr)
	}
	api := fmt.Sprintf("http://127.0.0.1:%d/api/outages/big", httpPort)
	var held struct {
		State         string `json:"state"`
		Held          int    `json:"held"`
		Pending       int    `json:"pending"`
		ApprovalScope string `json:"approval_scope"`
	}
	waitFor(t, "the outage held", func() bool {
		r := httpGet(t, api)
		return r.code == 200 && json.Unmarshal([]byte(r.body), &held) == nil && held.State == "held" && held.Held > 5
	})
	if held.Pending != 0 || len(held.ApprovalScope) != 16 {
		t.Errorf("held outage in the API: %+v, want its notices held, not pending, and a scope", held)
	}

	_, stderr, code := runCLI(t, "approve", "--config", cfg, "--facility", "ukd", "--scope", "0123456789abcdef", "big")
	if code != 1 || !strings.Contains(stderr, "approval refused: the approval is of scope 0123456789abcdef") {
		t.Errorf("approval of another scope: exit %d, stderr %s", code, stderr)
	}
	out, stderr, code := runCLI(t, "approve", "--config", cfg, "--facility", "ukd", "--scope", held.ApprovalScope, "big")
	if want := fmt.Sprintf("%d held notices released", held.Held); code != 0 || !strings.Contains(out, want) {
		t.Errorf("approval of the held scope: exit %d, stdout %s, stderr %s; want %q", code, out, stderr, want)
	}
	_, stderr, code = runCLI(t, "approve", "--config", cfg, "--facility", "ukd", "big")
	if code != 1 || !strings.Contains(stderr, "not held for approval: nothing to release") {
		t.Errorf("approval with nothing held: exit %d, stderr %s", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, stderr, code := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(out, "notifier ") || !strings.Contains(out, "\ncommit ") || !strings.Contains(out, "\ngo1.") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
}

// TestHL7ListenAndSend: "hl7 send" delivers the example SIU messages to
// "hl7 listen", which answers AA for each once stored; a file with a
// message that cannot be used exits 2 and says AE.
func TestHL7ListenAndSend(t *testing.T) {
	hl7Port := freePort(t)
	cfg := startWorkerProcess(t, "", `http: {addr: "off"}`)
	listen := exec.Command(binary, "hl7", "listen", "--config", cfg, "--facility", "ukd", "--addr", fmt.Sprintf("127.0.0.1:%d", hl7Port))
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listen.Process.Kill(); listen.Wait() })
	waitFor(t, "the HL7 listener", listening(hl7Port))
	dir := t.TempDir()

	addr := fmt.Sprintf("127.0.0.1:%d", hl7Port)
	out, stderr, code := runCLI(t, "hl7", "send", "--addr", addr, "../../examples/siu.hl7")
	if code != 0 || strings.Count(out, ": AA") != 3 {
		t.Errorf("hl7 send of the example: exit %d, stdout %s, stderr %s", code, out, stderr)
	}
	bad := filepath.Join(dir, "bad.hl7")
	os.WriteFile(bad, []byte("MSH|^~\\&|ORBIS|UKD|NOTIFIER|UKD|20201020093000||SIU^S12^SIU_S12|B1|P|2.5\nSCH||H-9^ORBIS\nPID|1||P-9\n"), 0o600)
	out, stderr, code = runCLI(t, "hl7", "send", "--addr", addr, bad)
	if code != 2 || !strings.Contains(out, "message 1: AE") || !strings.Contains(out, "SCH-11.4") {
		t.Errorf("hl7 send of a message without a start: exit %d, stdout %s, stderr %s", code, out, stderr)
	}
}

// listening reports whether something accepts connections on the port.
func listening(port int) func() bool {
	return func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	}
}

// startWorkerProcess runs "notifier run" with an embedded NATS server on a
// free port, facility ukd (with facilityExtra in its settings) and the
// extra top-level lines, until the test ends, and returns the
// configuration's path once the worker listens.
func startWorkerProcess(t *testing.T, facilityExtra, extra string) string {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	if facilityExtra != "" {
		facilityExtra = ", " + facilityExtra
	}
	cfg := filepath.Join(dir, "notifier.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
nats: {listen: "127.0.0.1:%d"}
facilities:
  ukd: {name: "Universitätsklinikum Düsseldorf", timezone: Europe/Berlin, language: de%s}
dispatch: {shutdown_grace: 1s}
%s
`, filepath.Join(dir, "data"), port, facilityExtra, extra)), 0o600)
	run := exec.Command(binary, "run", "--config", cfg)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Process.Kill(); run.Wait() })
	waitFor(t, "the worker to listen", listening(port))
	return cfg
}
