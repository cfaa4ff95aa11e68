package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/tandem-coach/tandem/tools/validators"
)

// TestCalendarFeedConditional: calendar apps poll a feed every hour or so.
// An unchanged feed is byte-identical whenever it is fetched (DTSTAMP is
// each session's last change, not the time of the request), carries a
// strong ETag of its bytes and a Last-Modified of its newest change, and
// answers If-None-Match and If-Modified-Since with 304 until something
// changes; HEAD answers the same headers without the body.
func TestCalendarFeedConditional(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")
	env.roundClock()
	s, _ := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 50})
	cancelled, cancelledTag := env.scheduleSession(f.coach.AccessToken, f.otherRec.ID, map[string]any{
		"starts_at": env.sessionSlot(3, 9, 0, nil), "duration_minutes": 60})
	env.setClock(env.clock.Now().Add(time.Minute))
	env.patchSession(f.coach.AccessToken, cancelled.ID, map[string]any{"status": "cancelled"}, cancelledTag).want(t, http.StatusOK)
	cancelledAt := env.clock.Now().UTC()
	path := env.feedPath(f.coach.AccessToken)

	first := env.do(request{method: "GET", path: path}).want(t, http.StatusOK)
	env.setClock(env.clock.Now().Add(10 * time.Minute)) // the tokens above stay valid
	second := env.do(request{method: "GET", path: path}).want(t, http.StatusOK)
	if !bytes.Equal(first.Body, second.Body) {
		t.Fatalf("an unchanged feed differs ten minutes later:\n%s\n---\n%s", first.Body, second.Body)
	}
	etag, lastModified := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	sum := sha256.Sum256(first.Body)
	if want := `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`; etag != want || second.Header.Get("ETag") != etag {
		t.Fatalf("ETag %q then %q, want the strong %s", etag, second.Header.Get("ETag"), want)
	}
	// The newest change is the feed's own creation, just after the cancellation.
	if lm, err := http.ParseTime(lastModified); err != nil || lm.Before(cancelledAt.Truncate(time.Second)) ||
		lm.After(cancelledAt.Add(time.Second)) || second.Header.Get("Last-Modified") != lastModified {
		t.Fatalf("Last-Modified %q then %q, want the newest change, about %v", lastModified, second.Header.Get("Last-Modified"), cancelledAt)
	}
	if cc := first.Header.Get("Cache-Control"); cc != "private, no-cache" {
		t.Fatalf("Cache-Control = %q: a shared cache must not keep the feed, a calendar app must be able to", cc)
	}
	events := map[string]map[string]string{}
	for _, e := range icsEvents(unfoldICS(t, first.Body)) {
		events[e["UID"]] = e
	}
	ev, cev := events[s.ID+"@tandem"], events[cancelled.ID+"@tandem"]
	if ev["STATUS"] != "CONFIRMED" || ev["TRANSP"] != "OPAQUE" || cev["STATUS"] != "CANCELLED" || cev["TRANSP"] != "TRANSPARENT" {
		t.Fatalf("events %v and %v; want the cancelled one CANCELLED and TRANSPARENT, the other CONFIRMED and OPAQUE", ev, cev)
	}
	if stamp := cancelledAt.Format("20060102T150405Z"); cev["DTSTAMP"] != stamp || cev["LAST-MODIFIED"] != stamp {
		t.Fatalf("cancelled event: DTSTAMP %s, LAST-MODIFIED %s; want its last change %s", cev["DTSTAMP"], cev["LAST-MODIFIED"], stamp)
	}
	checkFeedParses(t, first.Body, 2)

	// Conditional requests, as RFC 9110 §13.2.2 orders them.
	lm, _ := http.ParseTime(lastModified)
	for _, tt := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"current ETag", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"weak comparison", map[string]string{"If-None-Match": "W/" + etag}, http.StatusNotModified},
		{"one of a list", map[string]string{"If-None-Match": `"old", ` + etag}, http.StatusNotModified},
		{"any", map[string]string{"If-None-Match": "*"}, http.StatusNotModified},
		{"stale ETag", map[string]string{"If-None-Match": `"old"`}, http.StatusOK},
		{"If-None-Match wins over If-Modified-Since", map[string]string{"If-None-Match": `"old"`,
			"If-Modified-Since": lm.Add(time.Hour).Format(http.TimeFormat)}, http.StatusOK},
		{"not modified since", map[string]string{"If-Modified-Since": lastModified}, http.StatusNotModified},
		{"modified since", map[string]string{"If-Modified-Since": lm.Add(-time.Second).Format(http.TimeFormat)}, http.StatusOK},
		{"no date", map[string]string{"If-Modified-Since": "yesterday"}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(request{method: "GET", path: path, headers: tt.headers})
			if r.Code != tt.want {
				t.Fatalf("status %d, want %d; body %s", r.Code, tt.want, r.Body)
			}
			if r.Header.Get("ETag") != etag || r.Header.Get("Last-Modified") != lastModified {
				t.Fatalf("ETag %q, Last-Modified %q; want %q, %q", r.Header.Get("ETag"), r.Header.Get("Last-Modified"), etag, lastModified)
			}
			if tt.want == http.StatusNotModified && len(r.Body) != 0 {
				t.Fatalf("304 with a body: %s", r.Body)
			}
		})
	}

	// HEAD, over a real connection, where net/http drops the body.
	srv := httptest.NewServer(env.e)
	defer srv.Close()
	head := func(ifNoneMatch string) *http.Response {
		req, err := http.NewRequest(http.MethodHead, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if body, _ := io.ReadAll(resp.Body); len(body) != 0 {
			t.Fatalf("HEAD answered a body: %q", body)
		}
		return resp
	}
	resp := head("")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != etag || resp.Header.Get("Last-Modified") != lastModified ||
		resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" || resp.Header.Get("Content-Length") != strconv.Itoa(len(first.Body)) {
		t.Fatalf("HEAD: %d %v; want 200 with the GET's headers (Content-Length %d)", resp.StatusCode, resp.Header, len(first.Body))
	}
	if resp := head(etag); resp.StatusCode != http.StatusNotModified {
		t.Fatalf("HEAD with the current ETag: %d, want 304", resp.StatusCode)
	}

	// A change to a session is a new feed: new bytes, ETag and Last-Modified.
	env.setClock(env.clock.Now().Add(time.Minute))
	_, tag := env.getSession(f.coach.AccessToken, s.ID)
	env.patchSession(f.coach.AccessToken, s.ID, map[string]any{"location": "Room 7"}, tag).want(t, http.StatusOK)
	movedAt := env.clock.Now().UTC()
	changed := env.do(request{method: "GET", path: path, headers: map[string]string{"If-None-Match": etag}}).want(t, http.StatusOK)
	if changed.Header.Get("ETag") == etag || changed.Header.Get("Last-Modified") != movedAt.Format(http.TimeFormat) {
		t.Fatalf("after a change: ETag %q (was %q), Last-Modified %q, want %q", changed.Header.Get("ETag"), etag,
			changed.Header.Get("Last-Modified"), movedAt.Format(http.TimeFormat))
	}
	env.do(request{method: "GET", path: path, headers: map[string]string{"If-Modified-Since": lastModified}}).want(t, http.StatusOK)

	// Renaming a client renames their events: the coach's feed changes
	// though no session did, and Last-Modified says so.
	env.setClock(env.clock.Now().Add(time.Minute))
	client := env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID, token: f.coach.AccessToken}).want(t, http.StatusOK)
	env.do(request{method: "PATCH", path: "/api/v1/clients/" + f.clientRec.ID, token: f.coach.AccessToken,
		body: map[string]any{"name": "Ada Renamed"}, headers: map[string]string{"If-Match": client.Header.Get("ETag")}}).want(t, http.StatusOK)
	renamedAt := env.clock.Now().UTC()
	renamed := env.do(request{method: "GET", path: path, headers: map[string]string{
		"If-Modified-Since": changed.Header.Get("Last-Modified")}}).want(t, http.StatusOK)
	if !bytes.Contains(renamed.Body, []byte("Coaching session with Ada Renamed")) ||
		renamed.Header.Get("Last-Modified") != renamedAt.Format(http.TimeFormat) {
		t.Fatalf("after the rename: Last-Modified %q, want %q; body\n%s", renamed.Header.Get("Last-Modified"),
			renamedAt.Format(http.TimeFormat), renamed.Body)
	}
	checkFeedParses(t, renamed.Body, 2)

	// A day later, still the same bytes.
	env.setClock(env.clock.Now().Add(26 * time.Hour))
	later := env.do(request{method: "GET", path: path, headers: map[string]string{"If-None-Match": renamed.Header.Get("ETag")}})
	if later.Code != http.StatusNotModified {
		t.Fatalf("a day later, the unchanged feed answers %d, want 304; body\n%s", later.Code, later.Body)
	}
	if again := env.do(request{method: "GET", path: path}).want(t, http.StatusOK); !bytes.Equal(again.Body, renamed.Body) {
		t.Fatalf("an unchanged feed differs a day later:\n%s\n---\n%s", renamed.Body, again.Body)
	}
}

// checkFeedParses reads a served feed with ical.js and with go-ical: both
// must parse it and find the events.
func checkFeedParses(t *testing.T, body []byte, events int) {
	t.Helper()
	cal := validators.ICal(t, body)
	if len(cal.Events) != events {
		t.Fatalf("ical.js reads %d events, want %d", len(cal.Events), events)
	}
	for _, e := range cal.Events {
		if e.Transp == nil || e.Status == nil || (*e.Status == "CANCELLED") != (*e.Transp == "TRANSPARENT") {
			t.Fatalf("ical.js reads event %+v", e)
		}
	}
	parsed, err := ical.NewDecoder(bytes.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("go-ical cannot decode the feed: %v", err)
	}
	if err := ical.NewEncoder(io.Discard).Encode(parsed); err != nil {
		t.Fatalf("go-ical finds the feed malformed: %v", err)
	}
	if n := len(parsed.Events()); n != events {
		t.Fatalf("go-ical reads %d events, want %d", n, events)
	}
	if strings.Count(string(body), "BEGIN:VEVENT") != events {
		t.Fatalf("the feed has not %d events:\n%s", events, body)
	}
}
