package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
)

func newDemoCmd() *cobra.Command {
	var (
		dir     string
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole story on embedded defaults and print a summary",
		Long: `Run the whole story on embedded defaults and exit: start an embedded NATS
server (JetStream), a SQLite file and two in-process SMTP relays, of which the
first (the "hospital relay") refuses connections; import the sample
appointments; publish the sample outage; wait until every notice has an
outcome; print what happened and where the messages were written.

Exit status 0 when every patient was either told or put on the list for staff
to phone (missed = 0).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			opts := app.DemoOptions{Dir: dir}
			if verbose {
				opts.Log = cmd.ErrOrStderr()
			}
			var bar *progressbar.ProgressBar
			if isTerminal(os.Stderr) && !verbose {
				bar = progressbar.NewOptions(-1, progressbar.OptionSetDescription("notices"),
					progressbar.OptionSetWriter(os.Stderr), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
				opts.Progress = func(done, planned int) {
					if planned > 0 {
						bar.ChangeMax(planned)
					}
					bar.Set(done)
				}
			}
			rep, err := app.Demo(ctx, opts)
			if bar != nil {
				bar.Finish()
			}
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
	return cmd
}
