package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// actor is a user signed in over HTTP. Workers read the Authorization
// header value on every request; keepFresh replaces it before the access
// token expires.
type actor struct {
	email   string
	header  atomic.Pointer[string] // "Bearer <access token>"
	refresh string                 // used by keepFresh only
	expires time.Duration          // the access token's lifetime
}

// actors are the users the scenarios sign in as.
type actors struct {
	ownerA, coachA, ownerB, therapist, completer *actor
	portals                                      []*actor // parallel to world.Portals
}

// all lists every actor, for keepFresh.
func (ac actors) all() []*actor {
	return append([]*actor{ac.ownerA, ac.coachA, ac.ownerB, ac.therapist, ac.completer}, ac.portals...)
}

// signIn signs every actor of the world in.
func signIn(ctx context.Context, a api, w world) (actors, error) {
	var ac actors
	var err error
	for _, s := range []struct {
		to    **actor
		email string
	}{{&ac.ownerA, w.OwnerA.Email}, {&ac.coachA, w.CoachA.Email}, {&ac.ownerB, w.OwnerB.Email},
		{&ac.therapist, w.Therapist.Email}, {&ac.completer, w.Completer.Email}} {
		if *s.to, err = a.login(ctx, s.email); err != nil {
			return actors{}, err
		}
	}
	for _, p := range w.Portals {
		pa, err := a.login(ctx, p.Email)
		if err != nil {
			return actors{}, err
		}
		ac.portals = append(ac.portals, pa)
	}
	return ac, nil
}

// tokenPair is the answer of login and refresh.
type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// api sends the driver's own requests (sign-in, checks), not the load.
type api struct {
	base   string // http://host:port
	client *http.Client
}

// call sends a request, with body as JSON when not nil, and returns the
// body of a 2xx answer.
func (a api) call(ctx context.Context, method, path, authHeader string, body any) ([]byte, error) {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authHeader != "" {
		req.Header.Set("Authorization", authHeader)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, &statusError{method: method, path: path, code: resp.StatusCode, body: raw}
	}
	return raw, nil
}

// tokens sends a request that answers a token pair.
func (a api) tokens(ctx context.Context, path string, body any) (tokenPair, error) {
	var tp tokenPair
	raw, err := a.call(ctx, http.MethodPost, path, "", body)
	if err == nil {
		err = json.Unmarshal(raw, &tp)
	}
	return tp, err
}

// statusError is an answer other than 2xx to one of the driver's own requests.
type statusError struct {
	method, path string
	code         int
	body         []byte
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %.300s", e.method, e.path, e.code, e.body)
}

// login signs the user in with the seeded password.
func (a api) login(ctx context.Context, email string) (*actor, error) {
	tp, err := a.tokens(ctx, "/api/v1/auth/login", map[string]string{"email": email, "password": password})
	if err != nil {
		return nil, fmt.Errorf("sign in %s: %w", email, err)
	}
	ac := &actor{email: email}
	ac.set(tp)
	return ac, nil
}

func (ac *actor) set(tp tokenPair) {
	h := "Bearer " + tp.AccessToken
	ac.header.Store(&h)
	ac.refresh = tp.RefreshToken
	ac.expires = time.Duration(tp.ExpiresIn) * time.Second
}

// keepFresh refreshes every actor's tokens at two thirds of their lifetime
// until ctx ends, so that a long run never sends an expired token. A
// failed refresh is reported and retried on the next round; the requests
// it then fails show as errors.
func (a api) keepFresh(ctx context.Context, actors []*actor, logf func(string, ...any)) {
	if len(actors) == 0 || actors[0].expires <= 0 {
		return
	}
	tick := time.NewTicker(actors[0].expires * 2 / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, ac := range actors {
			tp, err := a.tokens(ctx, "/api/v1/auth/refresh", map[string]string{"refresh_token": ac.refresh})
			if err != nil {
				if ctx.Err() == nil {
					logf("refresh the tokens of %s: %v", ac.email, err)
				}
				continue
			}
			ac.set(tp)
		}
	}
}
