package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
)

func newDemoCmd() *cobra.Command {
	var (
		dir     string
		verbose bool
		quiet   bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole story on embedded defaults and print a summary",
		Long: `Run the whole story on embedded defaults and exit: start an embedded NATS
server (JetStream), a SQLite file and two in-process SMTP relays, of which the
first (the "hospital relay") refuses connections; import the sample
appointments; publish the sample outage; wait until every notice has an
outcome; print what happened and where the messages were written.

Progress shows as a bar on a terminal, otherwise as a line every tenth of the
notices or every two seconds; --quiet shows none.

Exit status 0 when every patient was either told or put on the list for staff
to phone (missed = 0).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			opts := app.DemoOptions{Dir: dir}
			mode := progressModeFor(quiet)
			if verbose {
				opts.Log = cmd.ErrOrStderr()
				if mode == progressBar {
					mode = progressLines // a bar would be torn by the log lines
				}
			}
			// One progress per stage: the import, then the notices.
			var imported, notices *progress
			opts.Imported = func(r app.ImportResult) {
				if imported == nil {
					imported = newProgress(mode, "demo", "importing", 0, unitItems)
				}
				imported.report(int64(r.Accepted+r.Rejected), func() string {
					return fmt.Sprintf("imported %d rows, %d accepted, %d rejected", r.Accepted+r.Rejected, r.Accepted, r.Rejected)
				})
			}
			opts.Progress = func(done, planned int) {
				if notices == nil {
					imported.done()
					notices = newProgress(mode, "demo", "notices", int64(planned), unitItems)
				}
				notices.setTotal(int64(planned))
				notices.report(int64(done), func() string {
					return fmt.Sprintf("%d of %d notices have an outcome", done, planned)
				})
			}
			rep, err := app.Demo(ctx, opts)
			imported.done()
			notices.done()
			if err != nil {
				return err
			}
			rep.Print(cmd.OutOrStdout())
			if rep.Missed() > 0 {
				return &exitError{1, fmt.Errorf("%d patients were missed", rep.Missed())}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder for the demo's data and messages (default: a new temporary folder)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show the worker's log")
	quietFlag(cmd, &quiet)
	return cmd
}
