// Command natsmem loads a NATS server with synthetic appointment records in
// one of several layouts, so that the server's memory and store per record
// can be measured (bench/natsmem.sh runs it against fresh servers).
//
// Layouts:
//
//	stream   APPOINTMENTS as the worker declares it: appointments.<facility>.<id>,
//	         MaxMsgsPerSubject 1 (the latest per subject wins)
//	single   the same records on one subject, appointments.<facility>, with no
//	         per-subject limit (the latest per appointment is lost)
//	kv       a KeyValue bucket APPOINTMENTS with History 1, keys <facility>.<id>
//	         ($KV.APPOINTMENTS.<facility>.<id>)
//
// With -follow an ordered consumer reads the stream from its start while it
// is loaded, as the worker's replica does (batches of up to 5000 messages or
// 4 MiB), and the command waits until it has read every record.
//
// The records are those of `notifier bench --write-data` (package synth).
// It publishes asynchronously with at most -window acknowledgements
// outstanding and prints one summary line.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/bench/synth"
	"github.com/postponement/notifier/notifier"
)

const (
	streamName = "APPOINTMENTS"
	facility   = "ukd"
)

func main() {
	url := flag.String("url", nats.DefaultURL, "NATS server URL")
	count := flag.Int("count", 1_000_000, "records to publish")
	layout := flag.String("layout", "stream", "stream, single or kv")
	msgID := flag.Bool("msg-id", false, "set a Nats-Msg-Id on every message, as HL7 records have")
	compression := flag.String("compression", "none", "stream compression: none or s2")
	dupes := flag.Duration("duplicates", 24*time.Hour, "duplicate window (stream and single; kv keeps its default)")
	window := flag.Int("window", 4000, "acknowledgements outstanding at most")
	seed := flag.Uint64("seed", 1, "seed of the synthetic records")
	follow := flag.Bool("follow", false, "read the stream with an ordered consumer while loading it, as the worker's replica does")
	flag.Parse()
	if err := run(*url, *count, *layout, *msgID, *compression, *dupes, *window, *seed, *follow); err != nil {
		fmt.Fprintln(os.Stderr, "natsmem:", err)
		os.Exit(1)
	}
}

func run(url string, count int, layout string, msgID bool, compression string, dupes time.Duration, window int, seed uint64, follow bool) error {
	var comp jetstream.StoreCompression
	switch compression {
	case "none":
		comp = jetstream.NoCompression
	case "s2":
		comp = jetstream.S2Compression
	default:
		return fmt.Errorf("compression %q: want none or s2", compression)
	}
	nc, err := nats.Connect(url, nats.Name("natsmem"))
	if err != nil {
		return err
	}
	defer nc.Close()
	var failed atomic.Int64
	var firstErr atomic.Value
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(window),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err)
		}))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var subject func(a *notifier.Appointment) string
	switch layout {
	case "stream", "single":
		cfg := jetstream.StreamConfig{Name: streamName, Subjects: []string{"appointments.>"},
			Storage: jetstream.FileStorage, Duplicates: dupes, Compression: comp}
		if layout == "stream" {
			cfg.MaxMsgsPerSubject = 1
			subject = func(a *notifier.Appointment) string { return "appointments." + a.Facility + "." + a.ID }
		} else {
			subject = func(a *notifier.Appointment) string { return "appointments." + a.Facility }
		}
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			return err
		}
	case "kv":
		if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: streamName, History: 1,
			Storage: jetstream.FileStorage, Compression: comp == jetstream.S2Compression}); err != nil {
			return err
		}
		// What kv.Put publishes, without waiting for each acknowledgement.
		subject = func(a *notifier.Appointment) string { return "$KV." + streamName + "." + a.Facility + "." + a.ID }
	default:
		return fmt.Errorf("layout %q: want stream, single or kv", layout)
	}

	var read <-chan int
	if follow {
		if read, err = readAll(js, streamNameFor(layout), count); err != nil {
			return err
		}
	}

	set, err := synth.New(synth.Options{Appointments: count, Affected: max(1, count/20), PatientsWithTwo: 0.2,
		Seed: seed, Facility: facility, From: windowStart()})
	if err != nil {
		return err
	}
	records := set.Records()
	var payload int64
	began := time.Now()
	for a, ok := records.Next(); ok; a, ok = records.Next() {
		data, err := notifier.EncodeJSON(&a)
		if err != nil {
			return err
		}
		payload += int64(len(data))
		msg := nats.NewMsg(subject(&a))
		msg.Data = data
		if msgID {
			// Shaped as the HL7 listener's ids: hl7:<facility>:<digest>.
			sum := sha256.Sum256(data)
			msg.Header.Set(jetstream.MsgIDHeader, "hl7:"+a.Facility+":"+hex.EncodeToString(sum[:16]))
		}
		if _, err := js.PublishMsgAsync(msg, jetstream.WithStallWait(time.Minute)); err != nil {
			return err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		return errors.New("acknowledgements still outstanding after 5 minutes")
	}
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d publishes failed, the first: %v", n, firstErr.Load())
	}
	if read != nil {
		select {
		case n := <-read:
			if n < count {
				return fmt.Errorf("the consumer read %d of %d records", n, count)
			}
		case <-time.After(5 * time.Minute):
			return errors.New("the consumer has not read every record after 5 minutes")
		}
	}
	elapsed := time.Since(began)
	s, err := js.Stream(ctx, streamNameFor(layout))
	if err != nil {
		return err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	st := info.State
	fmt.Printf("layout=%s msg_id=%t compression=%s follow=%t duplicates=%s records=%d seconds=%.1f rate=%.0f/s payload_avg=%.0f stream_msgs=%d stream_bytes=%d subjects=%d\n",
		layout, msgID, compression, follow, info.Config.Duplicates, count, elapsed.Seconds(), float64(count)/elapsed.Seconds(),
		float64(payload)/float64(count), st.Msgs, st.Bytes, st.NumSubjects)
	return nil
}

// readAll reads stream from its start with an ordered consumer, as the
// worker's replica does, and sends how many messages it read once it has
// read count of them or failed.
func readAll(js jetstream.JetStream, stream string, count int) (<-chan int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessagesWithBytesLimit(5000, 4<<20), jetstream.PullExpiry(5*time.Second))
	if err != nil {
		return nil, err
	}
	done := make(chan int, 1)
	go func() {
		defer it.Stop()
		n := 0
		for n < count {
			if _, err := it.Next(); err != nil {
				fmt.Fprintln(os.Stderr, "natsmem: consumer:", err)
				break
			}
			n++
		}
		done <- n
	}()
	return done, nil
}

// streamNameFor is the stream behind a layout.
func streamNameFor(layout string) string {
	if layout == "kv" {
		return "KV_" + streamName
	}
	return streamName
}

// windowStart is a fixed midnight in the facility's zone, so that every run
// publishes the same records.
func windowStart() time.Time {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		loc = time.UTC
	}
	return time.Date(2026, 3, 2, 0, 0, 0, 0, loc)
}
