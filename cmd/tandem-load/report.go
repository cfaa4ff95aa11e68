package main

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// report is the outcome on one database.
type report struct {
	db                     string
	results                []result
	tandemSteps, reference *result // steps-open on Tandem and on the reference, when compared
	notes                  []string
}

// errors counts the answers other than 2xx of every scenario.
func (r *report) errors() int {
	n := 0
	for _, res := range r.results {
		if !res.replicaKilled {
			n += res.errors
		}
	}
	if r.reference != nil {
		n += r.reference.errors
	}
	return n
}

var dbTitles = map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}

// print writes the report as Markdown, ready to paste into the README.
func (r *report) print(w io.Writer, o options) {
	conns := "16 keep-alive connections (8 for the dashboards)"
	if o.conc > 0 {
		conns = fmt.Sprintf("%d keep-alive connections", o.conc)
	}
	fmt.Fprintf(w, "\n### %s\n\n", dbTitles[r.db])
	fmt.Fprintf(w, "%v per scenario after a %v warm-up, %s; %d cores shared by Tandem, the database and the load generator. "+
		"CPU is the server process's own; on PostgreSQL, DB CPU is that of the database's server processes for the run's database "+
		"(SQLite runs inside the server, so its CPU is the server's), and total is the sum. Peak RSS is the server's VmHWM during the scenario.\n\n",
		o.duration, o.warmup, conns, runtime.NumCPU())
	fmt.Fprintln(w, "| scenario | req/s | p50 | p95 | p99 | CPU ms/req | DB CPU ms/req | total CPU ms/req | peak RSS MB | errors |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	rows := r.results
	if r.reference != nil {
		rows = append(rows[:len(rows):len(rows)], *r.reference)
	}
	for _, res := range rows {
		peak := fmt.Sprintf("%.0f", float64(res.peakRSS)/(1<<20))
		if res.peakSinceStart {
			peak += "*"
		}
		dbCPU := "—"
		if res.db != nil {
			dbCPU = fmt.Sprintf("%.2f", cpuPerRequest(res.dbCPU, res))
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %.2f | %s | %.2f | %s | %d |\n", res.name, perSecond(res),
			fmtLatency(res.p50), fmtLatency(res.p95), fmtLatency(res.p99), cpuPerRequest(res.serverCPU, res), dbCPU,
			cpuPerRequest(res.serverCPU+res.dbCPU, res), peak, res.errors)
	}
	fmt.Fprintln(w)
	if t, ref := r.tandemSteps, r.reference; t != nil && ref != nil {
		fmt.Fprintf(w, "Tandem ÷ reference (steps-open): req/s %s, p95 %s, CPU ms/req %s, total CPU ms/req %s\n\n",
			ratio(perSecond(*t), perSecond(*ref)), ratio(float64(t.p95), float64(ref.p95)),
			ratio(cpuPerRequest(t.serverCPU, *t), cpuPerRequest(ref.serverCPU, *ref)),
			ratio(cpuPerRequest(t.serverCPU+t.dbCPU, *t), cpuPerRequest(ref.serverCPU+ref.dbCPU, *ref)))
	}
	others := "other processes"
	if r.db == "postgres" {
		others = "PostgreSQL and other processes"
	}
	for _, res := range rows {
		line := fmt.Sprintf("- %s: %.1f KB per answer", res.name, float64(res.bodyBytes)/float64(max(res.requests-res.errors, 1))/1024)
		if res.db != nil && res.requests > 0 {
			line += fmt.Sprintf("; ≈%.1f database transactions per request, %d new database connections",
				float64(res.db.commits)/float64(res.requests), res.db.sessions)
		}
		share := func(d time.Duration) float64 {
			return 100 * float64(d) / float64(res.elapsed) / float64(runtime.NumCPU())
		}
		line += fmt.Sprintf("; load generator %.3f CPU ms/req; of the machine's CPU the server used %.0f%%, the load generator %.0f%%, "+
			"%s %.0f%%", cpuPerRequest(res.driverCPU, res), share(res.serverCPU), share(res.driverCPU), others,
			share(res.machineBusy-res.serverCPU-res.driverCPU))
		if res.db != nil {
			line += fmt.Sprintf(" (the run's database %.0f%%)", share(res.dbCPU))
		}
		if res.ranOut {
			line += fmt.Sprintf("; ran out of open steps after %v (seed more with -pool)", res.elapsed.Round(100*time.Millisecond))
		}
		if res.peakSinceStart {
			line += "; * peak RSS since the server started (it could not be reset)"
		}
		fmt.Fprintln(w, line)
	}
	for _, n := range r.notes {
		fmt.Fprintln(w, "- "+n)
	}
}

// printComparison writes SQLite ÷ PostgreSQL for each scenario both ran:
// throughput, p95 and the total CPU per request, the database's included.
func printComparison(w io.Writer, lite, pg *report) {
	fmt.Fprint(w, "\n### SQLite ÷ PostgreSQL\n\n")
	fmt.Fprintln(w, "| scenario | req/s | p95 | total CPU ms/req |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, l := range lite.results {
		for _, p := range pg.results {
			if p.name != l.name {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", l.name, ratio(perSecond(l), perSecond(p)),
				ratio(float64(l.p95), float64(p.p95)),
				ratio(cpuPerRequest(l.serverCPU+l.dbCPU, l), cpuPerRequest(p.serverCPU+p.dbCPU, p)))
		}
	}
}

// perSecond is the measured throughput.
func perSecond(res result) float64 {
	if res.elapsed <= 0 {
		return 0
	}
	return float64(res.requests) / res.elapsed.Seconds()
}

// cpuPerRequest is cpu spread over the requests, in milliseconds.
func cpuPerRequest(cpu time.Duration, res result) float64 {
	if res.requests == 0 {
		return 0
	}
	return float64(cpu) / float64(time.Millisecond) / float64(res.requests)
}

// ratio formats a ÷ b as a factor.
func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// fmtLatency formats a latency in milliseconds with three significant
// digits or so.
func fmtLatency(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
