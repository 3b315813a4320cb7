package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/importer"
	"github.com/postponement/notifier/notifier"
)

// importWindow is how many appointment records may wait for their
// acknowledgements at once.
const importWindow = 2000

// ImportResult counts an import's rows.
type ImportResult struct {
	Accepted int
	Rejected int
}

// Rows yields appointments to import, one row at a time, io.EOF at the end.
type Rows interface {
	Next() (importer.Row, error)
}

// Import publishes every good row to appointments.<facility>.<id>, so every
// worker's replica receives it, and calls report for every row that was
// refused, by the file or by NATS. A broken row does not stop the rest; an
// error is returned only when reading or publishing cannot go on.
func Import(ctx context.Context, js jetstream.JetStream, rows Rows, report func(line int, err error), progress func(ImportResult)) (ImportResult, error) {
	var res ImportResult
	if err := engine.EnsureStreams(ctx, js, 0, engine.StreamAppointments); err != nil {
		return res, err
	}
	type pending struct {
		line int
		ack  jetstream.PubAckFuture
	}
	// A sliding window: once it is full, each new record waits only for
	// the oldest one's acknowledgement, so NATS always has work.
	window := make([]pending, importWindow)
	first, inFlight, settled := 0, 0, 0
	settleOldest := func() error {
		p := window[first]
		window[first] = pending{}
		first, inFlight = (first+1)%len(window), inFlight-1
		select {
		case <-p.ack.Ok():
			res.Accepted++
		case err := <-p.ack.Err():
			res.Rejected++
			report(p.line, fmt.Errorf("not stored by NATS: %w", err))
		case <-ctx.Done():
			return ctx.Err()
		}
		if settled++; settled%importWindow == 0 && progress != nil {
			progress(res)
		}
		return nil
	}
	settle := func() error {
		for inFlight > 0 {
			if err := settleOldest(); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(res)
		}
		return nil
	}
	for {
		row, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if serr := settle(); serr != nil {
				return res, serr
			}
			return res, err
		}
		if row.Err != nil {
			res.Rejected++
			report(row.Line, row.Err)
			continue
		}
		ack, err := engine.PublishAppointment(js, &row.Appointment)
		if err != nil {
			if serr := settle(); serr != nil {
				return res, serr
			}
			return res, fmt.Errorf("line %d: publish: %w", row.Line, err)
		}
		if inFlight == len(window) {
			if err := settleOldest(); err != nil {
				return res, err
			}
		}
		window[(first+inFlight)%len(window)] = pending{row.Line, ack}
		inFlight++
	}
	return res, settle()
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
