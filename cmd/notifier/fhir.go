package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/config"
)

func newFHIRCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fhir",
		Short: "Feed the replica from a FHIR R4 server",
	}
	cmd.AddCommand(newFHIRPollCmd(), newFHIRListenCmd())
	return cmd
}

func newFHIRPollCmd() *cobra.Command {
	var (
		f                             natsFlags
		base, facility, since         string
		tokenFile, tokenURL, clientID string
		clientSecretFile              string
		every                         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "poll --base URL --facility ID [--since TIME] [--token-file FILE | --token-url URL --client-id ID --client-secret-file FILE] [--every D]",
		Short: "Read the Appointments a FHIR server changed and publish them as appointment records",
		Long: `Search the FHIR R4 server at --base for the Appointments changed since the
last poll (_lastUpdated, with _include of their Patient and Location),
page after page through the next links, and publish each as "notifier
import" publishes a bundle's Appointments. The position (the latest
meta.lastUpdated seen) is saved under data_dir/fhir once every page is
published; --since starts elsewhere. Authentication: a bearer token from
--token-file, or one got by the client-credentials grant (--token-url,
--client-id, --client-secret-file). Next links to another server are not
followed. --every polls again after each interval until SIGINT/SIGTERM.

Exit status: 0 when every Appointment was published, 2 when some were
refused (each is printed with the reason, and recorded as refused, shown by
"notifier report"), 1 when the poll failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load()
			if err != nil {
				return &exitError{1, err}
			}
			fac, err := cfg.Facility(facility)
			if err != nil {
				return &exitError{1, err}
			}
			p := &app.FHIRPoll{Base: base, Facility: facility, TokenURL: tokenURL, ClientID: clientID}
			if since != "" {
				loc, err := fac.Location()
				if err != nil {
					return &exitError{1, err}
				}
				if p.Since, err = app.ParseTime(since, loc); err != nil {
					return &exitError{1, fmt.Errorf("--since: %w", err)}
				}
			}
			if p.Token, err = readOptional(tokenFile); err != nil {
				return &exitError{1, fmt.Errorf("--token-file: %w", err)}
			}
			if p.ClientSecret, err = readOptional(clientSecretFile); err != nil {
				return &exitError{1, fmt.Errorf("--client-secret-file: %w", err)}
			}
			errOut := cmd.ErrOrStderr()
			p.Report = func(entry int, err error) { fmt.Fprintln(errOut, "rejected:", err) }
			conn, err := app.ConnectWith(clientURL(cfg), cfg.NATS, slog.New(slog.DiscardHandler))
			if err != nil {
				return &exitError{1, err}
			}
			defer conn.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return pollLoop(ctx, cmd, p, cfg, conn, every)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&base, "base", "", "the FHIR server's base URL (required)")
	cmd.Flags().StringVar(&facility, "facility", "", "facility id the appointments belong to (required)")
	cmd.Flags().StringVar(&since, "since", "", "read what changed since this time, not since the saved position")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding a bearer token")
	cmd.Flags().StringVar(&tokenURL, "token-url", "", "OAuth 2.0 token endpoint for the client-credentials grant")
	cmd.Flags().StringVar(&clientID, "client-id", "", "client id for the client-credentials grant")
	cmd.Flags().StringVar(&clientSecretFile, "client-secret-file", "", "file holding the client secret")
	cmd.Flags().DurationVar(&every, "every", 0, "poll again after this interval (0: once)")
	_ = cmd.MarkFlagRequired("base")
	_ = cmd.MarkFlagRequired("facility")
	return cmd
}

func pollLoop(ctx context.Context, cmd *cobra.Command, p *app.FHIRPoll, cfg *config.Config, conn *app.Conn, every time.Duration) error {
	rejected := 0
	for {
		res, err := p.Poll(ctx, cfg, conn)
		rejected += res.Rejected
		fmt.Fprintf(cmd.OutOrStdout(), "%d pages: %d accepted, %d rejected; position %s\n",
			res.Pages, res.Accepted, res.Rejected, res.Position.UTC().Format(time.RFC3339))
		if err != nil && !errors.Is(err, context.Canceled) {
			if every <= 0 {
				return &exitError{1, err}
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "poll failed:", err)
		}
		p.Since = time.Time{} // from the saved position from now on
		if every <= 0 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
		if ctx.Err() != nil {
			break
		}
	}
	if rejected > 0 {
		return &exitError{2, nil}
	}
	return nil
}

// readOptional reads a secret file as the worker reads its own, "" when no
// file is named.
func readOptional(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	return app.ReadSecret(path)
}

func newFHIRListenCmd() *cobra.Command {
	var (
		f                          natsFlags
		facility, addr, secretFile string
		base, tokenFile            string
		certFile, keyFile          string
	)
	cmd := &cobra.Command{
		Use:   "listen --facility ID --secret-file FILE [--addr 127.0.0.1:8090] [--base URL --token-file FILE]",
		Short: "Receive a FHIR Subscription's notifications of Appointment changes",
		Long: `Serve the rest-hook endpoint of a FHIR R4 Subscription (R4 backport, id-only or
full-resource payload) on POST / at --addr. The Subscription must send the
header "Authorization: Bearer <secret>" with the secret of --secret-file.
Appointments in a full-resource notification are published as the bundle
import does (a Patient they refer to but the notification does not carry is
read from --base); for id-only ones each Appointment is read, with its
Patient and Location, from --base (with the bearer token of --token-file).
Handshakes and heartbeats publish nothing. Answers 200 once published
(refused entries are recorded with the reason, shown by "notifier report"),
401 without the secret, 400 for a body that is not a notification Bundle.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			if _, err := cfg.Facility(facility); err != nil {
				return err
			}
			if host, _, err := net.SplitHostPort(addr); err != nil || (certFile == "" && !isLoopback(host)) {
				return fmt.Errorf("--addr %q: off loopback the endpoint needs --tls-cert and --tls-key", addr)
			}
			secret, err := readOptional(secretFile)
			if err != nil || len(secret) < 16 {
				return fmt.Errorf("--secret-file: a secret of at least 16 characters is required (%v)", err)
			}
			log := app.NewLogger(cfg.Log, os.Stderr)
			conn, err := app.ConnectWith(clientURL(cfg), cfg.NATS, log)
			if err != nil {
				return err
			}
			defer conn.Close()
			hook := &app.FHIRHook{Cfg: cfg, Conn: conn, Facility: facility, Secret: secret, Log: log.With("facility", facility)}
			if base != "" {
				token, err := readOptional(tokenFile)
				if err != nil {
					return fmt.Errorf("--token-file: %w", err)
				}
				hook.Poll = &app.FHIRPoll{Base: base, Facility: facility, Token: token}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return app.ServeHook(ctx, addr, certFile, keyFile, hook, log)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&facility, "facility", "", "facility id the appointments belong to (required)")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8090", "address to listen on")
	cmd.Flags().StringVar(&secretFile, "secret-file", "", "file holding the secret the Subscription sends (required)")
	cmd.Flags().StringVar(&base, "base", "", "the FHIR server's base URL, to read the Appointments of id-only notifications")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "file holding a bearer token for --base")
	cmd.Flags().StringVar(&certFile, "tls-cert", "", "serve HTTPS with this certificate (PEM); required off loopback")
	cmd.Flags().StringVar(&keyFile, "tls-key", "", "the certificate's private key (PEM)")
	_ = cmd.MarkFlagRequired("facility")
	_ = cmd.MarkFlagRequired("secret-file")
	return cmd
}
