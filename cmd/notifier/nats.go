package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/natsd"
)

// defaultNATSStore is where "notifier nats" keeps its streams: the folder
// the embedded server of "notifier run" uses without a configuration.
var defaultNATSStore = filepath.Join("data", "nats")

func newNATSCmd() *cobra.Command {
	var o natsd.Options
	cmd := &cobra.Command{
		Use:   "nats",
		Short: "Run the embedded NATS JetStream server alone, for workers to connect to",
		Long: `Run the NATS server with JetStream that "notifier run" embeds, on its own,
until SIGINT or SIGTERM.

Once it accepts clients it prints its client URL, nats://HOST:PORT, as the
only line on stdout, and logs to stderr. Point workers and the other commands
at it with nats.url in their configuration or --nats-url: several workers on
one machine (each with its own data_dir) then share one NATS, and a worker's
memory is its own, without the server's index of every stored appointment.

--store-dir is where JetStream keeps its streams (default ./data/nats, the
folder "notifier run" uses for its embedded server without a configuration,
so the streams carry over either way; only one server may use it at a time).
--port 0 or -1 picks a free port: read the URL from stdout.

The server has no authentication and no TLS. It listens on 127.0.0.1 unless
--host says otherwise; anyone who can reach it can read every appointment and
publish outages. Across a network, run nats-server with TLS and credentials
instead (DEPLOYMENT.md).

On SIGINT or SIGTERM it shuts the server down, waits until it has, and exits
with status 0.`,
		Example: `  notifier nats                    # nats://127.0.0.1:4222, streams in ./data/nats
  notifier nats --store-dir /var/lib/notifier/nats --port 4333
  notifier nats --port -1 >nats.url 2>nats.log &
  notifier run --nats-url "$(cat nats.url)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Port == 0 {
				o.Port = -1
			}
			if o.Host == "" {
				o.Host = "127.0.0.1"
			}
			if o.Port < -1 || o.Port > 65535 {
				return fmt.Errorf("--port %d: want 1 to 65535, or 0 or -1 for a free port", o.Port)
			}
			if o.StoreDir == "" {
				return fmt.Errorf("--store-dir: required")
			}
			if abs, err := filepath.Abs(o.StoreDir); err == nil {
				o.StoreDir = abs
			}
			log := app.NewLogger(config.Log{Level: "info"}, cmd.ErrOrStderr())
			// Before the URL is printed: whoever reads it may stop the
			// server at once.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := natsd.Start(o)
			if err != nil {
				return err
			}
			listen, u := srv.ClientURL(), clientURLOf(srv.ClientURL())
			if _, err := fmt.Fprintln(cmd.OutOrStdout(), u); err != nil {
				srv.Shutdown()
				return err
			}
			log.Info("NATS server ready", "url", u, "store", o.StoreDir, "pid", os.Getpid())
			if !isLoopback(o.Host) {
				log.Warn("NATS server reachable from other machines, without authentication or TLS", "listen", listen)
			}
			<-ctx.Done()
			log.Info("stopping the NATS server")
			srv.Shutdown()
			log.Info("NATS server stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.StoreDir, "store-dir", defaultNATSStore, "folder for JetStream's streams")
	f.StringVar(&o.Host, "host", "127.0.0.1", "address to listen on; beware of anything but loopback (no authentication, no TLS)")
	f.IntVar(&o.Port, "port", 4222, "port to listen on; 0 or -1 picks a free one")
	return cmd
}

// clientURLOf is the URL a client on this machine connects to: the
// listening URL, with a loopback address for an unspecified one (0.0.0.0,
// ::).
func clientURLOf(listen string) string {
	u, err := url.Parse(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		loopback := "127.0.0.1"
		if ip.To4() == nil {
			loopback = "::1"
		}
		u.Host = net.JoinHostPort(loopback, u.Port())
	}
	return u.String()
}

// isLoopback reports whether host names this machine only.
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
