package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/bench"
	"github.com/postponement/notifier/config"
)

func newBenchCmd() *cobra.Command {
	var (
		o        bench.Options
		two      string
		size     string
		jsonFile string
		verbose  bool
		inProc   bool
		dataDir  string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the whole worker on synthetic appointments, for capacity planning",
		Long: `Measure the whole worker on synthetic appointments.

bench runs the worker in this process, with its SQLite file in a temporary
folder, and a NATS JetStream server in a process of its own, as NATS runs in
production: "notifier nats" from this executable, with its store in the same
folder, started and stopped by bench. --nats-in-process runs the NATS server
inside the worker's process instead, as "notifier run" does without nats.url;
the memory of that one process is then mostly NATS's index of the stored
appointments.

It generates --appointments appointments (seeded: the same --seed gives the
same data) of which exactly --affected fall into a week-long outage starting at
the next midnight, and --patients-with-two of the affected patients have two
affected appointments. It publishes them to appointments.<facility>.<id> as
"notifier import" does and waits until the worker's replica has applied them,
publishes the outage and runs the worker until every notice has an outcome.

Notices go to --smtp (use a relay that accepts and discards, such as Postfix's
smtp-sink or MailHog: the recipients are synthetic; tls none for a loopback
address, STARTTLS otherwise) or by default to an SMTP relay inside the process
that accepts everything, at once or, with --relay-latency, after that long for
each message, as a relay that stores a message before it answers does (a few
milliseconds: then the relay is the limit, as it should be). Then, as the
baseline, as many messages of the same size are sent straight through the same
SMTP channel with the same number of connections into the same relay. They
are pre-rendered, but only 1,000 distinct ones (fewer for fewer notices), sent
in turn, each with a notice id of its own and composed as it is sent, as the
worker's notices are: the baseline holds no more in memory for more messages.

--size pads each message's plain-text part so that the composed message
has that size (KB = 1024 bytes); messages already larger are sent as they are.

It prints the load rate, planning time, time to the first and the last notice
accepted, notices per second end to end against the baseline, latency
percentiles, the SQLite file size, and the peak memory and how busy the
processors were, of the worker's process and of the NATS server's apart and
of other processes (other work on the machine makes every figure slower), and
whether the project's targets for a 2-core machine are met; the peak memory
target is the worker's process. The defaults take a minute or two; progress
lines go to stderr. --profile writes CPU, heap, block and mutex profiles of
each phase of the worker's process for "go tool pprof" (the NATS server's
work is in them only with --nats-in-process).

--write-data DIR runs nothing: it writes the same synthetic appointments as
DIR/appointments.csv (the import format) and their outage as DIR/outage.json,
so that the real commands can be measured against servers of one's own:
"notifier import", then "notifier publish --event" into a running
"notifier run" (bench/postfix.sh does so, beside Postfix's smtp-source).`,
		Example: `  notifier bench
  notifier bench --appointments 20000 --affected 2000 --json bench.json
  notifier bench --smtp 127.0.0.1:2525 --conns 40 --size 20KB
  notifier bench --nats-in-process
  notifier bench --relay-latency 5ms
  notifier bench --profile prof && go tool pprof -top prof/run.cpu.pprof
  notifier bench --appointments 200000 --affected 50000 --write-data data/bench`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.PatientsWithTwo, err = parseShare(two); err != nil {
				return fmt.Errorf("--patients-with-two: %w", err)
			}
			if o.Size, err = parseSize(size); err != nil {
				return fmt.Errorf("--size: %w", err)
			}
			if o.Appointments <= 0 || o.Affected <= 0 || o.Affected > o.Appointments {
				return fmt.Errorf("--affected must be between 1 and --appointments (%d)", o.Appointments)
			}
			if dataDir != "" {
				d, err := bench.WriteData(o, dataDir)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d appointments, %d affected\n%s: outage %s of facility %s, %d notices\n",
					d.CSV, d.Appointments, d.Affected, d.Event, d.OutageID, d.Facility, d.Notices)
				return nil
			}
			tuneGC()
			o.Progress = cmd.ErrOrStderr()
			if verbose {
				o.Log = cmd.ErrOrStderr()
			}
			if !inProc {
				o.StartNATS = startNATSProcess
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, runErr := bench.Run(ctx, o)
			if res == nil {
				return runErr
			}
			// The figures stand even if the NATS server then failed to
			// stop cleanly (runErr says so).
			res.Print(cmd.OutOrStdout())
			if jsonFile != "" {
				data, err := json.MarshalIndent(res, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(jsonFile, append(data, '\n'), 0o644); err != nil {
					return err
				}
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Appointments, "appointments", bench.DefaultAppointments, "appointments stored")
	f.IntVar(&o.Affected, "affected", bench.DefaultAffected, "appointments the outage affects")
	f.StringVar(&two, "patients-with-two", "10%", "share of affected patients with two affected appointments")
	f.StringVar(&o.SMTP, "smtp", "", "relay to send to, HOST:PORT (default: a relay in this process)")
	f.IntVar(&o.Conns, "conns", bench.DefaultConns, "SMTP connections, and so sends in flight")
	f.IntVar(&o.Parallel, "parallel", 0, fmt.Sprintf("notices the worker handles at once, per priority (dispatch.parallel; default %d or --conns, whichever is larger)", config.DefaultParallel))
	f.DurationVar(&o.RelayLatency, "relay-latency", 0, "how long the in-process relay takes to accept each message, as a relay that stores it before answering (e.g. 5ms; default: at once)")
	f.StringVar(&size, "size", "2KB", "size of a composed message; smaller ones are padded (0: as rendered)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the synthetic appointments")
	f.StringVar(&jsonFile, "json", "", "also write the figures to this file as JSON")
	f.StringVar(&o.Dir, "dir", "", "folder for NATS, SQLite and the worker log, kept afterwards (default: a temporary folder, removed)")
	f.BoolVar(&inProc, "nats-in-process", false, "run the NATS server inside the worker's process, measured together (default: a process of its own, as in production)")
	f.StringVar(&o.ProfileDir, "profile", "", "write a CPU profile of each phase and a heap profile into this folder")
	f.BoolVarP(&verbose, "verbose", "v", false, "show the worker's log")
	f.StringVar(&dataDir, "write-data", "", "write the synthetic appointments (CSV) and outage event (JSON) into this folder and run nothing")
	return cmd
}

// parseShare reads "10%" or "0.1".
func parseShare(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a share such as 10%% or 0.1", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%q is not between 0%% and 100%%", s)
	}
	return v, nil
}

// parseSize reads "2048", "2KB" or "1MB" (KB = 1024 bytes).
func parseSize(s string) (int, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	unit := 1
	for _, u := range []struct {
		suffix string
		n      int
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, unit = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.n
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v*float64(unit) > 64<<20 {
		return 0, fmt.Errorf("not a size such as 2KB, up to 64MB")
	}
	return int(v * float64(unit)), nil
}
