package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/config"
)

func newPreviewCmd() *cobra.Command {
	var (
		configFile string
		ev         eventFlags
		format     string
		quiet      bool
	)
	cmd := &cobra.Command{
		Use:   "preview (--event FILE | --facility ID --from T1 --until T2 --departments LIST --hotline NUMBER)",
		Short: "Show what an outage event would do, without sending anything",
		Long: `Show what an outage event would do if it were published now, from this
worker's local replica (the SQLite file under data_dir, opened read-only).
It needs no NATS and sends nothing.

It takes the same flags as publish, or --event FILE, and prints: the
appointments and patients affected, by department and by day (in the
facility's time zone); how many patients each channel would be tried first
for (the configured order, without the channels the patient has no contact
data for, the patient's own preference first) and how many go straight to
the call list; how many patients have neither e-mail nor phone; how many are
urgent (earliest appointment within dispatch.urgent_within); and one sample
notice per language, rendered for the soonest patient of that language.

The samples show patient data: they are for your screen, not for logs.
For outage.updated the whole new scope is shown, not only what is new.`,
		Example: `  notifier preview --event examples/outage.json
  notifier preview --facility ukd --from 2020-10-21 --until 2020-10-28 \
    --departments '*' --hotline '+49 211 81-04444' --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			cfg, err := config.Load(configFile)
			if err != nil {
				return err
			}
			event, err := ev.event(cfg)
			if err != nil {
				return err
			}
			db, err := app.OpenLocalStore(cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			prog := newProgress(progressModeFor(quiet), "preview", "reading appointments", 0, unitItems)
			p, err := app.PreviewEvent(ctx, db, cfg, event, app.PreviewOptions{Progress: func(n int) {
				prog.report(int64(n), func() string { return fmt.Sprintf("%d affected appointments read", n) })
			}})
			prog.done()
			if err != nil {
				return err
			}
			if format == "json" {
				return p.WriteJSON(cmd.OutOrStdout())
			}
			return p.WriteTable(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "configuration file (YAML); without it the embedded defaults are used")
	ev.register(cmd)
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	quietFlag(cmd, &quiet)
	return cmd
}
