package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/examples"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/natsd"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/relay"
	"github.com/postponement/notifier/store"
)

// DemoOptions configure the demo.
type DemoOptions struct {
	// Dir is the folder for all the demo writes (default: a new temporary
	// folder).
	Dir string
	// Log receives the worker's log lines (default: discarded).
	Log io.Writer
	// Progress, when set, is told how many notices have an outcome.
	Progress func(done, planned int)
	// Imported, when set, is told how many rows were read so far.
	Imported func(ImportResult)
}

// DemoReport is what the demo did.
type DemoReport struct {
	Dir          string
	Imported     ImportResult
	Rejects      []string
	Affected     int
	Summary      store.Summary
	Manual       []store.ManualNotice
	Maildir      string
	OutageID     string
	RelayRefused string
	Took         time.Duration

	loc *time.Location // the facility's time zone
}

// Missed counts patients without an outcome: neither told nor on the list
// for staff to phone. It must be 0.
func (r *DemoReport) Missed() int { return r.Summary.Pending }

// Demo runs the whole story on embedded defaults: an embedded NATS server,
// a SQLite file, a hospital relay that refuses connections and a working
// external relay; it imports the sample appointments, publishes the sample
// outage and waits until every notice has an outcome.
func Demo(ctx context.Context, o DemoOptions) (*DemoReport, error) {
	start := time.Now()
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "notifier-demo-")
		if err != nil {
			return nil, err
		}
		o.Dir = dir
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	log := slog.New(slog.NewTextHandler(o.Log, nil))
	rep := &DemoReport{Dir: o.Dir, Maildir: filepath.Join(o.Dir, "external-relay")}

	srv, err := natsd.Start(natsd.Options{Port: -1, StoreDir: filepath.Join(o.Dir, "nats")})
	if err != nil {
		return nil, err
	}
	conn, err := Connect(srv.ClientURL(), log)
	if err != nil {
		srv.Shutdown()
		return nil, err
	}
	conn.Server = srv
	defer conn.Close()

	refused, err := closedPort()
	if err != nil {
		return nil, err
	}
	rep.RelayRefused = refused
	external, err := relay.Start(relay.Options{Dir: rep.Maildir})
	if err != nil {
		return nil, err
	}
	defer external.Close()

	cfg := config.Default()
	cfg.DataDir = o.Dir
	cfg.Channels = []config.Channel{
		{Name: "hospital-relay", Type: config.TypeSMTP, Addr: refused, TLS: "none", From: "UKD <noreply@ukd.example.org>",
			DialTimeout: time.Second, Retry: config.Retry{Attempts: 2, Backoff: 20 * time.Millisecond}},
		{Name: "external-relay", Type: config.TypeSMTP, Addr: external.Addr(), TLS: "none", From: "UKD <noreply@ukd.example.org>"},
	}
	w, err := NewWorker(cfg, conn.JS, log)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()
	select {
	case <-w.Ready():
	case err := <-done:
		return nil, err
	}

	rep.loc, err = cfg.FacilityMap()["ukd"].Location()
	if err != nil {
		return nil, err
	}
	rows, err := importer.NewCSV(bytes.NewReader(examples.AppointmentsCSV), "ukd", rep.loc)
	if err != nil {
		return nil, err
	}
	rep.Imported, err = Import(ctx, conn.JS, rows, func(line int, err error) {
		rep.Rejects = append(rep.Rejects, err.Error())
	}, o.Imported)
	if err != nil {
		return nil, err
	}

	ev, err := notifier.DecodeEvent(examples.OutageJSON, "ukd")
	if err != nil {
		return nil, fmt.Errorf("sample outage: %w", err)
	}
	if err := engine.PublishEvent(ctx, conn.JS, ev); err != nil {
		return nil, err
	}
	rep.Summary, err = WaitForOutcomes(ctx, w.DB, ev, func(s store.Summary) {
		if o.Progress != nil {
			o.Progress(s.Delivered+s.Manual, s.Planned)
		}
	})
	if err != nil {
		return nil, err
	}
	rep.Affected = rep.Summary.Appointments
	rep.OutageID = ev.Outage.OutageID
	if rep.Manual, err = w.DB.ManualNotices(ctx, ev.Outage.OutageID); err != nil {
		return nil, err
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// closedPort returns a loopback address nothing listens on, so that
// connecting to it is refused.
func closedPort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// Print writes the report for people.
func (r *DemoReport) Print(w io.Writer) {
	s := r.Summary
	fmt.Fprintf(w, "\nnotifier demo: outage of the sample hospital, hospital relay down\n\n")
	fmt.Fprintf(w, "  appointments imported   %d (%d rows rejected)\n", r.Imported.Accepted, r.Imported.Rejected)
	fmt.Fprintf(w, "  appointments affected   %d\n", r.Affected)
	fmt.Fprintf(w, "  patients notified       %d\n", s.Planned)
	channels := make([]string, 0, len(s.ByChannel))
	for ch := range s.ByChannel {
		channels = append(channels, ch)
	}
	sort.Strings(channels)
	fmt.Fprintf(w, "  delivered               %d\n", s.Delivered)
	for _, ch := range channels {
		fmt.Fprintf(w, "    via %-19s %d\n", ch, s.ByChannel[ch])
	}
	fmt.Fprintf(w, "    via hospital-relay    0 (%s refused every connection)\n", r.RelayRefused)
	fmt.Fprintf(w, "  to call by hand         %d\n", s.Manual)
	for _, m := range r.Manual {
		fmt.Fprintf(w, "    patient %-10s first appointment %s: %s\n", m.PatientID, m.Earliest.In(r.loc).Format("Mon 2006-01-02 15:04"), strings.Join(reasonList(m.Trail), "; "))
	}
	fmt.Fprintf(w, "  missed                  %d\n", r.Missed())
	fmt.Fprintf(w, "  messages written to     %s\n", filepath.Join(r.Maildir, "new"))
	if s.Manual > 0 {
		fmt.Fprintf(w, "  call list               %s\n", filepath.Join(r.Dir, "calllist", r.OutageID+".html"))
	}
	fmt.Fprintf(w, "  worker data             %s\n", r.Dir)
	fmt.Fprintf(w, "  took                    %s\n", r.Took.Round(time.Millisecond))
}
