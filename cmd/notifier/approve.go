package main

import (
	"context"
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
	)
	cmd := &cobra.Command{
		Use:   "approve OUTAGE_ID --facility ID [--sign-key FILE]",
		Short: "Release an outage held for approval",
		Long: `Publish an outage.approved event for an outage that was held because it would
notify more patients than the facility's approval_threshold: its notices are
then sent. When the facility lists approvers, the event must be signed with
one of their keys (--sign-key).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			if _, ok := cfg.FacilityMap()[facility]; !ok {
				return fmt.Errorf("unknown facility %q: add it under facilities in the configuration", facility)
			}
			ev, err := app.BuildEvent(app.EventOptions{Type: notifier.EventApproved, Facility: facility, OutageID: args[0], Source: source})
			if err != nil {
				return err
			}
			if signKey != "" {
				if ev, err = app.SignWith(ev, signKey); err != nil {
					return err
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := app.PublishOutageEvent(ctx, cfg, clientURL(cfg), ev); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "published %s %s (outage %s)\n", ev.Type, ev.ID, ev.Outage.OutageID)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&facility, "facility", "", "facility id (required)")
	cmd.Flags().StringVar(&signKey, "sign-key", "", "sign the approval with this private key file")
	cmd.Flags().StringVar(&source, "source", "/notifier/cli", "CloudEvents source")
	_ = cmd.MarkFlagRequired("facility")
	return cmd
}
