package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// scenario is one kind of request that concurrency workers send, each on
// its own keep-alive connection to addr, one request after another.
type scenario struct {
	name string
	addr string // host:port
	// replicas, when set, are the servers the workers spread over, worker
	// w starting on replicas[w % len]; addr is then replicas[0].
	replicas    []string
	concurrency int
	// answered, when set, hears the status of each answer of worker w, in
	// order (0 when none came).
	answered func(w, code int)
	// worker returns worker w's source of requests: each call appends the
	// next request to buf and returns it, or returns false when there is
	// nothing left to send (the pool of open steps ran out). A source may
	// return the same bytes again, without appending, once they were sent.
	worker func(w int) func(buf []byte) ([]byte, bool)
}

// result is what one scenario measured, after its warm-up.
type result struct {
	name                 string
	requests, errors     int
	elapsed              time.Duration
	p50, p95, p99        time.Duration
	serverCPU, driverCPU time.Duration // over the measured requests
	dbCPU                time.Duration // PostgreSQL's backends for the run's database; 0 on SQLite
	peakRSS              int64         // bytes; the server's peak during the measurement
	peakSinceStart       bool          // the peak could not be reset: it is the server's peak so far
	bodyBytes            int64         // of the successful answers
	ranOut               bool          // the scenario stopped early: nothing left to send
	errorSamples         []string
	machineBusy          time.Duration // CPU time of every process on the machine
	db                   *dbCounters   // PostgreSQL's counters over the measurement, when measured
	// replicaKilled: a replica was SIGKILLed during the measurement, so
	// the requests it had in flight failed; they were never acknowledged
	// and do not fail the run (a lost acknowledged write does).
	replicaKilled bool
}

// workerStats is what one worker saw; each worker has its own, so they
// share nothing while they run.
type workerStats struct {
	wire         *wire
	samples      []time.Duration
	errors       int
	bodyBytes    int64
	errorSamples []string
	ranOut       bool
}

// drive runs sc against the server with process ID pid: warmup first,
// whose requests are not counted, then the measurement for dur. When mon
// is not nil, the database's counters are read over the measurement too.
func drive(ctx context.Context, sc scenario, pid int, warmup, dur time.Duration, mon *dbMonitor) (result, error) {
	return driveAll(ctx, sc, []int{pid}, warmup, dur, mon)
}

// driveAll is drive against several server processes, pids: their CPU is
// summed, their peak RSS is the largest. A process that dies during the
// measurement (killed on purpose) is left out of both.
func driveAll(ctx context.Context, sc scenario, pids []int, warmup, dur time.Duration, mon *dbMonitor) (result, error) {
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(dur)

	stats := make([]*workerStats, sc.concurrency)
	var wg sync.WaitGroup
	for w := range sc.concurrency {
		st := &workerStats{wire: &wire{addrs: sc.addrsOf(w)}, samples: make([]time.Duration, 0, 1<<14)}
		stats[w] = st
		next := sc.worker(w)
		answered := func(int) {}
		if sc.answered != nil {
			answered = func(code int) { sc.answered(w, code) }
		}
		wg.Go(func() {
			defer st.wire.close()
			st.run(ctx, next, answered, measureFrom, end)
		})
	}
	// Ctrl-C: unblock the requests in flight.
	stopAbort := context.AfterFunc(ctx, func() {
		for _, st := range stats {
			st.wire.abort()
		}
	})
	defer stopAbort()
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()

	// The measurement starts when the warm-up ends, or at once if every
	// worker stopped during it.
	select {
	case <-time.After(time.Until(measureFrom)):
	case <-finished:
	case <-ctx.Done():
	}
	peakSinceStart := false
	for _, pid := range pids {
		peakSinceStart = resetPeakRSS(pid) != nil || peakSinceStart
	}
	before, errBefore := readMeters(ctx, pids, mon)
	measuredFrom := time.Now()
	<-finished
	elapsed := time.Since(measuredFrom)
	after, errAfter := readMeters(ctx, pids, mon)
	var peak int64
	for pid := range after.servers {
		if p, err := peakRSS(pid); err == nil {
			peak = max(peak, p)
		}
	}
	if ctx.Err() != nil {
		return result{}, context.Cause(ctx)
	}
	if err := errors.Join(errBefore, errAfter); err != nil {
		return result{}, err
	}
	if len(after.servers) == 0 {
		return result{}, errors.New("no server process survived the measurement")
	}

	r := result{name: sc.name, elapsed: elapsed, serverCPU: after.serverSince(before),
		driverCPU: after.driver - before.driver, machineBusy: after.machine - before.machine,
		peakRSS: peak, peakSinceStart: peakSinceStart}
	if mon != nil {
		r.db = &dbCounters{sessions: after.db.sessions - before.db.sessions, commits: after.db.commits - before.db.commits}
		r.dbCPU = after.db.cpuSince(before.db)
	}
	var all []time.Duration
	for _, st := range stats {
		all = append(all, st.samples...)
		r.errors += st.errors
		r.bodyBytes += st.bodyBytes
		r.ranOut = r.ranOut || st.ranOut
		r.errorSamples = append(r.errorSamples, st.errorSamples...)
	}
	r.errorSamples = r.errorSamples[:min(len(r.errorSamples), 3)]
	r.requests = len(all)
	slices.Sort(all)
	r.p50, r.p95, r.p99 = percentile(all, 50), percentile(all, 95), percentile(all, 99)
	return r, nil
}

