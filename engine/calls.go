package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// ErrCallChanged refuses a call event made on a page older than the row:
// somebody else claimed, released or called the patient since.
var ErrCallChanged = errors.New("the row changed since the page was loaded; look at it again")

// AnySeq, as RecordCall's seen, records the event whatever the row's
// latest event is.
const AnySeq = ^uint64(0)

// callWriteTries bounds how often a call event is decided again when
// another worker's event got in between reading the row and publishing.
const callWriteTries = 5

// callViewWait bounds how long RecordCall waits for the worker's own store
// to apply the event it published, so the page shown next has it.
const callViewWait = 5 * time.Second

// CallSubject is the subject of a call list row's events.
func CallSubject(facility, noticeID string) string {
	return SubjectCalls + "." + facility + "." + noticeID
}

// callEventID names an event made on a page showing the row after its
// event seen (a stream sequence, 0 before any): the same form sent twice,
// as a double tap does, is the same event and counts once.
func callEventID(ev *notifier.CallEvent, seen uint64) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{ev.NoticeID, strconv.FormatUint(seen, 10), ev.Action, ev.Outcome,
		strings.ToLower(ev.By)}, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// RecordCall decides and publishes what a staff member did on the call
// list, atomically across workers: the row's latest event is read, the
// policy decides the state ev leads to (or refuses it, with a
// *notifier.CallConflict or notifier.ErrCallFinished), and the event is
// published only if no other event came in between (the subject's last
// sequence is checked by JetStream). Unless seen is AnySeq, the event is
// refused with ErrCallChanged when the row's latest event is no longer the
// one at seen (0: none), as the page showed it. ev.ID, when empty, is
// callEventID with seen, else random; ev.At is the clock's now.
// RecordCall returns once the worker's store has the event (or after
// callViewWait).
func (w *Worker) RecordCall(ctx context.Context, ev notifier.CallEvent, seen uint64) (notifier.CallEvent, error) {
	select {
	case <-w.Ready():
	default:
		return ev, errors.New("the worker is not running yet")
	}
	if !notifier.ValidID(ev.Facility) || !notifier.ValidID(ev.NoticeID) {
		return ev, fmt.Errorf("%w: facility %q or notice %q is not of the form [A-Za-z0-9_-]+", notifier.ErrCallInvalid, ev.Facility, ev.NoticeID)
	}
	by, err := notifier.CallerName(ev.By)
	if err != nil {
		return ev, err
	}
	ev.By = by
	if ev.ID == "" {
		if seen != AnySeq {
			ev.ID = callEventID(&ev, seen)
		} else {
			ev.ID = rand.Text()
		}
	}
	stream, err := w.JS.Stream(ctx, StreamCalls)
	if err != nil {
		return ev, fmt.Errorf("open stream %s: %w", StreamCalls, err)
	}
	subject := CallSubject(ev.Facility, ev.NoticeID)
	for range callWriteTries {
		var prev notifier.CallEvent
		var last uint64
		m, err := stream.GetLastMsgForSubject(ctx, subject)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
		case err != nil:
			return ev, fmt.Errorf("read the row's last call event: %w", err)
		default:
			last = m.Sequence
			if err := json.Unmarshal(m.Data, &prev); err != nil {
				return ev, fmt.Errorf("the row's last call event (sequence %d) is not one: %w", last, err)
			}
		}
		if last > 0 && prev.ID == ev.ID {
			// Sent before: the same event counts once.
			return prev, w.calls.wait(ctx, last)
		}
		ev.At = w.clock().UTC()
		if ev.State, err = w.CallPolicy.Apply(prev.State, ev); err != nil {
			return ev, err
		}
		if seen != AnySeq && last != seen {
			// A refusal above says more (who holds the row); else the
			// staff member decided on a row that is no longer so.
			return ev, ErrCallChanged
		}
		data, err := notifier.EncodeJSON(&ev)
		if err != nil {
			return ev, err
		}
		ack, err := w.JS.PublishMsg(ctx, newMsg(subject, ev.ID, data), jetstream.WithExpectLastSequencePerSubject(last))
		if isWrongLastSeq(err) {
			continue // another event got in first: decide again
		}
		if err != nil {
			return ev, fmt.Errorf("publish the call event: %w", err)
		}
		w.calls.log.Info("call list row updated", "notice", ev.NoticeID, "outage", ev.OutageID, "action", ev.Action,
			"outcome", ev.Outcome, "by", ev.By, "status", ev.State.Status(ev.At), "attempts", ev.State.Attempts)
		return ev, w.calls.wait(ctx, ack.Sequence)
	}
	return ev, ErrCallChanged
}

// isWrongLastSeq reports whether a publish was refused because the
// subject's last sequence was not the one expected.
func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// callsView applies the CALLS stream to the store.
type callsView struct {
	*position
	js    jetstream.JetStream
	store notifier.Store
	log   *slog.Logger
	// changed, when set, is told of every outage whose rows changed.
	changed func(outageID string)
}

func (v *callsView) run(ctx context.Context) error {
	pos, err := v.store.Position(ctx, StreamCalls)
	if err != nil {
		return err
	}
	return follow(ctx, v.js, v.log, StreamCalls, v.position, pos, viewBatch, v.apply)
}

func (v *callsView) apply(batch []jetstream.Msg) func(ctx context.Context) error {
	changes := make([]notifier.CallChange, 0, len(batch))
	for _, m := range batch {
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		c := notifier.CallChange{Seq: md.Sequence.Stream}
		var ev notifier.CallEvent
		if err := json.Unmarshal(m.Data(), &ev); err != nil || ev.ID == "" || ev.NoticeID == "" {
			v.log.Warn("call event ignored: not a call event", "subject", m.Subject(), "seq", c.Seq)
		} else {
			c.Event = &ev
		}
		changes = append(changes, c)
	}
	return func(ctx context.Context) error {
		if err := v.store.ApplyCalls(ctx, changes); err != nil {
			return err
		}
		if v.changed != nil {
			for _, c := range changes {
				if c.Event != nil {
					v.changed(c.Event.OutageID)
				}
			}
		}
		return nil
	}
}

// wait waits until the store has applied the stream up to seq, for at
// most callViewWait: the event is recorded either way.
func (v *callsView) wait(ctx context.Context, seq uint64) error {
	ctx, cancel := context.WithTimeout(ctx, callViewWait)
	defer cancel()
	if err := v.waitFor(ctx, seq); err != nil {
		v.log.Warn("the store has not applied the call event yet", "seq", seq)
	}
	return nil
}
