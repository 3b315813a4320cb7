package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/postponement/notifier/internal/sample"
	"github.com/postponement/notifier/metrics"
)

// TestMetricsShowHowFarTheStoreIs: /metrics says up to which sequence the
// store has applied the appointment records, so that a load can be timed
// until the records are in the store, not only published.
func TestMetricsShowHowFarTheStoreIs(t *testing.T) {
	const n = 25
	e := newEnv(t)
	m := e.startInstrumented(testLogger(t))
	e.importCSV(sample.CSV(n))
	want := fmt.Sprintf(`notifier_view_applied_sequence{stream="APPOINTMENTS"} %d`, n)
	var text string
	waitUntil(t, "the metrics show every record applied", func() bool {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Body)
		text = string(body)
		return strings.Contains(text, want)
	})
	if !strings.Contains(text, `notifier_view_applied_sequence{stream="DELIVERIES"} 0`) {
		t.Errorf("scrape lacks the outcomes' view:\n%s", text)
	}
}

// startInstrumented starts the worker from e.cfg with its metrics, logging
// to log, and runs it until the test ends.
func (e *env) startInstrumented(log *slog.Logger) *metrics.Metrics {
	e.t.Helper()
	w, err := NewWorker(e.cfg, e.conn.JS, log)
	if err != nil {
		e.t.Fatal(err)
	}
	m := Instrument(w)
	e.w = w
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done; w.Close() })
	<-w.Ready()
	return m
}
