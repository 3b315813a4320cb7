package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// statusKB reads a "kB" field of /proc/self/status, such as VmHWM (the
// peak resident set) or VmRSS; 0 where there is no /proc.
func statusKB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(data) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(name) != field {
			continue
		}
		v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(value)), " kB"), 10, 64)
		return v
	}
	return 0
}

// resetPeak starts a new VmHWM from the current RSS (Linux ≥ 4.0), so that
// each phase's peak can be told apart. It reports whether it could.
func resetPeak() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// cpuModel names the processor, where /proc/cpuinfo says.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return runtime.GOARCH
}

// fileSize is a file's size, 0 when it does not exist.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// cpuSample is the processor time used so far by this process and by the
// whole machine, so that a phase can tell its own share from others'.
type cpuSample struct {
	at         time.Time
	self, busy time.Duration
}

// userHZ is the unit of /proc/stat, USER_HZ, 100 on every Linux port.
const userHZ = 100

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 5 || fields[0] != "cpu" {
		return s
	}
	var busy int64
	for i, f := range fields[1:] {
		v, _ := strconv.ParseInt(f, 10, 64)
		// idle and iowait are the 4th and 5th; guest time is counted in
		// user already.
		if i != 3 && i != 4 && i < 8 {
			busy += v
		}
	}
	s.busy = time.Duration(busy) * time.Second / userHZ
	return s
}

// cpuSince is the phase's processor use since s began, in cores.
func cpuSince(s cpuSample) CPU {
	e := sampleCPU()
	wall := e.at.Sub(s.at).Seconds()
	self := (e.self - s.self).Seconds()
	others := max(0, (e.busy-s.busy).Seconds()-self)
	return CPU{Seconds: wall, Cores: self / wall, OtherCores: others / wall}
}