// meters are the cumulative counters drive reads at the start and the end
// of a measurement.
type meters struct {
	servers         map[int]time.Duration // CPU time of each live server process
	driver, machine time.Duration         // CPU time
	db              dbCounters
}

// serverSince is the CPU the server processes alive at both readings used
// between them.
func (m meters) serverSince(m0 meters) time.Duration {
	var d time.Duration
	for pid, cpu := range m.servers {
		if c0, ok := m0.servers[pid]; ok {
			d += cpu - c0
		}
	}
	return d
}

func readMeters(ctx context.Context, pids []int, mon *dbMonitor) (meters, error) {
	m := meters{servers: map[int]time.Duration{}}
	var err2, err3, err4 error
	for _, pid := range pids {
		if cpu, err := cpuTime(pid); err == nil { // else it was killed
			m.servers[pid] = cpu
		}
	}
	m.driver, err2 = cpuTime(os.Getpid())
	m.machine, err3 = machineCPU()
	if mon != nil {
		m.db, err4 = mon.read(ctx)
	}
	if err := errors.Join(err2, err3); err != nil {
		return m, fmt.Errorf("read /proc: %w", err)
	}
	if err4 != nil {
		return m, fmt.Errorf("read PostgreSQL's statistics: %w", err4)
	}
	return m, nil
}

// addrsOf is the servers worker w uses, the one it starts on first.
func (sc scenario) addrsOf(w int) []string {
	if len(sc.replicas) == 0 {
		return []string{sc.addr}
	}
	n := len(sc.replicas)
	out := make([]string, n)
	for i := range n {
		out[i] = sc.replicas[(w+i)%n]
	}
	return out
}

// run sends requests until end, recording those that start after
// measureFrom; answered hears every answer's status.
func (st *workerStats) run(ctx context.Context, next func([]byte) ([]byte, bool), answered func(int), measureFrom, end time.Time) {
	var buf, sample []byte
	for ctx.Err() == nil {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		req, ok := next(buf[:0])
		if !ok {
			st.ranOut = true
			return
		}
		buf = req
		a, s, err := st.wire.roundTrip(ctx, req, sample[:0])
		sample = s
		answered(a.code)
		d := time.Since(t0)
		if t0.Before(measureFrom) || ctx.Err() != nil {
			continue
		}
		st.samples = append(st.samples, d)
		if err == nil && a.code/100 == 2 {
			st.bodyBytes += a.size
			continue
		}
		st.errors++
		if len(st.errorSamples) < 3 {
			msg := fmt.Sprintf("%s: %d %s", requestLine(req), a.code, sample)
			if err != nil {
				msg = fmt.Sprintf("%s: %v", requestLine(req), err)
			}
			st.errorSamples = append(st.errorSamples, msg)
		}
	}
}

// percentile returns the nearest-rank pth percentile of sorted samples.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (len(sorted)*p + 99) / 100
	return sorted[max(rank, 1)-1]
}
