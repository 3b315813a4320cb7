package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
)

func newPublishCmd() *cobra.Command {
	var (
		f         natsFlags
		flags     eventFlags
		printOnly bool
		signKey   string
	)
	cmd := &cobra.Command{
		Use:   "publish --facility ID --from T1 --until T2 --departments LIST --hotline NUMBER",
		Short: "Build and publish an outage event",
		Long: `Build an outage event (CloudEvents 1.0, structured JSON) and publish it on
outages.<facility>. Any other NATS client can publish the same JSON; --print
shows it without publishing. The stream is created when missing.

Times are RFC 3339 (2020-09-14T09:30:00+02:00) or local to the facility
(2020-09-14, 2020-09-14 09:30). --departments is required: use '*' for every
department, so that nobody notifies a whole hospital by leaving it out.
Without --kinds every kind except inpatient is affected.

--event FILE publishes an event from a JSON file instead (checked first).
--sign-key FILE signs it (Ed25519, the "sig" attribute) for facilities that
accept signed events only.`,
		Example: `  notifier publish --facility ukd --from 2020-09-10 --until 2020-09-17 \
    --departments '*' --kinds outpatient,elective --hotline '+49 211 81-04444'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			ev, err := flags.event(cfg)
			if err != nil {
				return err
			}
			if signKey != "" {
				if ev, err = app.SignWith(ev, signKey); err != nil {
					return err
				}
			}
			if printOnly {
				out, _ := json.MarshalIndent(ev, "", "  ")
				fmt.Fprintln(cmd.OutOrStdout(), string(out))
				return nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := app.PublishOutageEvent(ctx, cfg, clientURL(cfg), ev); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "published %s %s (outage %s) on %s\n", ev.Type, ev.ID, ev.Outage.OutageID, engine.OutageSubject(ev.Outage.Facility))
			return nil
		},
	}
	f.register(cmd)
	flags.register(cmd)
	cmd.Flags().BoolVar(&printOnly, "print", false, "print the event instead of publishing it")
	cmd.Flags().StringVar(&signKey, "sign-key", "", "sign the event with this private key file (from notifier keygen)")
	return cmd
}

func buildEvent(cfg *config.Config, o *app.EventOptions, from, until, depts, kinds string, notes []string) (*notifier.Event, error) {
	if o.Facility == "" {
		return nil, fmt.Errorf("--facility is required")
	}
	fac, err := cfg.Facility(o.Facility)
	if err != nil {
		return nil, err
	}
	loc, err := fac.Location()
	if err != nil {
		return nil, err
	}
	if from != "" {
		if o.From, err = app.ParseTime(from, loc); err != nil {
			return nil, fmt.Errorf("--from: %w", err)
		}
	}
	if until != "" {
		if o.Until, err = app.ParseTime(until, loc); err != nil {
			return nil, fmt.Errorf("--until: %w", err)
		}
	}
	o.Departments, o.Kinds = splitList(depts), splitList(kinds)
	for _, n := range notes {
		lang, text, ok := strings.Cut(n, "=")
		if !ok {
			return nil, fmt.Errorf("--note %q: want LANG=TEXT", n)
		}
		if o.Note == nil {
			o.Note = map[string]string{}
		}
		o.Note[strings.TrimSpace(lang)] = text
	}
	return app.BuildEvent(*o)
}

func readEvent(path string) (*notifier.Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Data struct {
			Facility string `json:"facility"`
		} `json:"data"`
	}
	_ = json.Unmarshal(data, &probe)
	ev, err := notifier.DecodeEvent(data, probe.Data.Facility)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ev, nil
}
