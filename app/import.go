package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/notifier"
)

// importWindow is how many appointment records may wait for their
// acknowledgements at once.
const importWindow = 2000

// fastFlow is how many records of a fast batch the NATS server acknowledges
// at once, and fastOutstanding how many such acknowledgements may be
// awaited: fastFlow×fastOutstanding records in flight, as importWindow.
const (
	fastFlow        = 500
	fastOutstanding = 4
)

// ImportResult counts an import's rows.
type ImportResult struct {
	Accepted int
	Rejected int
	// RowByRow, when set, says why the import published row by row with an
	// acknowledgement each instead of as a fast batch: the NATS server does
	// not take fast batches, or the batch ended early. No row is lost
	// either way.
	RowByRow error
}

// Rows yields appointments to import, one row at a time, io.EOF at the end.
type Rows interface {
	Next() (importer.Row, error)
}

// Import publishes every good row to appointments.<facility>.<id>, so every
// worker's replica receives it, and calls report for every row that was
// refused, by the file or by NATS. A broken row does not stop the rest; an
// error is returned only when reading or publishing cannot go on.
//
// Where the stream takes them (engine.SetFastImport), the rows go as one
// fast batch, which the NATS server acknowledges every fastFlow rows: a row
// counts as accepted once an acknowledgement covers it. If the batch ends
// early (the server refuses a row, or it forgot a batch that paused too
// long), the rows it did not acknowledge are published again one by one
// with an acknowledgement each, as is the rest of the file: a row stored
// twice is harmless (the latest record per appointment wins, and it is the
// same record), and a row NATS refuses is reported with its reason.
func Import(ctx context.Context, js jetstream.JetStream, rows Rows, report func(line int, err error), progress func(ImportResult)) (ImportResult, error) {
	if err := engine.EnsureStreams(ctx, js, 0, engine.StreamAppointments); err != nil {
		return ImportResult{}, err
	}
	im := &importRun{ctx: ctx, js: js, report: report, progress: progress, window: make([]pending, importWindow)}
	if ok, err := engine.FastImport(ctx, js); ok {
		im.fast = true
	} else if err != nil {
		im.res.RowByRow = err
	} else {
		im.res.RowByRow = errors.New("APPOINTMENTS does not take fast batches yet: a worker allows them when it starts, with nats-server 2.14 or later and nats.fast_import on")
	}
	// stop settles what was published, then reports err.
	stop := func(err error) (ImportResult, error) {
		if serr := im.finish(); serr != nil {
			return im.res, serr
		}
		return im.res, err
	}
	for {
		row, err := rows.Next()
		if errors.Is(err, io.EOF) {
			return stop(nil)
		}
		if err != nil {
			return stop(err)
		}
		if row.Err != nil {
			im.res.Rejected++
			report(row.Line, row.Err)
			continue
		}
		data, err := notifier.EncodeJSON(&row.Appointment)
		if err != nil {
			return stop(fmt.Errorf("line %d: %w", row.Line, err))
		}
		r := importRow{line: row.Line, subject: engine.AppointmentSubject(row.Appointment.Facility, row.Appointment.ID), data: data}
		if im.fast {
			err = im.publishFast(r)
		} else {
			err = im.publish(r)
		}
		if err != nil {
			return stop(err)
		}
	}
}

// importRow is a record to publish and the line it came from.
type importRow struct {
	line    int
	subject string
	data    []byte
}

// pending is a record published row by row, awaiting its acknowledgement.
type pending struct {
	line int
	ack  jetstream.PubAckFuture
}

// importRun is one import's publishing state.
type importRun struct {
	ctx      context.Context
	js       jetstream.JetStream
	report   func(line int, err error)
	progress func(ImportResult)
	res      ImportResult
	settled  int

	// Row by row: a sliding window of acknowledgements. Once it is full,
	// each new record waits only for the oldest one's acknowledgement, so
	// NATS always has work.
	window          []pending
	first, inFlight int

	// As a fast batch: the rows sent and not yet acknowledged, in order;
	// unacked[0] has the batch sequence base.
	fast    bool
	fp      jetstreamext.FastPublisher
	unacked []importRow
	base    uint64
}

// accepted counts n rows accepted and reports progress every importWindow
// rows settled.
func (im *importRun) accepted(n int) {
	for range n {
		im.res.Accepted++
		im.settled++
		if im.settled%importWindow == 0 && im.progress != nil {
			im.progress(im.res)
		}
	}
}

func (im *importRun) publishFast(r importRow) error {
	if im.fp == nil {
		fp, err := jetstreamext.NewFastPublisher(im.js, jetstreamext.FastPublishFlowControl{Flow: fastFlow, MaxOutstandingAcks: fastOutstanding})
		if err != nil {
			return im.rowByRow(err, r)
		}
		im.fp, im.base = fp, 1
	}
	ack, err := im.fp.Add(r.subject, r.data)
	if err != nil {
		return im.rowByRow(err, r)
	}
	im.unacked = append(im.unacked, r)
	im.ackedUpTo(ack.AckSequence)
	return nil
}

