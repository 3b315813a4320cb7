package app

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/hl7"
	"github.com/postponement/notifier/notifier"
)

// DefaultHL7Addr is where `notifier hl7 listen` listens by default.
const DefaultHL7Addr = ":2575"

// HL7Mapping is the configured field mapping, the standard's where none is
// configured.
func HL7Mapping(c config.HL7) (hl7.Mapping, error) {
	mp := hl7.DefaultMapping()
	for _, f := range []struct {
		name, place string
		into        *hl7.Path
	}{{"department", c.Fields.Department, &mp.Department}, {"location", c.Fields.Location, &mp.Location}, {"kind", c.Fields.Kind, &mp.Kind}} {
		if f.place == "" {
			continue
		}
		p, err := hl7.ParsePath(f.place)
		if err != nil {
			return mp, fmt.Errorf("hl7.fields.%s: %w", f.name, err)
		}
		*f.into = p
	}
	mp.Kinds = c.Kinds
	return mp, nil
}

// HL7Server is the MLLP listener of one facility, as `notifier hl7 listen`
// runs it: every SIU message becomes an appointment record on
// appointments.<facility>.<id>, as the CSV import publishes it, every ADT
// A08 or A31 a contact record on patients.<facility>.<patient id>; each is
// answered AA once JetStream stored it; an unusable message is answered AE
// naming the field and recorded as refused; another message type AR. A
// record JetStream did not store gets no answer: the connection is closed,
// so the sender sends the same message again before any later one.
func HL7Server(cfg *config.Config, facility string, conn *Conn, log *slog.Logger) (*hl7.Server, error) {
	fac, err := cfg.Facility(facility)
	if err != nil {
		return nil, err
	}
	loc, err := fac.Location()
	if err != nil {
		return nil, err
	}
	mp, err := HL7Mapping(cfg.HL7)
	if err != nil {
		return nil, err
	}
	s := &hl7.Server{MaxMessage: cfg.HL7.MaxMessageBytes, MaxConns: cfg.HL7.MaxConns, Log: log}
	for _, a := range cfg.HL7.Allow {
		if !strings.Contains(a, "/") {
			if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
				a += "/32"
			} else {
				a += "/128"
			}
		}
		_, n, err := net.ParseCIDR(a)
		if err != nil {
			return nil, fmt.Errorf("hl7.allow: %q is not an address or network: %w", a, err)
		}
		s.Allow = append(s.Allow, n)
	}
	if cfg.HL7.TLSCert != "" || cfg.HL7.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.HL7.TLSCert, cfg.HL7.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("hl7.tls_cert, hl7.tls_key: %w", err)
		}
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.Handle = func(ctx context.Context, raw []byte) []byte {
		now := time.Now()
		m, err := hl7.Parse(raw)
		if err != nil {
			// The header alone, when it can be read, names the sender and
			// the control id the ACK must echo.
			h := hl7.ParseHeader(raw)
			control := ""
			if h != nil {
				control = h.Field("MSH", 10)
			}
			log.Warn("hl7: message refused", "control_id", control, "reason", err.Error())
			refuse(ctx, conn, facility, raw, err, log)
			return hl7.Ack(h, hl7.AE, err, now)
		}
		publish, err := hl7Record(m, fac, loc, mp, conn, "hl7:"+facility+":"+digest(raw))
		if errors.Is(err, hl7.ErrUnsupported) {
			log.Info("hl7: message type not taken", "control_id", m.Field("MSH", 10), "reason", err.Error())
			return hl7.Ack(m, hl7.AR, err, now)
		}
		if err != nil {
			log.Warn("hl7: message refused", "control_id", m.Field("MSH", 10), "reason", err.Error())
			refuse(ctx, conn, facility, raw, err, log)
			return hl7.Ack(m, hl7.AE, err, now)
		}
		if err := publish(ctx); err != nil {
			// No ACK at all: an AE would let the interface engine go on
			// to the next message, and a resend of this one after it
			// would undo a newer change (an S12 replayed after the S15).
			// A closed connection makes it send this message again first.
			log.Error("hl7: record not stored; closing the connection unanswered so the sender sends it again", "control_id", m.Field("MSH", 10), "err", err)
			return nil
		}
		return hl7.Ack(m, hl7.AA, nil, now)
	}
	return s, nil
}

// hl7Record maps a message to the record it stands for, checked as the
// workers will: a SIU message to an appointment record, an ADT A08 or A31
// to a contact record. It returns how to publish it, with msgID as its
// message id, so that a resend of the same message is stored once.
func hl7Record(m *hl7.Message, fac notifier.Facility, loc *time.Location, mp hl7.Mapping, conn *Conn, msgID string) (func(context.Context) error, error) {
	if m.IsContact() {
		r, err := m.Contact(fac.ID, loc)
		if err == nil {
			err = fac.AdmitContact(&r)
		}
		return func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, publishTimeout)
			defer cancel()
			return engine.PublishContact(ctx, conn.JS, &r, msgID)
		}, err
	}
	a, err := m.Appointment(fac.ID, loc, mp)
	if err == nil {
		err = fac.Admit(&a)
	}
	return func(ctx context.Context) error { return publishOne(ctx, conn, &a, msgID) }, err
}

// publishTimeout bounds the wait for JetStream to store one record.
const publishTimeout = 10 * time.Second

// publishOne publishes a record and waits for JetStream to store it.
func publishOne(ctx context.Context, conn *Conn, a *notifier.Appointment, msgID string) error {
	f, err := engine.PublishAppointmentMsg(conn.JS, a, msgID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// digest names a message by its content: an interface engine's resend is
// byte for byte the message it sent before.
func digest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16])
}

// refuse records a refused message with the workers' refusals; its id is
// the message's digest, so a message sent again is recorded once.
func refuse(ctx context.Context, conn *Conn, facility string, raw []byte, why error, log *slog.Logger) {
	r := &notifier.Reject{At: time.Now().UTC(), Stream: "HL7", Subject: "hl7." + facility, Reason: why.Error()}
	if err := engine.RecordReject(ctx, conn.JS, "hl7:"+digest(raw), r); err != nil {
		log.Error("hl7: recording the refusal", "err", err)
	}
}
