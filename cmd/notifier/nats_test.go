package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsProc is a running "notifier nats".
type natsProc struct {
	cmd    *exec.Cmd
	url    string
	rest   chan string // stdout after the URL line, once it is closed
	stderr *bytes.Buffer
}

// startNATS starts "notifier nats" with args and reads the URL it prints.
func startNATS(t *testing.T, args ...string) *natsProc {
	t.Helper()
	p := &natsProc{cmd: exec.Command(binary, append([]string{"nats"}, args...)...), rest: make(chan string, 1), stderr: &bytes.Buffer{}}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- line
		rest, _ := io.ReadAll(br)
		p.rest <- string(rest)
	}()
	select {
	case line := <-lines:
		p.url = strings.TrimSuffix(line, "\n")
	case <-time.After(30 * time.Second):
	}
	if !strings.HasPrefix(p.url, "nats://127.0.0.1:") {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		t.Fatalf("first line on stdout %q, want nats://127.0.0.1:PORT; stderr:\n%s", p.url, p.stderr)
	}
	return p
}

// stop sends SIGTERM and checks that the server stops cleanly, having
// printed nothing more on stdout.
func (p *natsProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		rest := <-p.rest // all of stdout is read before Wait
		if rest != "" {
			t.Errorf("more on stdout after the URL: %q", rest)
		}
		exited <- p.cmd.Wait()
	}()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exited with %v after SIGTERM; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("did not stop within 15 s of SIGTERM")
	}
	if log := p.stderr.String(); !strings.Contains(log, "NATS server ready") || !strings.Contains(log, "NATS server stopped") {
		t.Errorf("stderr lacks the ready and stopped lines:\n%s", log)
	}
}

// TestNATSCommand runs the NATS server alone, as a worker on another
// process would use it: JetStream works, SIGTERM stops it cleanly, and a
// second server on the same store finds the stream again.
func TestNATSCommand(t *testing.T) {
	store := filepath.Join(t.TempDir(), "nats")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	p := startNATS(t, "--store-dir", store, "--port", "-1")
	nc, err := nats.Connect(p.url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "TEST", Subjects: []string{"test.>"}}); err != nil {
		t.Fatal(err)
	}
	ack, err := js.Publish(ctx, "test.one", []byte("hello"))
	if err != nil || ack.Stream != "TEST" || ack.Sequence != 1 {
		t.Fatalf("publish: %+v, %v", ack, err)
	}
	nc.Close()
	p.stop(t)

	p = startNATS(t, "--store-dir", store, "--port", "0")
	nc, err = nats.Connect(p.url)
	if err != nil {
		t.Fatal(err)
	}
	js, err = jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, "TEST")
	if err != nil {
		t.Fatalf("the stream is gone after a restart on the same store: %v", err)
	}
	if m, err := s.GetMsg(ctx, 1); err != nil || string(m.Data) != "hello" {
		t.Errorf("message 1 after a restart: %v, %v", m, err)
	}
	nc.Close()
	p.stop(t)
}

func TestNATSCommandPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	stdout, stderr, code := runCLI(t, "nats", "--store-dir", filepath.Join(t.TempDir(), "nats"), "--port", fmt.Sprint(port))
	if code != 1 || stdout != "" || !strings.Contains(stderr, "cannot listen") {
		t.Errorf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
}

// TestStartNATSProcess starts the NATS server as the bench does, and
// checks what it reports when the process fails.
func TestStartNATSProcess(t *testing.T) {
	ctx := context.Background()
	t.Run("runs and stops", func(t *testing.T) {
		url, pid, stop, err := startNATSWith(ctx, binary, filepath.Join(t.TempDir(), "nats"))
		if err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect(url)
		if err != nil {
			stop()
			t.Fatal(err)
		}
		if _, err := nc.Request("$JS.API.INFO", nil, 5*time.Second); err != nil {
			t.Errorf("JetStream: %v", err)
		}
		nc.Close()
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("process %d still there after stop (%v)", pid, err)
		}
	})
	script := func(t *testing.T, body string) string {
		exe := filepath.Join(t.TempDir(), "fake-notifier")
		if err := os.WriteFile(exe, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return exe
	}
	t.Run("exits before it is ready", func(t *testing.T) {
		_, _, _, err := startNATSWith(ctx, script(t, `echo "no store for $3" >&2; exit 3`), "/nowhere")
		if err == nil || !strings.Contains(err.Error(), "exited before it was ready: exit status 3") ||
			!strings.Contains(err.Error(), "no store for /nowhere") {
			t.Errorf("error %v; want the exit status and stderr", err)
		}
	})
	t.Run("prints something else", func(t *testing.T) {
		_, _, _, err := startNATSWith(ctx, script(t, `echo "Usage: notifier"; exec sleep 30`), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), `printed "Usage: notifier", not a nats:// URL`) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("dies before it is stopped", func(t *testing.T) {
		_, _, stop, err := startNATSWith(ctx, script(t, `echo nats://127.0.0.1:1; echo "out of memory" >&2; exit 2`), t.TempDir())
		if err != nil {
			// It may have exited before its URL was read.
			if !strings.Contains(err.Error(), "out of memory") {
				t.Errorf("error %v", err)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
		if err := stop(); err == nil || !strings.Contains(err.Error(), "exited before it was stopped: exit status 2") ||
			!strings.Contains(err.Error(), "out of memory") {
			t.Errorf("stop: %v", err)
		}
	})
}
