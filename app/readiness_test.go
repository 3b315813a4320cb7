package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/postponement/notifier/engine"
)

// readyz asks the worker's own handler for /readyz.
func (e *env) readyz(h http.Handler) (int, string) {
	e.t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func (e *env) handler() http.Handler {
	e.t.Helper()
	h, err := Handler(e.cfg, e.w, e.conn, Instrument(e.w), testLogger(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// TestReadinessWhilePlanningFails: a store whose affected lookup fails
// (as a damaged table does) makes /readyz answer 503 with the reason,
// while /healthz stays 200; a planned event makes it ready again.
func TestReadinessWhilePlanningFails(t *testing.T) {
	var repaired atomic.Bool
	e, ev := withFailingLab(t, &repaired)
	h := e.handler()
	e.importCSV(fixture)
	waitUntil(t, "ready", func() bool { code, _ := e.readyz(h); return code == http.StatusOK })

	if err := engine.PublishEvent(context.Background(), e.conn.JS, ev); err != nil {
		t.Fatal(err)
	}
	var body string
	waitUntil(t, "not ready while planning fails", func() bool {
		var code int
		code, body = e.readyz(h)
		return code == http.StatusServiceUnavailable
	})
	if !strings.Contains(body, "planning of facility lab failing since") || !strings.Contains(body, "database disk image is malformed") {
		t.Errorf("/readyz said %q, want the planning failure", body)
	}
	hc := httptest.NewRecorder()
	h.ServeHTTP(hc, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if hc.Code != http.StatusOK {
		t.Errorf("/healthz answered %d while not ready, want 200", hc.Code)
	}
	page := httptest.NewRecorder()
	h.ServeHTTP(page, httptest.NewRequest(http.MethodGet, "/", nil))
	if !strings.Contains(page.Body.String(), "The worker is not ready") {
		t.Error("the status page does not say the worker is not ready")
	}
	// Another facility's planning does not make lab's failure go away.
	e.declare(sampleOutage(t, "evt-ukd"))
	if code, body := e.readyz(h); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d %q after ukd's event, want 503 while lab's planning fails", code, body)
	}
	repaired.Store(true)
	ev.ID = "lab-2"
	if err := engine.PublishEvent(context.Background(), e.conn.JS, ev); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "ready again once lab's planning works", func() bool { code, _ := e.readyz(h); return code == http.StatusOK })
}

// TestReadinessOnAFullDisk: with the data folder on a small tmpfs that
// fills up, /readyz answers 503 naming what cannot be written; freeing the
// space makes it ready again. Needs the right to mount (root).
func TestReadinessOnAFullDisk(t *testing.T) {
	e := newEnv(t)
	data := filepath.Join(e.dir, "data")
	os.MkdirAll(data, 0o700)
	if err := syscall.Mount("tmpfs", data, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): run as root to test a full disk", err)
	}
	t.Cleanup(func() { syscall.Unmount(data, syscall.MNT_DETACH) })
	e.cfg.DataDir = data
	e.startWorker()
	h := e.handler()
	e.importCSV(fixture)
	waitUntil(t, "ready", func() bool { code, _ := e.readyz(h); return code == http.StatusOK })

	filler := filepath.Join(data, "filler")
	if out, err := exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=64k").CombinedOutput(); err == nil {
		t.Fatalf("dd filled nothing: %s", out)
	}
	var body string
	waitUntil(t, "not ready on a full disk", func() bool {
		var code int
		code, body = e.readyz(h)
		return code == http.StatusServiceUnavailable
	})
	if !strings.Contains(body, "cannot be written") || !strings.Contains(body, "no space left on device") {
		t.Errorf("/readyz said %q, want the folders that cannot be written", body)
	}
	os.Remove(filler)
	waitUntil(t, "ready again", func() bool { code, _ := e.readyz(h); return code == http.StatusOK })
}
