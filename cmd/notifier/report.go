package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/config"
)

// exitPending is report's exit status while some notices have no outcome.
const exitPending = 3

func newReportCmd() *cobra.Command {
	var configFile, outageID, format string
	cmd := &cobra.Command{
		Use:   "report [--outage ID] [--format table|csv|json]",
		Short: "Show outcomes, the patients to phone and refused input",
		Long: `Show, from this worker's local SQLite file (opened read-only, no NATS
needed), for one outage (--outage) or every outage: the notices per outcome
and the delivered ones per channel; the manual notices, whose patients staff
must phone (patient id, earliest appointment, every channel's reason); and
every refused outage event and appointment record with the reason.

--format csv writes one record per line under one header; the first column
says which: total, manual or reject.

Exit status: 0 when every notice has an outcome, 3 while some are pending or
an outage is still being planned, 1 on errors (an unknown outage among them).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			write := map[string]func(*app.Report) error{
				"table": func(r *app.Report) error { return r.WriteTable(cmd.OutOrStdout()) },
				"csv":   func(r *app.Report) error { return r.WriteCSV(cmd.OutOrStdout()) },
				"json":  func(r *app.Report) error { return r.WriteJSON(cmd.OutOrStdout()) },
			}[format]
			if write == nil {
				return fmt.Errorf("--format %q: want table, csv or json", format)
			}
			cfg, err := config.Load(configFile)
			if err != nil {
				return err
			}
			db, err := app.OpenLocalStore(cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := app.BuildReport(context.Background(), db, cfg, outageID)
			if err != nil {
				return err
			}
			if err := write(rep); err != nil {
				return err
			}
			if !rep.Complete {
				return &exitError{exitPending, nil}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "configuration file (YAML); without it the embedded defaults are used")
	cmd.Flags().StringVar(&outageID, "outage", "", "report this outage only (default: every outage)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv or json")
	return cmd
}
