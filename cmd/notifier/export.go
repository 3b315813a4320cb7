package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/config"
)

func newExportCmd() *cobra.Command {
	var (
		configFile string
		facility   string
		out        string
	)
	cmd := &cobra.Command{
		Use:   "export --facility ID [--out FILE]",
		Short: "Write the local replica's appointments as CSV in the import format",
		Long: `Write a facility's appointments from this worker's SQLite replica as CSV in
the import format (times with their offset). It needs no NATS.

This is how a worker moves to a laptop when NATS itself is lost: export on a
surviving worker, then on the laptop run "notifier run" (embedded NATS) and
"notifier import --facility ID FILE". Patients' channel preferences are not
exported.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configFile)
			if err != nil {
				return err
			}
			fac, err := cfg.Facility(facility)
			if err != nil {
				return err
			}
			loc, err := fac.Location()
			if err != nil {
				return err
			}
			db, err := app.OpenLocalStore(cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			var w io.Writer = cmd.OutOrStdout()
			if out != "" {
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			n, err := app.Export(context.Background(), db, facility, loc, w)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d appointments of %s\n", n, facility)
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "configuration file (YAML); its data_dir holds the replica")
	cmd.Flags().StringVar(&facility, "facility", "", "facility id (required)")
	cmd.Flags().StringVar(&out, "out", "", "file to write (created owner-only; default: standard output)")
	_ = cmd.MarkFlagRequired("facility")
	return cmd
}