// ackedUpTo accepts the unacknowledged rows up to batch sequence seq: with
// gaps refused, an acknowledgement covers every row before it.
func (im *importRun) ackedUpTo(seq uint64) {
	if seq < im.base {
		return
	}
	n := min(int(seq-im.base+1), len(im.unacked))
	im.accepted(n)
	im.unacked = im.unacked[:copy(im.unacked, im.unacked[n:])]
	im.base += uint64(n)
}

// rowByRow ends the fast batch and publishes the rows it did not
// acknowledge, then more (the row that was being added, if any), row by
// row, as the rest of the import will be.
func (im *importRun) rowByRow(cause error, more ...importRow) error {
	im.fast, im.fp = false, nil
	if im.res.RowByRow == nil {
		im.res.RowByRow = fmt.Errorf("the fast batch ended: %w", cause)
	}
	again := append(im.unacked, more...)
	im.unacked = nil
	for _, r := range again {
		if err := im.publish(r); err != nil {
			return err
		}
	}
	return nil
}

// publish sends one record with an acknowledgement of its own.
func (im *importRun) publish(r importRow) error {
	ack, err := im.js.PublishAsync(r.subject, r.data)
	if err != nil {
		return fmt.Errorf("line %d: publish: %w", r.line, err)
	}
	if im.inFlight == len(im.window) {
		if err := im.settleOldest(); err != nil {
			return err
		}
	}
	im.window[(im.first+im.inFlight)%len(im.window)] = pending{r.line, ack}
	im.inFlight++
	return nil
}

func (im *importRun) settleOldest() error {
	p := im.window[im.first]
	im.window[im.first] = pending{}
	im.first, im.inFlight = (im.first+1)%len(im.window), im.inFlight-1
	select {
	case <-p.ack.Ok():
		im.accepted(1)
	case err := <-p.ack.Err():
		im.res.Rejected++
		im.settled++
		im.report(p.line, fmt.Errorf("not stored by NATS: %w", err))
	case <-im.ctx.Done():
		return im.ctx.Err()
	}
	return nil
}

// finish closes the fast batch, or waits for every acknowledgement.
func (im *importRun) finish() error {
	if im.fp != nil {
		ack, err := im.fp.Close(im.ctx)
		switch {
		case err != nil:
			if im.ctx.Err() != nil {
				return im.ctx.Err()
			}
			if err := im.rowByRow(err); err != nil {
				return err
			}
		default:
			// The batch's count is the rows stored; any after it go again.
			im.ackedUpTo(ack.BatchSize)
			if len(im.unacked) > 0 {
				if err := im.rowByRow(fmt.Errorf("%d rows not stored", len(im.unacked))); err != nil {
					return err
				}
			}
		}
		im.fp = nil
	}
	for im.inFlight > 0 {
		if err := im.settleOldest(); err != nil {
			return err
		}
	}
	if im.progress != nil {
		im.progress(im.res)
	}
	return nil
}

// OpenRows picks the reader for an import file by its content: a FHIR R4
// Bundle (JSON) or CSV. skipped lists what a bundle held besides
// appointments and left out.
func OpenRows(r io.Reader, facility string, loc *time.Location) (rows Rows, skipped []string, err error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(importer.SniffLen)
	if importer.IsFHIR(head) {
		f, err := importer.NewFHIR(br, facility, loc)
		if err != nil {
			return nil, nil, err
		}
		return f, f.Skipped(), nil
	}
	c, err := importer.NewCSV(br, facility, loc)
	return c, nil, err
}

// DefaultMaxRows bounds the rows of one import unless told otherwise.
const DefaultMaxRows = 5_000_000

// LimitRows stops an import after max rows with an error saying so; max 0
// is no limit.
func LimitRows(rows Rows, max int) Rows {
	if max <= 0 {
		return rows
	}
	return &limitedRows{rows: rows, max: max}
}

// AdmitRows refuses the rows the facility's own rules refuse (see
// notifier.Facility.Admit), as the worker's replica would.
func AdmitRows(rows Rows, f notifier.Facility) Rows {
	return admittedRows{rows, f}
}

type admittedRows struct {
	rows Rows
	f    notifier.Facility
}

func (a admittedRows) Next() (importer.Row, error) {
	r, err := a.rows.Next()
	if err == nil && r.Err == nil {
		if err := a.f.Admit(&r.Appointment); err != nil {
			return importer.Row{Line: r.Line, Err: &importer.LineError{Line: r.Line, Err: err}}, nil
		}
	}
	return r, err
}

type limitedRows struct {
	rows Rows
	max  int
	n    int
}

func (l *limitedRows) Next() (importer.Row, error) {
	if l.n >= l.max {
		if _, err := l.rows.Next(); errors.Is(err, io.EOF) {
			return importer.Row{}, io.EOF
		}
		return importer.Row{}, fmt.Errorf("the file has more than %d rows: split it, or raise --max-rows", l.max)
	}
	l.n++
	return l.rows.Next()
}
