package app

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/postponement/notifier/bench/synth"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/natsd"
)

// synthRows yields n synthetic appointments as import rows.
type synthRows struct {
	r    *synth.Records
	line int
}

func (s *synthRows) Next() (importer.Row, error) {
	a, ok := s.r.Next()
	if !ok {
		return importer.Row{}, io.EOF
	}
	s.line++
	return importer.Row{Line: s.line, Appointment: a}, nil
}

// BenchmarkImport imports appointments through NATS into a running
// worker's replica: one op is one appointment, from its publication until
// the replica has applied it.
func BenchmarkImport(b *testing.B) {
	dir := b.TempDir()
	srv, err := natsd.Start(natsd.Options{Port: -1, StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	conn, err := Connect(srv.ClientURL(), log)
	if err != nil {
		srv.Shutdown()
		b.Fatal(err)
	}
	conn.Server = srv
	defer conn.Close()
	cfg := config.Default()
	cfg.DataDir = dir
	w, err := NewWorker(cfg, conn.JS, log)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-w.Ready()

	// b.N grows between rounds; each round imports fresh appointments.
	set, err := synth.New(synth.Options{Appointments: 10_000_000, Affected: 1, Seed: 1,
		From: time.Date(2030, 3, 4, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	records := set.Records()
	b.ReportAllocs()
	b.ResetTimer()
	res, err := Import(ctx, conn.JS, &limited{rows: &synthRows{r: records}, n: b.N}, func(line int, err error) {
		b.Errorf("line %d: %v", line, err)
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := conn.JS.Stream(ctx, engine.StreamAppointments)
	if err != nil {
		b.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for w.ReplicaApplied() < info.State.LastSeq {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	if res.Accepted != b.N {
		b.Fatalf("%d accepted, want %d", res.Accepted, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// limited stops rows after n.
type limited struct {
	rows Rows
	n    int
}

func (l *limited) Next() (importer.Row, error) {
	if l.n == 0 {
		return importer.Row{}, io.EOF
	}
	l.n--
	return l.rows.Next()
}
