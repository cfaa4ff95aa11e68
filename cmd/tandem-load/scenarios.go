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

// mixScenario is the realistic mix, for many replicas (-replicas): a
// quarter of the connections are coach A reading the dashboard, a quarter
// coach A writing session notes, a quarter a client completing steps and a
// quarter the therapist reading shared views. It is not in the default run.
const mixScenario = "mix"

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
	acks           *ackLog // when set, the completions the server acknowledged
}

// ackLog records, per worker, the steps whose completion the server
// acknowledged with a 2xx: each must be done in the database afterwards,
// whatever happened to the server that answered.
type ackLog struct {
	last  []uuid.UUID   // per worker: the step of the request in flight
	acked [][]uuid.UUID // per worker
}

func newAckLog(workers int) *ackLog {
	return &ackLog{last: make([]uuid.UUID, workers), acked: make([][]uuid.UUID, workers)}
}

// answered is a scenario's answered hook: worker w's request got code.
func (l *ackLog) answered(w, code int) {
	if id := l.last[w]; id != uuid.Nil {
		if code/100 == 2 {
			l.acked[w] = append(l.acked[w], id)
		}
		l.last[w] = uuid.Nil
	}
}

// all is every acknowledged completion; call it once the workers stopped.
func (l *ackLog) all() []uuid.UUID {
	var out []uuid.UUID
	for _, a := range l.acked {
		out = append(out, a...)
	}
	return out
}

// scenario returns the named scenario against the server at addr
// (Tandem, or the reference for steps-open).
func (p plan) scenario(name, addr string) (scenario, error) {
	sc := scenario{name: name, addr: addr, concurrency: p.concurrency}
	if sc.concurrency == 0 {
		sc.concurrency = defaultConcurrency(name)
	}
	if p.acks != nil {
		sc.answered = p.acks.answered
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
		sc.worker = func(i int) func([]byte) ([]byte, bool) { return p.complete(addr, ac.completer, i) }
	case mixScenario:
		sc.worker = func(i int) func([]byte) ([]byte, bool) {
			switch i % 4 {
			case 0:
				return p.get(addr, "/api/v1/dashboard"+p.dashboardQuery, ac.coachA)
			case 1:
				return p.note(addr, w.SessionsA[(i/4)%len(w.SessionsA)], ac.coachA)
			case 2:
				return p.complete(addr, ac.completer, i)
			}
			return p.get(addr, "/api/v1/shared/clients/"+w.Portals[(i/4)%len(w.Portals)].ClientID.String(), ac.therapist)
		}
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

// complete returns worker w's source that completes the next open step
// of the pool, a different one on every request.
func (p plan) complete(addr string, ac *actor, w int) func([]byte) ([]byte, bool) {
	return func(buf []byte) ([]byte, bool) {
		id, ok := p.pool.take()
		if !ok {
			return nil, false
		}
		if p.acks != nil {
			p.acks.last[w] = id
		}
		path := "/api/v1/action-steps/" + id.String() + "/complete"
		return appendRequest(buf, "POST", addr, path, *ac.header.Load(), completeBody), true
	}
}

// note returns a source that writes the session's private note again and
// again, each time with new text.
func (p plan) note(addr string, sessionID uuid.UUID, ac *actor) func([]byte) ([]byte, bool) {
	path := "/api/v1/sessions/" + sessionID.String() + "/private-note"
	n := 0
	return func(buf []byte) ([]byte, bool) {
		n++
		body := fmt.Appendf(nil, `{"body":"Load note %d: follow up on the plan."}`, n)
		return appendRequest(buf, "PUT", addr, path, *ac.header.Load(), body), true
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
