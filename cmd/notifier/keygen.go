package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
)

func newKeygenCmd() *cobra.Command {
	var id, out string
	cmd := &cobra.Command{
		Use:   "keygen --id KEY_ID [--out PREFIX]",
		Short: "Make an Ed25519 key pair for signing outage events",
		Long: `Make an Ed25519 key pair: PREFIX.key, the private key (owner-only; keep it on
the publishing side, never on the workers), and PREFIX.pub, the public key,
one line "ed25519:<id>:<base64>" to list under a facility's keys (or
approvers) in the workers' configuration. Sign with
"notifier publish --sign-key PREFIX.key" or "notifier approve --sign-key".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				out = id
			}
			pub, err := app.WriteKeyPair(id, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s.key (private, keep it secret) and %s.pub\n", out, out)
			fmt.Fprintln(cmd.OutOrStdout(), pub.String())
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "key id, named in signatures (required; [A-Za-z0-9_-]+)")
	cmd.Flags().StringVar(&out, "out", "", "file prefix (default: the key id)")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}
