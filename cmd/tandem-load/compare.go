package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// measureReference starts the reference beside Tandem on the same
// database, stops the run unless both answer the first page of open steps
// with the same bytes, then drives steps-open against the reference as it
// drove it against Tandem. The warning is set when Tandem's service no
// longer sends the statement the reference runs.
func (r *dbRun) measureReference(ctx context.Context, p plan) (res result, warning string, err error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return result{}, "", err
	}
	args := []string{"reference", "-addr", addr, "-pg", r.db.pgURL, "-practice", p.world.PracticeA.String()}
	ref, err := startProcess("reference", self, args, baseEnv(), filepath.Join(r.dir, "reference.log"))
	if err != nil {
		return result{}, "", err
	}
	defer ref.stop(5 * time.Second)
	if err := ref.waitReady(ctx, "http://"+addr+"/readyz", 30*time.Second); err != nil {
		return result{}, "", err
	}

	// Every portal client's first page, the pages steps-open reads.
	refAPI := api{base: "http://" + addr, client: r.client}
	size := 0
	for i, portal := range p.world.Portals {
		path, header := stepsPath(portal.ClientID), *p.actors.portals[i].header.Load()
		tandemBody, err := r.tandem.call(ctx, http.MethodGet, path, header, nil)
		if err != nil {
			return result{}, "", err
		}
		refBody, err := refAPI.call(ctx, http.MethodGet, path, header, nil)
		if err != nil {
			return result{}, "", err
		}
		if string(tandemBody) != string(refBody) {
			return result{}, "", fmt.Errorf("the reference does not answer GET %s as Tandem does: %s", path, firstDifference(tandemBody, refBody))
		}
		size = len(tandemBody)
	}
	r.logf("the reference answers the %d portal clients' first page of open steps byte for byte as Tandem does (%d bytes each)",
		len(p.world.Portals), size)

	stmts, err := tandemStepsSQL(ctx, r.db.storeOptions(), p.world.PracticeA, p.world.Portals[0])
	if err != nil {
		return result{}, "", fmt.Errorf("record Tandem's statements: %w", err)
	}
	if !sameSQL(stmts, []string{referenceSQL}) {
		warning = fmt.Sprintf("Tandem's service now sends %d statement(s) for this list, not the reference's one: "+
			"update referenceSQL in cmd/tandem-load/reference.go. Tandem sends:\n%q", len(stmts), stmts)
	}

	sc, err := p.scenario("steps-open", addr)
	if err != nil {
		return result{}, "", err
	}
	res, err = drive(ctx, sc, ref.pid(), r.opts.warmup, r.opts.duration, r.mon)
	res.name = "steps-open (reference)"
	return res, warning, err
}

// firstDifference describes where two answers part.
func firstDifference(tandem, ref []byte) string {
	i := 0
	for i < len(tandem) && i < len(ref) && tandem[i] == ref[i] {
		i++
	}
	from := max(0, i-80)
	excerpt := func(b []byte) string { return string(b[min(from, len(b)):min(len(b), i+80)]) }
	return fmt.Sprintf("sizes %d and %d bytes, first difference at byte %d:\n  tandem:    …%s…\n  reference: …%s…",
		len(tandem), len(ref), i, excerpt(tandem), excerpt(ref))
}
