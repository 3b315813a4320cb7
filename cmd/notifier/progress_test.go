package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestProgressLines(t *testing.T) {
	t.Run("one line per tenth", func(t *testing.T) {
		var b bytes.Buffer
		p := &progress{w: &b, name: "import", total: 1000, last: time.Now()}
		for n := int64(0); n < 1000; n += 7 {
			p.report(n, func() string { return fmt.Sprint(n, " rows") })
		}
		p.report(1000, func() string { return "1000 rows" })
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if len(lines) != 10 || lines[0] != "import: 105 rows" || lines[9] != "import: 1000 rows" {
			t.Errorf("got %d lines:\n%s", len(lines), b.String())
		}
	})
	t.Run("unknown total: every two seconds", func(t *testing.T) {
		var b bytes.Buffer
		p := &progress{w: &b, name: "preview", last: time.Now()}
		p.report(10, func() string { return "10" })
		if b.Len() != 0 {
			t.Errorf("a line before two seconds passed: %q", b.String())
		}
		p.last = time.Now().Add(-progressEvery)
		p.report(20, func() string { return "20" })
		if b.String() != "preview: 20\n" {
			t.Errorf("got %q", b.String())
		}
	})
	t.Run("quiet", func(t *testing.T) {
		var p *progress = newProgress(progressNone, "x", "x", 10, unitItems)
		p.report(5, func() string { t.Error("line asked for"); return "" })
		p.advance(5)
		p.setTotal(20)
		p.clear()
		p.done()
	})
}
