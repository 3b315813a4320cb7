package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
)

func newRunCmd() *cobra.Command {
	var f natsFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the worker: replicate appointments, plan and send notices",
		Long: `Run the worker until SIGINT or SIGTERM.

Without a configuration it starts an embedded NATS server on 127.0.0.1:4222
(JetStream, stored under ./data/nats), keeps its SQLite file at
./data/notifier.db and writes notices into the Maildir ./data/maildir.
With nats.url (or --nats-url) it connects to that NATS instead and starts
none. Streams and consumers are created when missing.

It serves a status page, the call lists, a JSON API, Prometheus metrics and
health checks on http.addr (default http://127.0.0.1:8025/).

On SIGINT or SIGTERM it stops taking work, finishes the sends in flight
(at most dispatch.shutdown_grace), drains its NATS connection and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			tuneGC()
			log := app.NewLogger(cfg.Log, os.Stderr)
			conn, err := app.StartOrConnect(cfg, log)
			if err != nil {
				return err
			}
			defer conn.Close()
			w, err := app.NewWorker(cfg, conn.JS, log)
			if err != nil {
				return err
			}
			defer w.Close()
			m := app.Instrument(w)
			stopHTTP, err := app.Serve(cfg, w, conn, m, log)
			if err != nil {
				return err
			}
			defer stopHTTP()
			_, stopBounces, err := app.ServeBounces(cfg, w, conn, log)
			if err != nil {
				return err
			}
			defer stopBounces()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log.Info("notifier started", "data_dir", cfg.DataDir, "db", w.DB.Path())
			if err := w.Run(ctx); err != nil {
				return err
			}
			log.Info("notifier stopped")
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
