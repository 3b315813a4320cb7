package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// progressEvery is how often a plain progress line is written at least
// while work goes on.
const progressEvery = 2 * time.Second

// progress shows how far a long command has got, on stderr: a bar on a
// terminal; elsewhere (a log file, a CI job) a plain line each time another
// tenth of the work is done or progressEvery has passed; nothing with
// --quiet. A nil *progress shows nothing, so callers need not check.
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	name  string // the command, which starts every plain line
	total int64  // 0 when unknown
	// tenths of total that plain lines have reported, and when the last
	// was written.
	tenths int64
	last   time.Time
}

// progressMode says how progress is shown.
type progressMode int

const (
	progressNone  progressMode = iota // --quiet
	progressBar                       // on a terminal
	progressLines                     // elsewhere
)

// progressModeFor is the mode for stderr, or none with --quiet.
func progressModeFor(quiet bool) progressMode {
	switch {
	case quiet:
		return progressNone
	case isTerminal(os.Stderr):
		return progressBar
	}
	return progressLines
}

// progressUnit says what a progress counts.
type progressUnit int

const (
	unitItems progressUnit = iota
	unitBytes
)

// newProgress starts showing, in mode, the progress of the command name
// towards total (0 when unknown); desc labels the bar.
func newProgress(mode progressMode, name, desc string, total int64, unit progressUnit) *progress {
	if mode == progressNone {
		return nil
	}
	p := &progress{w: os.Stderr, name: name, total: total, last: time.Now()}
	if mode == progressLines {
		return p
	}
	max := total
	if max <= 0 {
		max = -1 // a spinner
	}
	opts := []progressbar.Option{
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(65 * time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
	}
	if unit == unitBytes {
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true), progressbar.OptionSetWidth(10))
	}
	if max > 0 {
		opts = append(opts, progressbar.OptionFullWidth())
	}
	p.bar = progressbar.NewOptions64(max, opts...)
	return p
}

// quietFlag registers --quiet, which turns progress off.
func quietFlag(cmd *cobra.Command, quiet *bool) {
	cmd.Flags().BoolVarP(quiet, "quiet", "q", false, "show no progress; results and errors are still printed")
}

// advance moves the bar to n; it writes no plain line, for callers that
// know n often but the rest of the line only now and then.
func (p *progress) advance(n int64) {
	if p != nil && p.bar != nil {
		p.bar.Set64(n)
	}
}

// report moves the progress to n and, off a terminal, writes line() when
// a line is due.
func (p *progress) report(n int64, line func() string) {
	if p == nil {
		return
	}
	if p.bar != nil {
		p.bar.Set64(n)
		return
	}
	due := time.Since(p.last) >= progressEvery
	if p.total > 0 {
		if t := min(n*10/p.total, 10); t > p.tenths {
			p.tenths, due = t, true
		}
	}
	if due {
		fmt.Fprintf(p.w, "%s: %s\n", p.name, line())
		p.last = time.Now()
	}
}

// setTotal changes the total, when it becomes known or grows.
func (p *progress) setTotal(total int64) {
	if p == nil || total == p.total {
		return
	}
	p.total = total
	if p.bar != nil && total > 0 {
		p.bar.ChangeMax64(total)
	}
}

// clear takes the bar off the screen, so that another line can be written
// to stderr; the next report draws it again.
func (p *progress) clear() {
	if p != nil && p.bar != nil {
		p.bar.Clear()
	}
}

// done removes the bar for good.
func (p *progress) done() {
	if p != nil && p.bar != nil {
		p.bar.Finish()
	}
}

// progressReader counts the bytes read through it and moves a progress
// bar with them.
type progressReader struct {
	r io.Reader
	p *progress
	n int64
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.n += int64(n)
	r.p.advance(r.n)
	return n, err
}
