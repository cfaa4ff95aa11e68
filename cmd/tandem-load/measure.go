package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tandem-coach/tandem/internal/store"
)

// dbRun is the measurement on one database.
type dbRun struct {
	opts   options
	db     *database
	dir    string       // the database's temporary directory
	client *http.Client // for the driver's own requests, not the load
	tandem api          // the driver's own requests to tandem serve
	mon    *dbMonitor   // PostgreSQL's counters; nil on SQLite
	logf   func(string, ...any)
}

// measureDatabase creates and seeds the database, starts tandem serve on
// it, signs the actors in and drives the scenarios.
func measureDatabase(ctx context.Context, o options, kind, bin, tmp string, logf func(string, ...any)) (*report, error) {
	r := &dbRun{opts: o, dir: filepath.Join(tmp, kind)}
	r.logf = func(format string, a ...any) { logf(kind+": "+format, a...) }
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return nil, err
	}
	if kind == "postgres" {
		db, err := newPostgres(ctx, o.pgURL, r.dir)
		if err != nil {
			return nil, err
		}
		r.db = db
	} else {
		r.db = newSQLite(r.dir)
	}
	defer func() {
		if err := r.db.drop(); err != nil {
			r.logf("drop the database: %v", err)
		}
	}()

	if kind == "postgres" {
		mon, err := newDBMonitor(ctx, r.db.pgURL)
		if err != nil {
			return nil, err
		}
		defer mon.close()
		r.mon = mon
	}

	start := time.Now()
	r.logf("migrating and seeding")
	w, err := r.db.prepare(ctx, o.pool)
	if err != nil {
		return nil, err
	}
	r.logf("seeded in %v", time.Since(start).Round(100*time.Millisecond))

	replicas := 1
	if kind == "postgres" {
		replicas = o.replicas
	}
	var (
		servers []*process
		addrs   []string
		pids    []int
	)
	for i := range replicas {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		srv, err := startProcess("tandem serve", bin, []string{"serve"}, r.db.serveEnv(addr),
			filepath.Join(r.dir, fmt.Sprintf("tandem-%d.log", i)))
		if err != nil {
			return nil, err
		}
		defer srv.stop(20 * time.Second)
		if err := srv.waitReady(ctx, "http://"+addr+"/readyz", time.Minute); err != nil {
			return nil, err
		}
		r.logf("tandem serve ready at http://%s (pid %d)", addr, srv.pid())
		servers, addrs, pids = append(servers, srv), append(addrs, addr), append(pids, srv.pid())
	}
	addr, base := addrs[0], "http://"+addrs[0]

	r.client = &http.Client{Timeout: 30 * time.Second}
	defer r.client.CloseIdleConnections()
	a := api{base: base, client: r.client}
	r.tandem = a
	ac, err := signIn(ctx, a, w)
	if err != nil {
		return nil, err
	}
	freshCtx, stopFresh := context.WithCancel(ctx)
	defer stopFresh()
	go a.keepFresh(freshCtx, ac.all(), r.logf)

	rep := &report{db: kind}
	if replicas > 1 {
		rep.notes = append(rep.notes, fmt.Sprintf("%d tandem serve replicas on the one database, each with a pool of up to "+
			"%d PostgreSQL connections; each worker's connection goes to one replica in turn.", replicas, store.MaxOpenConns))
	}
	p := plan{addr: addr, world: w, actors: ac, concurrency: o.conc, pool: &stepPool{ids: w.OpenSteps}}
	if slices.ContainsFunc(o.scenarios, func(s string) bool { return strings.HasPrefix(s, "dashboard-") }) {
		var note string
		if p.dashboardQuery, note, err = dashboardQuery(ctx, a, ac.ownerB); err != nil {
			return nil, err
		}
		rep.notes = append(rep.notes, note)
	}

	killed := false
	for _, name := range o.scenarios {
		if r.mon != nil {
			p.acks = newAckLog(max(o.conc, defaultConcurrency(name)))
		}
		sc, err := p.scenario(name, addr)
		if err != nil {
			return nil, err
		}
		if replicas > 1 {
			sc.replicas = addrs
			sc.name = fmt.Sprintf("%s (%d replicas)", name, replicas)
		}
		r.logf("%s: %d connections, %v warm-up, %v measured", sc.name, sc.concurrency, o.warmup, o.duration)
		killsHere := o.killAfter > 0 && !killed
		if killsHere {
			killed = true
			victim := servers[len(servers)-1]
			sc.name = fmt.Sprintf("%s (%d replicas, one SIGKILLed %v in)", name, replicas, o.killAfter)
			stopKill := time.AfterFunc(o.warmup+o.killAfter, func() {
				r.logf("SIGKILL to the replica at http://%s (pid %d)", addrs[len(addrs)-1], victim.pid())
				victim.kill()
			})
			defer stopKill.Stop()
		}
		res, err := driveAll(ctx, sc, pids, o.warmup, o.duration, r.mon)
		if err != nil {
			return nil, err
		}
		res.replicaKilled = killsHere
		r.logResult(res)
		rep.results = append(rep.results, res)
		if note, err := r.checkAcknowledged(ctx, sc.name, p.acks); err != nil {
			return nil, err
		} else if note != "" {
			rep.notes = append(rep.notes, note)
		}

		if name == "steps-open" && kind == "postgres" && o.reference {
			r.logf("steps-open against the reference")
			ref, warning, err := r.measureReference(ctx, p)
			if err != nil {
				return nil, err
			}
			r.logResult(ref)
			rep.reference, rep.tandemSteps = &ref, &res
			if warning != "" {
				r.logf("WARNING: %s", warning)
				rep.notes = append(rep.notes, "WARNING: "+warning)
			}
		}
	}
	if !slices.Contains(o.scenarios, "steps-open") && kind == "postgres" && o.reference {
		rep.notes = append(rep.notes, "No reference comparison: it measures steps-open, which was not run.")
	}
	return rep, nil
}

