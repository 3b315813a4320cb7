package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// natsReadyTimeout is how long a NATS server process may take to print
	// its URL.
	natsReadyTimeout = 30 * time.Second
	// natsStopGrace is how long it may take to stop after SIGTERM before
	// it is killed.
	natsStopGrace = 10 * time.Second
)

// startNATSProcess runs "notifier nats" from this executable in a process of
// its own, storing its streams in storeDir on a free loopback port, and
// waits until it prints its URL: bench.Options.StartNATS. stop sends it
// SIGTERM and waits for it, and kills it if it takes longer than
// natsStopGrace; it reports an exit other than a clean one, with what the
// process wrote to stderr.
func startNATSProcess(ctx context.Context, storeDir string) (url string, pid int, stop func() error, err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, nil, fmt.Errorf("find this executable to run notifier nats: %w", err)
	}
	return startNATSWith(ctx, exe, storeDir)
}

// startNATSWith is startNATSProcess with the notifier executable exe.
func startNATSWith(ctx context.Context, exe, storeDir string) (url string, pid int, stop func() error, err error) {
	cmd := exec.Command(exe, "nats", "--store-dir", storeDir, "--port", "-1")
	// Stopped by stop alone, in its turn, and not by the terminal's ^C.
	cmd.SysProcAttr = natsProcAttr()
	out := &firstLine{ready: make(chan string, 1)}
	errOut := &stderrTail{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = out, errOut
	// Should anything it started hold its stdout or stderr open after it
	// exited, Wait does not wait for that for ever.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("run %s nats: %w", exe, err)
	}
	pid = cmd.Process.Pid
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	kill := func() {
		// Its process group: it and anything it started.
		if syscall.Kill(-pid, syscall.SIGKILL) != nil {
			cmd.Process.Kill()
		}
		<-exited
	}
	what := fmt.Sprintf("notifier nats (pid %d)", pid)

	select {
	case url = <-out.ready:
		if !strings.HasPrefix(url, "nats://") {
			kill()
			return "", 0, nil, fmt.Errorf("%s printed %q, not a nats:// URL%s", what, url, errOut)
		}
	case <-exited:
		return "", 0, nil, fmt.Errorf("%s exited before it was ready: %v%s", what, waitErr, errOut)
	case <-time.After(natsReadyTimeout):
		kill()
		return "", 0, nil, fmt.Errorf("%s printed no URL within %v; killed%s", what, natsReadyTimeout, errOut)
	case <-ctx.Done():
		kill()
		return "", 0, nil, ctx.Err()
	}

	stop = func() error {
		select {
		case <-exited:
			return fmt.Errorf("exited before it was stopped: %v%s", waitErr, errOut)
		default:
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			kill()
			return fmt.Errorf("SIGTERM: %w; killed", err)
		}
		select {
		case <-exited:
		case <-time.After(natsStopGrace):
			kill()
			return fmt.Errorf("did not stop within %v of SIGTERM; killed%s", natsStopGrace, errOut)
		}
		if waitErr != nil {
			return fmt.Errorf("%v after SIGTERM%s", waitErr, errOut)
		}
		return nil
	}
	return url, pid, stop, nil
}

// firstLine is a process's stdout: it passes the first line, without its
// end, to ready, and discards everything after it.
type firstLine struct {
	buf   []byte
	done  bool
	ready chan string
}

func (f *firstLine) Write(p []byte) (int, error) {
	if f.done {
		return len(p), nil
	}
	f.buf = append(f.buf, p...)
	if i := bytes.IndexByte(f.buf, '\n'); i >= 0 {
		f.done = true
		f.ready <- strings.TrimSpace(string(f.buf[:i]))
		f.buf = nil
	} else if len(f.buf) > 4096 {
		f.done = true
		f.ready <- string(f.buf[:64])
		f.buf = nil
	}
	return len(p), nil
}

// stderrTail keeps the last max bytes written to it; String quotes them for an
// error message.
type stderrTail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *stderrTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *stderrTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return " (nothing on stderr)"
	}
	return "; its stderr:\n" + s
}
