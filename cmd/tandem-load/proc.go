package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// which Linux fixes at 100 for user space on every architecture Go runs on).
const clockTick = 10 * time.Millisecond

// cpuTime is the CPU time the process has used so far, user and system,
// over all its threads.
func cpuTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count fields from the last closing parenthesis.
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return 0, errors.New("unexpected /proc/<pid>/stat format")
	}
	fields := bytes.Fields(raw[end+1:])
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, errors.New("unexpected /proc/<pid>/stat format")
	}
	utime, err1 := strconv.ParseInt(string(fields[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(fields[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// peakRSS is the process's peak resident set size (VmHWM) in bytes: since
// it started, or since the last resetPeakRSS.
func peakRSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(raw) {
		rest, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest) // "1234", "kB"
		if len(f) != 2 || string(f[1]) != "kB" {
			break
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		return kb << 10, err
	}
	return 0, errors.New("no VmHWM in /proc/<pid>/status")
}

// resetPeakRSS sets the process's peak RSS back to its current RSS (Linux
// 4.0 and later), so that the next peakRSS covers one scenario only.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// machineCPU is the CPU time every core of the machine has spent busy
// (neither idle nor waiting for I/O), summed over the cores.
func machineCPU() (time.Duration, error) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	fields := bytes.Fields(line) // "cpu" user nice system idle iowait irq softirq steal ...
	if len(fields) < 6 || string(fields[0]) != "cpu" {
		return 0, errors.New("unexpected /proc/stat format")
	}
	var busy int64
	for i, f := range fields[1:] {
		n, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil {
			return 0, err
		}
		if i != 3 && i != 4 && i < 8 { // not idle, iowait, or guest time (already in user)
			busy += n
		}
	}
	return time.Duration(busy) * clockTick, nil
}
