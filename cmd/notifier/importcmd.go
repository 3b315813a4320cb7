package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/importer"
)

func newImportCmd() *cobra.Command {
	var (
		f        natsFlags
		facility string
		quiet    bool
		maxRows  int
	)
	cmd := &cobra.Command{
		Use:   "import --facility ID FILE",
		Short: "Load appointments from a CSV file or FHIR bundle by publishing them to NATS",
		Long: `Load appointments by publishing each one to appointments.<facility>.<id>,
so that every worker's replica receives it. The stream is created when
missing, so import works before the first "notifier run".

FILE is a CSV file or a FHIR R4 Bundle (JSON) of Patient and Appointment
resources, told apart by content. A CSV file needs a header row; columns in
any order:
  id,department,location,start,end,status,kind,patient_id,patient_name,language,email,phone
id, start and patient_id are required in every row. A time without an offset
is read in the facility's time zone; an empty status means booked.

A broken row is reported with its line number and reason and does not stop
the rest. Progress shows as a bar on a terminal, otherwise as a line every
tenth of the file or every two seconds; --quiet shows none. Exit status: 0 when every row was accepted, 2 when some were
rejected and the rest imported, 1 when nothing could be imported.

The rows go as one JetStream fast batch, acknowledged every 500 rows, where
the stream takes them (a worker sets that when it starts, with nats-server
2.14 or later, unless nats.fast_import is false); otherwise, or if the
batch ends early, one by one with an acknowledgement each, and a note says
so.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.load()
			if err != nil {
				return &exitError{1, err}
			}
			fac, err := cfg.Facility(facility)
			if err != nil {
				return &exitError{1, err}
			}
			loc, err := fac.Location()
			if err != nil {
				return &exitError{1, err}
			}
			file, err := os.Open(args[0])
			if err != nil {
				return &exitError{1, err}
			}
			defer file.Close()
			var size int64
			if st, err := file.Stat(); err == nil {
				size = st.Size()
			}
			prog := newProgress(progressModeFor(quiet), "import", "importing", size, unitBytes)
			defer prog.done()
			in := &progressReader{r: file, p: prog}
			rows, skipped, err := app.OpenRows(in, facility, loc)
			if err != nil {
				return &exitError{1, err}
			}
			rows = app.LimitRows(app.AdmitRows(rows, fac), maxRows)
			for _, s := range skipped {
				prog.clear()
				fmt.Fprintln(cmd.ErrOrStderr(), "skipped:", s)
			}
			conn, err := app.ConnectWith(clientURL(cfg), cfg.NATS, slog.New(slog.DiscardHandler))
			if err != nil {
				return &exitError{1, err}
			}
			defer conn.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			errOut := cmd.ErrOrStderr()
			res, err := app.Import(ctx, conn.JS, rows, func(line int, err error) {
				prog.clear()
				var le *importer.LineError
				var ee *importer.EntryError
				if errors.As(err, &le) || errors.As(err, &ee) {
					fmt.Fprintln(errOut, "rejected:", err)
				} else {
					fmt.Fprintf(errOut, "rejected: line %d: %v\n", line, err)
				}
			}, func(r app.ImportResult) {
				prog.report(in.n, func() string {
					return fmt.Sprintf("%d rows, %d accepted, %d rejected", r.Accepted+r.Rejected, r.Accepted, r.Rejected)
				})
			})
			prog.done()
			if res.RowByRow != nil && !quiet {
				fmt.Fprintln(errOut, "note: rows were published one by one, each with its own acknowledgement (slower):", res.RowByRow)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d accepted, %d rejected\n", args[0], res.Accepted, res.Rejected)
			switch {
			case err != nil:
				return &exitError{1, err}
			case res.Accepted == 0:
				return &exitError{1, errors.New("nothing was imported")}
			case res.Rejected > 0:
				return &exitError{2, nil}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&facility, "facility", "", "facility id the appointments belong to (required)")
	cmd.Flags().IntVar(&maxRows, "max-rows", app.DefaultMaxRows, "refuse to go on past this many rows (0: no limit)")
	quietFlag(cmd, &quiet)
	_ = cmd.MarkFlagRequired("facility")
	return cmd
}
