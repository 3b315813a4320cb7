package importer

import (
	"bufio"
	"fmt"
	"io"
)

// MaxLineLength is the longest physical line accepted, in bytes, without its
// line feed. A real row is a few hundred bytes; the limit keeps a file that
// is not an appointment export from being read into memory a line at a time.
const MaxLineLength = 64 << 10

// maxRecordLength bounds a record whose quoted fields span lines. A quote
// that is never closed turns the rest of the file into one field, and there
// is no telling where the next row starts, so reading stops there.
const maxRecordLength = 1 << 20

var (
	errLineTooLong   = fmt.Errorf("longer than %d bytes", MaxLineLength)
	errRecordTooLong = fmt.Errorf("a row starting at or after this line runs past %d bytes; is a quoted field not closed?", maxRecordLength)
)

// lineLimiter passes its input on a line at a time, drops a byte order mark
// at the start, and replaces every line longer than MaxLineLength by an
// empty one. It remembers the lines it emptied, so that the reader can report
// them and carry on with the next line; the line numbers stay right.
type lineLimiter struct {
	r       *bufio.Reader
	line    int    // physical line of the next line read, from 1
	pending []byte // what is left of the line read last
	err     error  // what ended the input
	cut     []int  // lines emptied and not yet reported, ascending
	passed  int64  // bytes passed on
	// recordStart is the value of passed at which the record being read
	// starts.
	recordStart int64
}

func newLineLimiter(r io.Reader) *lineLimiter {
	l := &lineLimiter{r: bufio.NewReaderSize(r, MaxLineLength+1), line: 1}
	const bom = "\uFEFF"
	if b, err := l.r.Peek(len(bom)); err == nil && string(b) == bom {
		_, _ = l.r.Discard(len(bom)) // cannot fail after a successful Peek
	}
	return l
}

// Read fails with errRecordTooLong once the record being read is past
// maxRecordLength, give or take the reader's read-ahead.
func (l *lineLimiter) Read(p []byte) (int, error) {
	if l.passed-l.recordStart > maxRecordLength {
		return 0, errRecordTooLong
	}
	if len(l.pending) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		l.readLine()
		if len(l.pending) == 0 {
			return 0, l.err
		}
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	l.passed += int64(n)
	return n, nil
}

// readLine reads the next line into pending, or its line feed alone when it
// is too long.
func (l *lineLimiter) readLine() {
	line, err := l.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		l.cut = append(l.cut, l.line)
		for err == bufio.ErrBufferFull {
			_, err = l.r.ReadSlice('\n')
		}
		line = nil
		if err == nil {
			line = []byte{'\n'}
		}
	}
	if len(line) > 0 && line[len(line)-1] == '\n' {
		l.line++
	}
	l.pending, l.err = line, err
}

// firstCut returns the first line emptied up to and including line, or 0.
func (l *lineLimiter) firstCut(line int) int {
	if len(l.cut) > 0 && l.cut[0] <= line {
		return l.cut[0]
	}
	return 0
}

// forgetCuts forgets the lines emptied up to and including line.
func (l *lineLimiter) forgetCuts(line int) {
	for len(l.cut) > 0 && l.cut[0] <= line {
		l.cut = l.cut[1:]
	}
}
