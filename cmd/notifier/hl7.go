package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/postponement/notifier/app"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/hl7"
)

func newHL7Cmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hl7",
		Short: "Feed the replica from HL7 v2 scheduling messages over MLLP",
		Long: `HL7 v2 (2.3 to 2.5.1) scheduling messages, as an interface engine sends them
over MLLP, become appointment records, and ADT A08/A31 contact records: "hl7
listen" takes them, "hl7 send"
sends messages from a file to a listener (to test an interface engine's feed).`,
	}
	cmd.AddCommand(newHL7ListenCmd(), newHL7SendCmd())
	return cmd
}

func newHL7ListenCmd() *cobra.Command {
	var (
		f        natsFlags
		facility string
		addr     string
	)
	cmd := &cobra.Command{
		Use:   "listen --facility ID [--addr :2575] [--config FILE]",
		Short: "Take HL7 v2 SIU and ADT A08/A31 messages over MLLP and publish them as records",
		Long: `Listen for MLLP connections (frames 0x0B ... 0x1C 0x0D) and turn every SIU
message into an appointment record on appointments.<facility>.<id>, exactly
as "notifier import" publishes a CSV row:

  S12 new booking, S13 rescheduled, S14 modified: the appointment (status
      from SCH-25, booked when empty); S15 cancelled; S17 deleted
      (entered-in-error); S26 no-show.
  id: SCH-2.1 (filler), else SCH-1.1 (placer); start and end: SCH-11.4 and
      SCH-11.5, else AIS-4 and AIS-4 plus AIS-7 in AIS-8's units; patient:
      PID-3.1, PID-5 (name), PID-15 (language), PID-13/PID-14 (e-mail,
      phone; a mobile number first); department AIL-3.1 (AIS-3.1 without
      an AIL segment), location AIL-3.9, kind SCH-8.1, or the places under
      hl7.fields in the configuration.

Every ADT A08 (update patient) or A31 (update person) becomes a contact
record on patients.<facility>.<patient id> (PID-3.1): the name, language,
e-mail and phone read from PID as above update every appointment of that
patient the workers hold. An empty field changes nothing; HL7's null ("")
clears it.

Each message is answered: AA once JetStream has stored the record; AE with
an ERR segment naming the field when the message cannot be used (also
recorded as refused, shown by "notifier report"); AR for message types
other than these. A message whose record JetStream could not store gets no
answer: the connection is closed, so the sender sends it again before any
later message. A message sent again byte for byte (after a lost ACK) within
24 hours is stored once.
Escapes, repetitions, the separators of MSH-1/MSH-2 and the character sets
of MSH-18 (ASCII, 8859/1, UNICODE UTF-8) are handled. hl7.tls_cert and
hl7.tls_key require TLS, hl7.allow limits the source addresses, and
hl7.max_message_bytes and hl7.max_conns bound what one sender can take.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			if addr == "" {
				addr = cfg.HL7.Addr
			}
			if addr == "" {
				addr = app.DefaultHL7Addr
			}
			log := app.NewLogger(cfg.Log, os.Stderr)
			conn, err := app.ConnectWith(clientURL(cfg), cfg.NATS, log)
			if err != nil {
				return err
			}
			defer conn.Close()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := engine.EnsureStreams(ctx, conn.JS, cfg.NATS.Replicas, engine.StreamAppointments, engine.StreamPatients, engine.StreamPlans); err != nil {
				return err
			}
			if err := engine.WidenDuplicateWindows(ctx, conn.JS, engine.StreamAppointments, engine.StreamPatients); err != nil {
				return err
			}
			srv, err := app.HL7Server(cfg, facility, conn, log.With("facility", facility))
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("hl7 listen: %w", err)
			}
			log.Info("hl7: listening for MLLP", "addr", ln.Addr().String(), "facility", facility, "tls", srv.TLS != nil)
			return srv.Serve(ctx, ln)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&facility, "facility", "", "facility id the appointments belong to (required)")
	cmd.Flags().StringVar(&addr, "addr", "", "address to listen on (default hl7.addr, else "+app.DefaultHL7Addr+")")
	_ = cmd.MarkFlagRequired("facility")
	return cmd
}

func newHL7SendCmd() *cobra.Command {
	var (
		addr    string
		useTLS  bool
		caFile  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "send FILE.hl7 [--addr HOST:PORT]",
		Short: "Send HL7 v2 messages from a file to an MLLP listener and print the ACKs",
		Long: `Send every message of the file (segments one per line, each message starting
with MSH; MLLP frames are accepted too) on one connection and print each
acknowledgement's code and text. Exit status 0 when every message was
accepted (AA), 2 when some were not, 1 when the listener could not be
reached.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return &exitError{1, err}
			}
			msgs := hl7.SplitFile(data)
			if len(msgs) == 0 {
				return &exitError{1, fmt.Errorf("%s: no HL7 message (none starts with MSH)", args[0])}
			}
			var tc *tls.Config
			if useTLS || caFile != "" {
				host, _, _ := net.SplitHostPort(addr)
				tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
				if caFile != "" {
					pem, err := os.ReadFile(caFile)
					if err != nil {
						return &exitError{1, err}
					}
					tc.RootCAs = x509.NewCertPool()
					if !tc.RootCAs.AppendCertsFromPEM(pem) {
						return &exitError{1, fmt.Errorf("%s: no PEM certificates", caFile)}
					}
				}
			}
			acks, err := hl7.Send(context.Background(), addr, tc, msgs, timeout)
			out := cmd.OutOrStdout()
			bad := 0
			for i, a := range acks {
				code, text, perr := hl7.AckCode(a)
				if perr != nil {
					code, text = "??", perr.Error()
				}
				if code != hl7.AA {
					bad++
				}
				fmt.Fprintf(out, "message %d: %s %s\n", i+1, code, text)
			}
			if err != nil {
				return &exitError{1, fmt.Errorf("after %d of %d messages: %w", len(acks), len(msgs), err)}
			}
			if bad > 0 {
				return &exitError{2, fmt.Errorf("%d of %d messages not accepted", bad, len(acks))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:2575", "the listener's address")
	cmd.Flags().BoolVar(&useTLS, "tls", false, "connect with TLS")
	cmd.Flags().StringVar(&caFile, "ca-file", "", "CA certificates (PEM) to verify the listener with; implies --tls")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for each acknowledgement")
	return cmd
}
