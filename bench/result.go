package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what a run measured. Times are from the outage's publication
// unless said otherwise.
type Result struct {
	Machine Machine       `json:"machine"`
	Options ResultOptions `json:"options"`
	// Notices is the number of affected patients, one notice each.
	Notices int `json:"notices"`
	// UrgentNotices is how many of them the policy made urgent.
	UrgentNotices int      `json:"urgent_notices"`
	Load          Load     `json:"load"`
	Planning      Planning `json:"planning"`
	Delivery      Delivery `json:"delivery"`
	Baseline      Baseline `json:"baseline"`
	// Ratio is end-to-end notices per second over baseline messages per
	// second.
	Ratio  float64 `json:"ratio"`
	Memory Memory  `json:"memory"`
	// CPU is the processor use of each phase: a machine shared with other
	// work gives slower figures, and says so here.
	CPU         Phases   `json:"cpu"`
	SQLite      SQLite   `json:"sqlite"`
	Targets     []Target `json:"targets"`
	TookSeconds float64  `json:"took_seconds"`
}

// Machine is where the run ran.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPU        string `json:"cpu"`
	OS         string `json:"os"`
	Go         string `json:"go"`
}

// ResultOptions are the options the run used.
type ResultOptions struct {
	Appointments    int     `json:"appointments"`
	Affected        int     `json:"affected"`
	PatientsWithTwo float64 `json:"patients_with_two"`
	SMTP            string  `json:"smtp,omitempty"`
	// RelayLatencyMs is how long the in-process relay took to accept each
	// message (--relay-latency).
	RelayLatencyMs float64 `json:"relay_latency_ms,omitempty"`
	TLS            string  `json:"tls"`
	Conns          int     `json:"conns"`
	Parallel       int     `json:"parallel"`
	SizeBytes      int     `json:"size_bytes"`
	Seed           uint64  `json:"seed"`
	// NATSInProcess is whether the NATS server ran inside the worker's
	// process; else it ran in its own, as in production, and Memory and
	// CPU give its figures apart.
	NATSInProcess bool `json:"nats_in_process"`
}

// Load is the import: appointments published to NATS and applied by the
// worker's replica.
type Load struct {
	Appointments int `json:"appointments"`
	// PublishSeconds is until NATS acknowledged the last record, Seconds
	// until the replica applied it.
	PublishSeconds float64 `json:"publish_seconds"`
	Seconds        float64 `json:"seconds"`
	PerSecond      float64 `json:"per_second"`
}

// Planning is the planner's part.
type Planning struct {
	// Seconds is until the last notice was stored in NOTICES, while the
	// dispatcher already sends; FirstChunkSeconds until the first chunk was.
	Seconds           float64 `json:"seconds"`
	FirstChunkSeconds float64 `json:"first_chunk_seconds"`
	// QuerySeconds is the store's query and the grouping into notices
	// alone, run again after the run on the same file.
	QuerySeconds float64 `json:"query_seconds"`
	// QueryPlan is SQLite's EXPLAIN QUERY PLAN of the query.
	QueryPlan string `json:"query_plan"`
}

// Delivery is the notices' way from the outage's publication to the relay.
type Delivery struct {
	Delivered int `json:"delivered"`
	Manual    int `json:"manual"`
	Pending   int `json:"pending"`
	// Repeated counts notices the relay accepted more than once.
	Repeated       int `json:"repeated"`
	FailedAttempts int `json:"failed_attempts"`
	// FirstAcceptedMs and LastAcceptedSeconds are when the relay accepted
	// the first and the last notice.
	FirstAcceptedMs     float64 `json:"first_accepted_ms"`
	LastAcceptedSeconds float64 `json:"last_accepted_seconds"`
	// Seconds is until the last outcome was stored in DELIVERIES.
	Seconds          float64 `json:"seconds"`
	NoticesPerSecond float64 `json:"notices_per_second"`
	// LatencyP50Ms and LatencyP99Ms are percentiles of the time from the
	// outage's publication to each notice's acceptance, measured where
	// LatencySource says: "sink" (the in-process relay, by Message-ID) or
	// "worker" (when the channel returned, as the DELIVERIES trail records).
	LatencyP50Ms     float64 `json:"latency_p50_ms"`
	LatencyP99Ms     float64 `json:"latency_p99_ms"`
	LatencySource    string  `json:"latency_source"`
	MeanMessageBytes int64   `json:"mean_message_bytes,omitempty"`
}

func (d *Delivery) setLatencies(accepted []time.Time, t0 time.Time) {
	s := sortedSeconds(accepted, t0)
	if len(s) == 0 {
		return
	}
	d.FirstAcceptedMs = 1000 * s[0]
	d.LastAcceptedSeconds = s[len(s)-1]
	d.LatencyP50Ms = 1000 * percentile(s, 50)
	d.LatencyP99Ms = 1000 * percentile(s, 99)
}

