package main

import (
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/postponement/notifier/config"
)

// natsFlags are the flags of every command that talks to NATS.
type natsFlags struct {
	configFile string
	natsURL    string
}

func (f *natsFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.configFile, "config", "", "configuration file (YAML); without it the embedded defaults are used")
	cmd.Flags().StringVar(&f.natsURL, "nats-url", "", "NATS server URL; wins over nats.url in the config (default "+config.DefaultNATSURL+")")
}

// load reads the configuration; the --nats-url flag wins over the file.
func (f *natsFlags) load() (*config.Config, error) {
	cfg, err := config.Load(f.configFile)
	if err != nil {
		return nil, err
	}
	if f.natsURL != "" {
		cfg.NATS.URL = f.natsURL
	}
	return cfg, nil
}

// clientURL is where a command that only publishes finds NATS: the
// configured URL, else the embedded server's address.
func clientURL(cfg *config.Config) string {
	if cfg.NATS.URL != "" {
		return cfg.NATS.URL
	}
	return "nats://" + cfg.NATS.Listen
}

// isTerminal reports whether f is a terminal, where progress bars belong.
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd())) && os.Getenv("CI") == ""
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// workerGCPercent is the garbage collector's target for the worker's
// process unless GOGC says otherwise: the worker's heap is small beside
// SQLite's page cache, and collecting half as often costs a few MB and
// saves a few percent of the processor while notices are sent.
const workerGCPercent = 200

// tuneGC sets the worker's garbage collection target, unless GOGC is set.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(workerGCPercent)
	}
}
