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

// procDir is /proc/self for pid 0, else /proc/<pid>.
func procDir(pid int) string {
	if pid == 0 {
		return "/proc/self"
	}
	return "/proc/" + strconv.Itoa(pid)
}

// statusKB reads a "kB" field of /proc/<pid>/status (pid 0: this process),
// such as VmHWM (the peak resident set) or VmRSS; 0 where there is no
// /proc or no such process.
func statusKB(pid int, field string) int64 {
	data, err := os.ReadFile(procDir(pid) + "/status")
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

// resetPeak starts a new VmHWM of process pid (0: this process) from its
// current RSS (Linux ≥ 4.0), so that each phase's peak can be told apart.
// It reports whether it could.
func resetPeak(pid int) bool {
	return os.WriteFile(procDir(pid)+"/clear_refs", []byte("5"), 0) == nil
}

// procCPU is the processor time process pid has used so far, user and
// system (fields 14 and 15 of /proc/<pid>/stat, in USER_HZ ticks); 0
// where there is no /proc or no such process.
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(procDir(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in brackets and may hold spaces and
	// brackets itself: the fields that follow start after the last ")".
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state): utime and stime are 11 and 12 on.
	if len(fields) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * time.Second / userHZ
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

// cpuSample is the processor time used so far by this process, by the
// NATS server's process when it runs apart, and by the whole machine, so
// that a phase can tell its own share from others'.
type cpuSample struct {
	at               time.Time
	self, nats, busy time.Duration
}

// userHZ is the unit of /proc/stat and /proc/<pid>/stat, USER_HZ, 100 on
// every Linux port.
const userHZ = 100

// sampleCPU samples the processor time used so far; natsPID is the NATS
// server's process, 0 when it runs in this one.
func sampleCPU(natsPID int) cpuSample {
	s := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if natsPID != 0 {
		s.nats = procCPU(natsPID)
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
func cpuSince(s cpuSample, natsPID int) CPU {
	e := sampleCPU(natsPID)
	wall := e.at.Sub(s.at).Seconds()
	self := (e.self - s.self).Seconds()
	nats := max(0, (e.nats - s.nats).Seconds())
	others := max(0, (e.busy-s.busy).Seconds()-self-nats)
	return CPU{Seconds: wall, Cores: self / wall, NATSCores: nats / wall, OtherCores: others / wall}
}