// Baseline is the same messages sent straight through the SMTP channel.
type Baseline struct {
	Messages          int     `json:"messages"`
	Failed            int     `json:"failed"`
	FirstError        string  `json:"first_error,omitempty"`
	Seconds           float64 `json:"seconds"`
	MessagesPerSecond float64 `json:"messages_per_second"`
	MeanMessageBytes  int64   `json:"mean_message_bytes,omitempty"`
}

// Memory is the peak resident set (VmHWM) of the worker's process and of
// the NATS server's, over the whole run and, where the kernel lets the peak
// be reset, per phase.
type Memory struct {
	// PeakRSS and the phases' peaks are the worker's process, with the
	// NATS server in it when options.nats_in_process.
	PeakRSS         int64 `json:"peak_rss_bytes"`
	LoadPeakRSS     int64 `json:"load_peak_rss_bytes"`
	RunPeakRSS      int64 `json:"run_peak_rss_bytes"`
	BaselinePeakRSS int64 `json:"baseline_peak_rss_bytes"`
	// NATSPeakRSS and the NATS phases' peaks are the NATS server's own
	// process; 0 when it ran in the worker's (options.nats_in_process).
	NATSPeakRSS         int64 `json:"nats_peak_rss_bytes"`
	NATSLoadPeakRSS     int64 `json:"nats_load_peak_rss_bytes"`
	NATSRunPeakRSS      int64 `json:"nats_run_peak_rss_bytes"`
	NATSBaselinePeakRSS int64 `json:"nats_baseline_peak_rss_bytes"`
	// PhasePeaks is false when the peaks could not be reset between
	// phases: each figure is then the peak so far.
	PhasePeaks bool `json:"phase_peaks"`
}

// Phases is a figure for each phase.
type Phases struct {
	Load     CPU `json:"load"`
	Run      CPU `json:"run"`
	Baseline CPU `json:"baseline"`
}

// CPU is a phase's processor use: its length, and the cores kept busy on
// average by the worker's process (Cores), by the NATS server's when it
// runs in its own (NATSCores; 0 when it runs in the worker's, which then
// counts it) and by all other processes of the machine (OtherCores).
type CPU struct {
	Seconds    float64 `json:"seconds"`
	Cores      float64 `json:"cores"`
	NATSCores  float64 `json:"nats_cores"`
	OtherCores float64 `json:"other_cores"`
}

// String writes the cores this process kept busy and, in brackets, others.
func (c CPU) String() string {
	return fmt.Sprintf("%.2f (others %.2f)", c.Cores, c.OtherCores)
}

// apart writes the cores the worker, the NATS server and, in brackets,
// others kept busy.
func (c CPU) apart() string {
	return fmt.Sprintf("%.2f, %.2f (%.2f)", c.Cores, c.NATSCores, c.OtherCores)
}

// SQLite is the size of the worker's database after the run.
type SQLite struct {
	DBBytes  int64 `json:"db_bytes"`
	WALBytes int64 `json:"wal_bytes"`
	// LoadedDBBytes and LoadedWALBytes are the sizes once the appointments
	// were loaded, before the outage.
	LoadedDBBytes  int64 `json:"loaded_db_bytes"`
	LoadedWALBytes int64 `json:"loaded_wal_bytes"`
}

// Target is one of the project's performance targets, for a 2-core machine.
type Target struct {
	Name string  `json:"name"`
	Want string  `json:"want"`
	Got  float64 `json:"got"`
	Unit string  `json:"unit"`
	Met  bool    `json:"met"`
	// Note says what the figure covers, where that needs saying.
	Note string `json:"note,omitempty"`
}

func targets(r *Result) []Target {
	mb := float64(r.Memory.PeakRSS) / (1 << 20)
	rss := "worker and NATS server in one process"
	if !r.Options.NATSInProcess {
		rss = fmt.Sprintf("the worker's process; the NATS server runs in its own, as in production: peak %s", mib(r.Memory.NATSPeakRSS))
	}
	return []Target{
		{"planning", "< 2 s", r.Planning.Seconds, "s", r.Planning.Seconds < 2, ""},
		{"end to end vs baseline", ">= 0.70", r.Ratio, "", r.Ratio >= 0.70, ""},
		{"first notice accepted", "<= 200 ms", r.Delivery.FirstAcceptedMs, "ms", r.Delivery.FirstAcceptedMs > 0 && r.Delivery.FirstAcceptedMs <= 200, ""},
		{"import", ">= 50000/s", r.Load.PerSecond, "/s", r.Load.PerSecond >= 50_000, ""},
		{"peak RSS", "< 256 MB", mb, "MB", mb < 256, rss},
	}
}

