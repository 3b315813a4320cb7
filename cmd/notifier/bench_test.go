package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/postponement/notifier/bench"
)

// TestBench runs a small benchmark as a user would and checks that every
// figure is there and makes sense; it asserts no speed.
func TestBench(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bench.json")
	stdout, stderr, code := runCLI(t, "bench", "--appointments", "20000", "--affected", "2000", "--json", file)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"end to end", "baseline", "targets (2 cores):", "appointments_active_start",
		"NATS server: in its own process", "peak RSS: worker", "peak RSS: NATS server", "cores busy: worker, NATS server"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "load ") || !strings.Contains(stderr, "run ") {
		t.Errorf("no progress lines on stderr:\n%s", stderr)
	}
	t.Run("the NATS server's process is gone", func(t *testing.T) {
		m := regexp.MustCompile(`NATS server started in its own process \(pid (\d+)\)`).FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("no line with the NATS server's pid:\n%s", stderr)
		}
		pid, _ := strconv.Atoi(m[1])
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("process %d still there after the bench (%v)", pid, err)
		}
	})
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("every field is there", func(t *testing.T) {
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{
			"machine.cpus", "options.appointments", "options.affected", "options.patients_with_two", "options.conns",
			"options.size_bytes", "notices", "load.seconds", "load.per_second", "planning.seconds",
			"planning.query_plan", "delivery.first_accepted_ms", "delivery.last_accepted_seconds",
			"delivery.notices_per_second", "delivery.latency_p50_ms", "delivery.latency_p99_ms",
			"baseline.messages_per_second", "ratio", "memory.peak_rss_bytes", "sqlite.db_bytes", "targets",
			"options.nats_in_process", "memory.nats_peak_rss_bytes", "memory.nats_run_peak_rss_bytes", "cpu.run.nats_cores",
		} {
			var v any = doc
			for _, key := range strings.Split(path, ".") {
				m, _ := v.(map[string]any)
				v = m[key]
			}
			if v == nil {
				t.Errorf("%s: missing", path)
			}
		}
	})

	var r bench.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	t.Run("figures are sane", func(t *testing.T) {
		// 2000 affected, a tenth of the patients with two: 182 patients with
		// two and 1636 with one.
		if r.Notices != 1818 {
			t.Errorf("notices = %d, want 1818", r.Notices)
		}
		d := r.Delivery
		if d.Delivered != r.Notices || d.Manual != 0 || d.Pending != 0 || d.Repeated != 0 {
			t.Errorf("outcomes %+v; want all %d delivered once", d, r.Notices)
		}
		if r.Load.Appointments != 20000 || r.Load.Seconds <= 0 || r.Load.PerSecond <= 0 || r.Load.PublishSeconds > r.Load.Seconds {
			t.Errorf("load %+v", r.Load)
		}
		p := r.Planning
		if p.Seconds <= 0 || p.FirstChunkSeconds > p.Seconds || p.QuerySeconds <= 0 || !strings.Contains(p.QueryPlan, "appointments_active_start") {
			t.Errorf("planning %+v", p)
		}
		if d.FirstAcceptedMs <= 0 || d.FirstAcceptedMs > 1000*d.LastAcceptedSeconds ||
			d.LatencyP50Ms < d.FirstAcceptedMs || d.LatencyP99Ms < d.LatencyP50Ms || d.LatencyP99Ms > 1000*d.LastAcceptedSeconds {
			t.Errorf("timing %+v", d)
		}
		if d.LatencySource != "sink" || d.NoticesPerSecond <= 0 {
			t.Errorf("delivery %+v", d)
		}
		b := r.Baseline
		if b.Messages != r.Notices || b.Failed != 0 || b.MessagesPerSecond <= 0 {
			t.Errorf("baseline %+v", b)
		}
		if r.Ratio <= 0 {
			t.Errorf("ratio = %v", r.Ratio)
		}
		// Like is compared with like: both runs send messages of about
		// the size asked for (2 KB, or larger when rendered so).
		if d.MeanMessageBytes < 2048 || b.MeanMessageBytes < 2048 ||
			float64(d.MeanMessageBytes) > 1.05*float64(b.MeanMessageBytes) || float64(b.MeanMessageBytes) > 1.05*float64(d.MeanMessageBytes) {
			t.Errorf("mean message sizes: %d bytes end to end, %d in the baseline", d.MeanMessageBytes, b.MeanMessageBytes)
		}
		if r.Memory.PeakRSS <= 0 || r.SQLite.DBBytes <= 0 || r.Machine.CPUs <= 0 {
			t.Errorf("memory %+v, sqlite %+v, machine %+v", r.Memory, r.SQLite, r.Machine)
		}
		// The NATS server ran apart and was measured apart.
		m := r.Memory
		if r.Options.NATSInProcess || m.NATSPeakRSS <= 0 || m.NATSLoadPeakRSS <= 0 || m.NATSRunPeakRSS <= 0 || m.NATSBaselinePeakRSS <= 0 ||
			m.NATSPeakRSS != max(m.NATSLoadPeakRSS, m.NATSRunPeakRSS, m.NATSBaselinePeakRSS) {
			t.Errorf("NATS in process %v, memory %+v", r.Options.NATSInProcess, m)
		}
		// Publishing 20,000 appointments keeps the server busy.
		if r.CPU.Load.NATSCores <= 0 || r.CPU.Load.Cores <= 0 {
			t.Errorf("cpu during the load %+v", r.CPU.Load)
		}
		if len(r.Targets) != 5 {
			t.Errorf("%d targets, want 5", len(r.Targets))
		}
	})
}

// TestBenchNATSInProcess runs the NATS server inside the worker's process,
// as the bench did before it ran apart: one figure for both.
func TestBenchNATSInProcess(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bench.json")
	stdout, stderr, code := runCLI(t, "bench", "--appointments", "5000", "--affected", "500", "--nats-in-process", "--json", file)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"NATS server: in the worker's process", "worker and NATS server in one process", "cores busy: this process (others)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stderr, "its own process") {
		t.Errorf("a NATS server process was started:\n%s", stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var r bench.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Options.NATSInProcess || r.Memory.PeakRSS <= 0 || r.Memory.NATSPeakRSS != 0 || r.CPU.Run.NATSCores != 0 {
		t.Errorf("options %+v, memory %+v, cpu %+v", r.Options, r.Memory, r.CPU)
	}
	if r.Notices <= 0 || r.Delivery.Delivered != r.Notices || r.Baseline.Messages != r.Notices || r.Baseline.Failed != 0 {
		t.Errorf("%d notices, delivery %+v, baseline %+v", r.Notices, r.Delivery, r.Baseline)
	}
}
