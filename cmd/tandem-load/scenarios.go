package main

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/google/uuid"
)

// scenarioNames are the scenarios in the order they run by default: the
// reads, then the therapist's view (which writes a disclosure per read),
// then the completions.
var scenarioNames = []string{"steps-open", "dashboard-coach", "dashboard-owner", "dashboard-owner-2000", "shared-view", "step-complete"}

// stepsLimit is the page size of the steps-open list.
const stepsLimit = 50

// defaultConcurrency is each scenario's number of connections when -c
// leaves it out: 16 for the step list and the other small requests, 8 for
// the dashboards, which are heavier.
func defaultConcurrency(name string) int {
	if strings.HasPrefix(name, "dashboard-") {
		return 8
	}
	return 16
}

// plan is what the scenarios of one server need.
type plan struct {
	addr           string // host:port of Tandem
	world          world
	actors         actors
	dashboardQuery string // "?limit=50", or "" while the dashboard takes no limit
	concurrency    int    // -c; 0: defaultConcurrency
	pool           *stepPool
}

// scenario returns the named scenario against the server at addr
// (Tandem, or the reference for steps-open).
func (p plan) scenario(name, addr string) (scenario, error) {
	sc := scenario{name: name, addr: addr, concurrency: p.concurrency}
	if sc.concurrency == 0 {
		sc.concurrency = defaultConcurrency(name)
	}
	w, ac := p.world, p.actors
	switch name {
	case "steps-open":
		// Spread over the portal clients, each reading their own list.
		sc.worker = func(i int) func([]byte) ([]byte, bool) {
			k := i % len(w.Portals)
			return p.get(addr, stepsPath(w.Portals[k].ClientID), ac.portals[k])
		}
	case "dashboard-coach":
		sc.worker = func(int) func([]byte) ([]byte, bool) {
			return p.get(addr, "/api/v1/dashboard"+p.dashboardQuery, ac.coachA)
		}
	case "dashboard-owner":
		sc.worker = func(int) func([]byte) ([]byte, bool) {
			return p.get(addr, "/api/v1/dashboard"+p.dashboardQuery, ac.ownerA)
		}
	case "dashboard-owner-2000":
		sc.worker = func(int) func([]byte) ([]byte, bool) {
			return p.get(addr, "/api/v1/dashboard"+p.dashboardQuery, ac.ownerB)
		}
	case "shared-view":
		sc.worker = func(i int) func([]byte) ([]byte, bool) {
			return p.get(addr, "/api/v1/shared/clients/"+w.Portals[i%len(w.Portals)].ClientID.String(), ac.therapist)
		}
	case "step-complete":
		sc.worker = func(int) func([]byte) ([]byte, bool) { return p.complete(addr, ac.completer) }
	default:
		return scenario{}, fmt.Errorf("unknown scenario %q (want %s)", name, strings.Join(scenarioNames, ", "))
	}
	return sc, nil
}

// stepsPath is the steps-open request of a client.
func stepsPath(clientID uuid.UUID) string {
	return fmt.Sprintf("/api/v1/clients/%s/action-steps?status=open&limit=%d", clientID, stepsLimit)
}

// get returns a source that sends the same GET again and again, built
// once and rebuilt only when the actor's token is refreshed.
func (p plan) get(addr, path string, ac *actor) func([]byte) ([]byte, bool) {
	var (
		req  []byte
		sent *string
	)
	return func([]byte) ([]byte, bool) {
		if h := ac.header.Load(); h != sent {
			sent = h
			req = appendRequest(req[:0], "GET", addr, path, *h, nil)
		}
		return req, true
	}
}

// completeBody is the body of every completion: no reflection.
var completeBody = []byte("{}")

// complete returns a source that completes the next open step of the
// pool, a different one on every request.
func (p plan) complete(addr string, ac *actor) func([]byte) ([]byte, bool) {
	return func(buf []byte) ([]byte, bool) {
		id, ok := p.pool.take()
		if !ok {
			return nil, false
		}
		path := "/api/v1/action-steps/" + id.String() + "/complete"
		return appendRequest(buf, "POST", addr, path, *ac.header.Load(), completeBody), true
	}
}

// stepPool hands out the seeded open steps, each once.
type stepPool struct {
	ids  []uuid.UUID
	next atomic.Int64
}

func (sp *stepPool) take() (uuid.UUID, bool) {
	i := sp.next.Add(1) - 1
	if i >= int64(len(sp.ids)) {
		return uuid.Nil, false
	}
	return sp.ids[i], true
}