// Print writes the result for people.
func (r *Result) Print(w io.Writer) {
	o := r.Options
	relay := o.SMTP
	if relay == "" {
		relay = "in-process sink"
		if o.RelayLatencyMs > 0 {
			relay += fmt.Sprintf(" answering after %g ms", o.RelayLatencyMs)
		}
	}
	fmt.Fprintf(w, "\nnotifier bench: %d appointments, %d affected, %.0f%% of patients with two; %d notices (%d urgent)\n",
		o.Appointments, o.Affected, 100*o.PatientsWithTwo, r.Notices, r.UrgentNotices)
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), %s, %s, %s; relay: %s, tls %s, %d connections, %d notices at once\n",
		r.Machine.CPUs, r.Machine.GOMAXPROCS, r.Machine.CPU, r.Machine.OS, r.Machine.Go, relay, o.TLS, o.Conns, o.Parallel)
	if o.NATSInProcess {
		fmt.Fprintf(w, "NATS server: in the worker's process (--nats-in-process): memory and processor figures are of both together\n\n")
	} else {
		fmt.Fprintf(w, "NATS server: in its own process (notifier nats), as in production: its memory and processor use are given apart\n\n")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	l, p, d, b := r.Load, r.Planning, r.Delivery, r.Baseline
	rows := [][2]string{
		{"load (publish + replica)", fmt.Sprintf("%.1f s, %.0f appointments/s (published in %.1f s)", l.Seconds, l.PerSecond, l.PublishSeconds)},
		{"planning (to last notice in NOTICES)", fmt.Sprintf("%.2f s (first chunk %.0f ms; query and grouping alone %.2f s)", p.Seconds, 1000*p.FirstChunkSeconds, p.QuerySeconds)},
		{"first notice accepted", fmt.Sprintf("%.0f ms", d.FirstAcceptedMs)},
		{"last notice accepted", fmt.Sprintf("%.1f s", d.LastAcceptedSeconds)},
		{"end to end", fmt.Sprintf("%.0f notices/s", d.NoticesPerSecond)},
		{"baseline (same SMTP client)", fmt.Sprintf("%.0f messages/s (%d in %.1f s, %d failed)", b.MessagesPerSecond, b.Messages, b.Seconds, b.Failed)},
		{"end to end / baseline", fmt.Sprintf("%.0f%%", 100*r.Ratio)},
		{"latency p50 / p99", fmt.Sprintf("%.0f ms / %.0f ms (from publication to acceptance, at the %s)", d.LatencyP50Ms, d.LatencyP99Ms, d.LatencySource)},
		{"message size", fmt.Sprintf("%s notices, %s baseline", bytesOrUnknown(d.MeanMessageBytes), bytesOrUnknown(b.MeanMessageBytes))},
		{"outcomes", fmt.Sprintf("%d delivered, %d manual, %d pending, %d accepted twice, %d failed attempts", d.Delivered, d.Manual, d.Pending, d.Repeated, d.FailedAttempts)},
	}
	m := r.Memory
	if o.NATSInProcess {
		rows = append(rows, [2]string{"peak RSS", fmt.Sprintf("%s (load %s, run %s, baseline %s), worker and NATS server in one process",
			mib(m.PeakRSS), mib(m.LoadPeakRSS), mib(m.RunPeakRSS), mib(m.BaselinePeakRSS))})
	} else {
		rows = append(rows,
			[2]string{"peak RSS: worker", fmt.Sprintf("%s (load %s, run %s, baseline %s)",
				mib(m.PeakRSS), mib(m.LoadPeakRSS), mib(m.RunPeakRSS), mib(m.BaselinePeakRSS))},
			[2]string{"peak RSS: NATS server", fmt.Sprintf("%s (load %s, run %s, baseline %s), in its own process",
				mib(m.NATSPeakRSS), mib(m.NATSLoadPeakRSS), mib(m.NATSRunPeakRSS), mib(m.NATSBaselinePeakRSS))})
	}
	rows = append(rows, [2]string{"SQLite file", fmt.Sprintf("%s (+ %s WAL); after the load %s (+ %s WAL)", mib(r.SQLite.DBBytes), mib(r.SQLite.WALBytes),
		mib(r.SQLite.LoadedDBBytes), mib(r.SQLite.LoadedWALBytes))})
	if o.NATSInProcess {
		rows = append(rows, [2]string{"cores busy: this process (others)",
			fmt.Sprintf("load %s, run %s, baseline %s of %d", r.CPU.Load, r.CPU.Run, r.CPU.Baseline, r.Machine.CPUs)})
	} else {
		rows = append(rows, [2]string{"cores busy: worker, NATS server (others)",
			fmt.Sprintf("load %s; run %s; baseline %s of %d", r.CPU.Load.apart(), r.CPU.Run.apart(), r.CPU.Baseline.apart(), r.Machine.CPUs)})
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
	}
	tw.Flush()
	fmt.Fprintf(w, "\ntargets (2 cores):\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range r.Targets {
		met := "MISSED"
		if t.Met {
			met = "met"
		}
		if t.Note != "" {
			met += " (" + t.Note + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%.2f %s\t%s\n", t.Name, t.Want, t.Got, t.Unit, met)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nquery plan of the affected lookup:\n  %s\n", strings.ReplaceAll(strings.TrimSpace(r.Planning.QueryPlan), "\n", "\n  "))
	fmt.Fprintf(w, "took %.1f s\n", r.TookSeconds)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

func bytesOrUnknown(b int64) string {
	if b == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%d bytes", b)
}