// checkAcknowledged fails unless every step completion a server
// acknowledged is done in the database, and says how many there were.
func (r *dbRun) checkAcknowledged(ctx context.Context, name string, acks *ackLog) (string, error) {
	if acks == nil || r.mon == nil {
		return "", nil
	}
	ids := acks.all()
	if len(ids) == 0 {
		return "", nil
	}
	done, err := r.mon.done(ctx, ids)
	if err != nil {
		return "", err
	}
	if done != len(ids) {
		return "", fmt.Errorf("%s: %d step completions were acknowledged, but only %d of those steps are done: "+
			"an acknowledged write was lost", name, len(ids), done)
	}
	return fmt.Sprintf("%s: all %d acknowledged step completions are done in the database.", name, len(ids)), nil
}

// dashboardQuery finds out whether GET /dashboard takes ?limit=50 yet,
// and returns the query to send with a note on what the dashboard answers:
// its page size says whether the limit is honoured or only accepted.
func dashboardQuery(ctx context.Context, a api, owner *actor) (query, note string, err error) {
	query = "?limit=50"
	body, err := a.call(ctx, http.MethodGet, "/api/v1/dashboard"+query, *owner.header.Load(), nil)
	var se *statusError
	if errors.As(err, &se) && se.code == http.StatusBadRequest {
		query = ""
		body, err = a.call(ctx, http.MethodGet, "/api/v1/dashboard", *owner.header.Load(), nil)
	}
	if err != nil {
		return "", "", err
	}
	var d struct{ Clients []json.RawMessage }
	if err := json.Unmarshal(body, &d); err != nil {
		return "", "", fmt.Errorf("GET /dashboard: %w", err)
	}
	if query == "" {
		return query, fmt.Sprintf("GET /dashboard does not take ?limit yet (400): the dashboards were measured without it, "+
			"whole (%d clients for the owner of practice B).", len(d.Clients)), nil
	}
	return query, fmt.Sprintf("GET /dashboard?limit=50 answers %d clients for the owner of practice B (2,000 active clients).",
		len(d.Clients)), nil
}

// logResult reports a scenario's outcome as it finishes, with the first
// failures.
func (r *dbRun) logResult(res result) {
	r.logf("%s: %d requests, %.0f req/s, p95 %s, %d errors", res.name, res.requests,
		float64(res.requests)/res.elapsed.Seconds(), fmtLatency(res.p95), res.errors)
	for _, s := range res.errorSamples {
		r.logf("  %.400s", s)
	}
	if res.ranOut {
		r.logf("  %s ran out of open steps after %v: seed more with -pool", res.name, res.elapsed.Round(100*time.Millisecond))
	}
}
