package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/notifier"
)

func newApproveCmd() *cobra.Command {
	var (
		f        natsFlags
		facility string
		signKey  string
		source   string
		scope    string
		wait     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "approve OUTAGE_ID --facility ID [--scope DIGEST] [--sign-key FILE]",
		Short: "Release an outage held for approval",
		Long: `Publish an outage.approved event for an outage that was held because it would
notify more patients than the facility's approval_threshold: its notices are
then sent. When the facility lists approvers, the event must be signed with
one of their keys (--sign-key).

--scope names the scope you approve: the digest the status page shows for
the held outage (its window, departments, kinds, action and number of
patients). If the outage was updated since, the approval is refused and
nothing is sent; without --scope the approval releases whatever is held
when a worker plans it. An approval published longer ago than the
facility's approval_ttl (24h) releases nothing.

The command waits (--wait, 30s) for a worker's answer and prints it. Exit
status: 0 when the notices were released, 1 when the approval was refused
(nothing held, another scope, not signed by an approver, expired), 2 when no
worker answered in time (the approval stays published and is planned when a
worker runs).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			if _, err := cfg.Facility(facility); err != nil {
				return err
			}
			ev, err := app.BuildEvent(app.EventOptions{Type: notifier.EventApproved, Facility: facility, OutageID: args[0], Source: source, Scope: scope})
			if err != nil {
				return err
			}
			if signKey != "" {
				if ev, err = app.SignWith(ev, signKey); err != nil {
					return err
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second+wait)
			defer cancel()
			out := cmd.OutOrStdout()
			if wait <= 0 {
				if err := app.PublishOutageEvent(ctx, cfg, clientURL(cfg), ev); err != nil {
					return err
				}
				fmt.Fprintf(out, "published %s %s (outage %s)\n", ev.Type, ev.ID, ev.Outage.OutageID)
				return nil
			}
			res, err := app.PublishAndAwait(ctx, cfg, clientURL(cfg), ev, wait)
			switch {
			case errors.Is(err, app.ErrNoAnswer):
				return &exitError{2, fmt.Errorf("published %s %s, but no worker answered within %s: it is released when a worker plans it", ev.Type, ev.ID, wait)}
			case err != nil:
				return &exitError{1, err}
			case res.Refused != "":
				return &exitError{1, fmt.Errorf("approval refused: %s", res.Refused)}
			}
			fmt.Fprintf(out, "outage %s approved: %d held notices released\n", ev.Outage.OutageID, res.Released)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&facility, "facility", "", "facility id (required)")
	cmd.Flags().StringVar(&signKey, "sign-key", "", "sign the approval with this private key file")
	cmd.Flags().StringVar(&source, "source", "/notifier/cli", "CloudEvents source")
	cmd.Flags().StringVar(&scope, "scope", "", "the held scope's digest, as the status page shows it")
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Second, "how long to wait for a worker's answer (0: publish and return)")
	_ = cmd.MarkFlagRequired("facility")
	return cmd
}
