package bench

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"
)

// blockRate samples goroutines blocked for about 10µs or more, so that
// the profile shows where a phase waits rather than computes.
const blockRate = 10_000

// profile starts the profiles of a phase when dir is set: CPU, and where
// goroutines blocked or waited for a lock. stop ends them and writes them
// with a heap profile.
func profile(dir, phase string) (stop func() error, err error) {
	if dir == "" {
		return func() error { return nil }, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := func(kind string) string { return filepath.Join(dir, phase+"."+kind+".pprof") }
	f, err := os.Create(path("cpu"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	runtime.SetBlockProfileRate(blockRate)
	runtime.SetMutexProfileFraction(100)
	return func() error {
		pprof.StopCPUProfile()
		errs := []error{f.Close()}
		for _, kind := range []string{"block", "mutex", "heap"} {
			errs = append(errs, writeProfile(kind, path(kind)))
		}
		runtime.SetBlockProfileRate(0)
		runtime.SetMutexProfileFraction(0)
		return errors.Join(errs...)
	}, nil
}

// writeProfile writes a named profile; the heap after a collection, so
// that it shows what is live.
func writeProfile(kind, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if kind == "heap" {
		runtime.GC()
	}
	return errors.Join(pprof.Lookup(kind).WriteTo(f, 0), f.Close())
}

func machine() Machine {
	return Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: cpuModel(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
}

// sortedSeconds returns the times after t0 in seconds, sorted.
func sortedSeconds(ts []time.Time, t0 time.Time) []float64 {
	out := make([]float64, len(ts))
	for i, t := range ts {
		out[i] = t.Sub(t0).Seconds()
	}
	slices.Sort(out)
	return out
}

// percentile is the p-th percentile (0 to 100) of sorted values, by the
// nearest rank.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
