package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/webhooks"
)

// receiver is a local webhook endpoint that records what it receives and
// answers as answer says (200 when it is nil).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, tlsServer bool, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(n, w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	if tlsServer {
		rc.srv = httptest.NewTLSServer(h)
	} else {
		rc.srv = httptest.NewServer(h)
	}
	t.Cleanup(rc.srv.Close)
	return rc
}

// requests returns a copy of what the receiver got so far.
func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// trustReceiver is a TLS configuration that trusts rc's certificate.
func trustReceiver(rc *receiver) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(rc.srv.Certificate())
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// verifyStandardWebhook checks a request's signature as a receiver
// following the Standard Webhooks spec would, independently of Tandem's
// code: the HMAC-SHA256, keyed by the base64-decoded secret after whsec_,
// of "id.timestamp.body", base64, among the space-separated "v1,<sig>"
// signatures; and a timestamp within five minutes of now.
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %v away from now", ts, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, sig, _ := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature in %q matches", sigs)
}

type webhookDoc struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	EventTypes     []string `json:"event_types"`
	Enabled        bool     `json:"enabled"`
	DisabledReason *string  `json:"disabled_reason"`
	Secret         string   `json:"secret"`
}

type deliveryDoc struct {
	ID           string  `json:"id"`
	EventType    string  `json:"event_type"`
	Status       string  `json:"status"`
	Attempts     int     `json:"attempts"`
	ResponseCode *int    `json:"response_code"`
	LastError    *string `json:"last_error"`
}

var allEventTypes = []string{"client.created", "action_step.completed", "session.scheduled", "session.cancelled",
	"consent.granted", "consent.revoked"}

// createWebhook registers an endpoint as the owner holding token.
func (env *testEnv) createWebhook(token, target string, types ...string) webhookDoc {
	env.t.Helper()
	if len(types) == 0 {
		types = allEventTypes
	}
	r := env.do(request{method: "POST", path: "/api/v1/practice/webhooks", token: token,
		body: map[string]any{"url": target, "event_types": types}}).want(env.t, http.StatusCreated)
	var w webhookDoc
	r.decode(env.t, &w)
	if loc := r.Header.Get("Location"); loc != "/api/v1/practice/webhooks/"+w.ID || r.Header.Get("ETag") == "" {
		env.t.Fatalf("Location %q, ETag %q", loc, r.Header.Get("ETag"))
	}
	return w
}

// deliveries reads an endpoint's delivery log.
func (env *testEnv) deliveries(token, webhookID string) []deliveryDoc {
	env.t.Helper()
	var page struct {
		Items []deliveryDoc `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/practice/webhooks/" + webhookID + "/deliveries", token: token}).
		want(env.t, http.StatusOK).decode(env.t, &page)
	return page.Items
}

// awaitDeliveries polls the delivery log until done says it is complete.
func (env *testEnv) awaitDeliveries(token, webhookID string, done func([]deliveryDoc) bool) []deliveryDoc {
	env.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ds := env.deliveries(token, webhookID)
		if done(ds) {
			return ds
		}
		if time.Now().After(deadline) {
			env.t.Fatalf("delivery log never settled: %+v", ds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func settled(n int) func([]deliveryDoc) bool {
	return func(ds []deliveryDoc) bool {
		if len(ds) < n {
			return false
		}
		for _, d := range ds {
			if d.Status == webhooks.StatusPending {
				return false
			}
		}
		return true
	}
}

// TestWebhookEventsAreSignedAndMinimal: an owner registers an https
// endpoint, and each of the six events reaches it, signed so that the
// Standard Webhooks algorithm verifies it with the secret shown once, and
// carrying IDs, never notes, reflections, agendas or anything consented.
func TestWebhookEventsAreSignedAndMinimal(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, true, nil)
	// As in production (https only, nothing private), but for the local
	// receiver's loopback address, whose certificate the deliveries trust.
	env := newEnv(t, envOptions{webhooks: &webhooks.DelivererConfig{
		Guard: webhooks.Guard{HTTPSOnly: true, Allow: webhooks.Loopback}, TLS: trustReceiver(rc)}})
	f := env.practice("p")
	wh := env.createWebhook(f.owner.AccessToken, rc.srv.URL+"/hooks?source=tandem")
	if !strings.HasPrefix(wh.Secret, "whsec_") || len(wh.Secret) < 40 || !wh.Enabled {
		t.Fatalf("created %+v", wh)
	}
	// The secret is never shown again.
	for _, path := range []string{"/api/v1/practice/webhooks", "/api/v1/practice/webhooks/" + wh.ID} {
		r := env.do(request{method: "GET", path: path, token: f.owner.AccessToken}).want(t, http.StatusOK)
		if strings.Contains(string(r.Body), wh.Secret) || strings.Contains(string(r.Body), `"secret"`) {
			t.Fatalf("GET %s shows the secret: %s", path, r.Body)
		}
	}

	const secretWords = "private-reflection-words"
	client := env.createClient(f.coach.AccessToken, map[string]any{"name": "Nadia Named", "email": "nadia@example.com"})
	var goal struct{ ID string }
	env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", token: f.coach.AccessToken,
		body: map[string]any{"title": "Run a 10k", "why": secretWords}}).want(t, http.StatusCreated).decode(t, &goal)
	var step struct{ ID string }
	env.do(request{method: "POST", path: "/api/v1/goals/" + goal.ID + "/action-steps", token: f.coach.AccessToken,
		body: map[string]any{"title": "Buy shoes", "details": secretWords}}).want(t, http.StatusCreated).decode(t, &step)
	env.do(request{method: "POST", path: "/api/v1/action-steps/" + step.ID + "/complete", token: f.client.AccessToken,
		body: map[string]any{"note": secretWords}}).want(t, http.StatusOK)
	var sess struct{ ID string }
	env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/sessions", token: f.coach.AccessToken,
		body: map[string]any{"starts_at": env.clock.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339),
			"duration_minutes": 50, "agenda": secretWords, "location": secretWords}}).want(t, http.StatusCreated).decode(t, &sess)
	env.do(request{method: "PATCH", path: "/api/v1/sessions/" + sess.ID, token: f.coach.AccessToken,
		body: map[string]any{"status": "cancelled"}}).want(t, http.StatusOK)
	body := env.signedBody(f, "thea@therapy.example")
	body["purpose"] = secretWords + " purpose"
	c := env.grant(f.client.AccessToken, f.clientRec.ID, body)
	env.consentAction(f.client.AccessToken, c.ID, "revoke").want(t, http.StatusOK)

	want := []string{"client.created", "action_step.completed", "session.scheduled", "session.cancelled",
		"consent.granted", "consent.revoked"}
	ds := env.awaitDeliveries(f.owner.AccessToken, wh.ID, settled(len(want)))
	if len(ds) != len(want) {
		t.Fatalf("%d deliveries, want %d: %+v", len(ds), len(want), ds)
	}
	for _, d := range ds {
		if d.Status != webhooks.StatusSucceeded || d.Attempts != 1 || d.ResponseCode == nil || *d.ResponseCode != 200 || d.LastError != nil {
			t.Errorf("delivery %+v, want succeeded at the first attempt", d)
		}
	}
	log := env.do(request{method: "GET", path: "/api/v1/practice/webhooks/" + wh.ID + "/deliveries", token: f.owner.AccessToken})
	if strings.Contains(string(log.Body), `"data"`) || strings.Contains(string(log.Body), client.ID) {
		t.Fatalf("the delivery log shows payloads: %s", log.Body)
	}

	got := rc.requests()
	if len(got) != len(want) {
		t.Fatalf("receiver got %d requests, want %d", len(got), len(want))
	}
	seen := map[string]bool{} // workers run side by side: in any order
	for i, r := range got {
		if err := verifyStandardWebhook(wh.Secret, r.header, r.body, env.clock.Now()); err != nil {
			t.Errorf("request %d: %v", i, err)
		}
		if r.header.Get("Content-Type") != "application/json" {
			t.Errorf("request %d: Content-Type %q", i, r.header.Get("Content-Type"))
		}
		for _, leak := range []string{secretWords, "Nadia", "nadia@example.com", "thea@therapy.example", "Thea Rapist", "Buy shoes"} {
			if strings.Contains(string(r.body), leak) {
				t.Errorf("request %d carries %q: %s", i, leak, r.body)
			}
		}
		var p struct {
			Type      string         `json:"type"`
			Timestamp time.Time      `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal(r.body, &p); err != nil || p.Timestamp.IsZero() {
			t.Fatalf("request %d: body %s: %v", i, r.body, err)
		}
		if seen[p.Type] {
			t.Errorf("request %d: %s twice", i, p.Type)
		}
		seen[p.Type] = true
		// Each delivery's webhook-id is its ID in the log.
		found := false
		for _, d := range ds {
			found = found || (d.ID == r.header.Get("webhook-id") && d.EventType == p.Type)
		}
		if !found {
			t.Errorf("request %d: webhook-id %s is no delivery of the log", i, r.header.Get("webhook-id"))
		}
		switch p.Type {
		case "client.created":
			if p.Data["client_id"] != client.ID {
				t.Errorf("client.created data %v", p.Data)
			}
		case "action_step.completed":
			if p.Data["action_step_id"] != step.ID || p.Data["goal_id"] != goal.ID || p.Data["client_id"] != f.clientRec.ID {
				t.Errorf("action_step.completed data %v", p.Data)
			}
		case "session.scheduled", "session.cancelled":
			if p.Data["session_id"] != sess.ID || p.Data["client_id"] != f.clientRec.ID {
				t.Errorf("%s data %v", p.Type, p.Data)
			}
		case "consent.granted", "consent.revoked":
			if p.Data["consent_id"] != c.ID || p.Data["client_id"] != f.clientRec.ID {
				t.Errorf("%s data %v", p.Type, p.Data)
			}
		}
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no %s received", w)
		}
	}
	// A signature made with another secret, or over another body, fails.
	if err := verifyStandardWebhook("whsec_"+base64.StdEncoding.EncodeToString([]byte("another key of 32 bytes, really!")),
		got[0].header, got[0].body, env.clock.Now()); err == nil {
		t.Error("another secret verifies")
	}
	if err := verifyStandardWebhook(wh.Secret, got[0].header, append(got[0].body, ' '), env.clock.Now()); err == nil {
		t.Error("a changed body verifies")
	}
}

// TestWebhookOnlySubscribedEvents: an endpoint receives the event types it
// chose, and nothing once disabled by its owner.
func TestWebhookOnlySubscribedEvents(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, false, nil)
	env := newEnv(t)
	f := env.practice("p")
	wh := env.createWebhook(f.owner.AccessToken, rc.srv.URL, "session.scheduled")
	env.createClient(f.coach.AccessToken, map[string]any{"name": "Not subscribed"})
	env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/sessions", token: f.coach.AccessToken,
		body: map[string]any{"starts_at": env.clock.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339),
			"duration_minutes": 30}}).want(t, http.StatusCreated)
	ds := env.awaitDeliveries(f.owner.AccessToken, wh.ID, settled(1))
	if len(ds) != 1 || ds[0].EventType != "session.scheduled" {
		t.Fatalf("deliveries %+v, want the session only", ds)
	}
	env.do(request{method: "PATCH", path: "/api/v1/practice/webhooks/" + wh.ID, token: f.owner.AccessToken,
		body: map[string]any{"enabled": false}}).want(t, http.StatusOK)
	env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/sessions", token: f.coach.AccessToken,
		body: map[string]any{"starts_at": env.clock.Now().Add(72 * time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339),
			"duration_minutes": 30}}).want(t, http.StatusCreated)
	if ds := env.deliveries(f.owner.AccessToken, wh.ID); len(ds) != 1 {
		t.Fatalf("a disabled endpoint got a delivery: %+v", ds)
	}
}

// fastRetries makes deliveries retry within milliseconds, each attempt
// bounded by timeout.
func fastRetries(timeout time.Duration) *webhooks.DelivererConfig {
	return &webhooks.DelivererConfig{Guard: webhooks.Guard{Allow: webhooks.Loopback},
		AttemptTimeout: timeout, Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
}

// TestWebhookRetriesOn500AndTimeout: a delivery the endpoint answers with
// 500, then does not answer in time, then accepts, succeeds after those
// two failures, with the same webhook-id each time. (On a loaded machine
// an accepting attempt may itself time out and be retried: the count of
// attempts is at least three, and matches what the receiver saw.)
func TestWebhookRetriesOn500AndTimeout(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, false, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
		case 2:
			<-r.Context().Done() // never answers: Tandem gives up on the attempt
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	env := newEnv(t, envOptions{webhooks: fastRetries(time.Second)})
	f := env.practice("p")
	wh := env.createWebhook(f.owner.AccessToken, rc.srv.URL, "client.created")
	env.createClient(f.coach.AccessToken, map[string]any{"name": "Retried"})
	ds := env.awaitDeliveries(f.owner.AccessToken, wh.ID, func(ds []deliveryDoc) bool {
		return len(ds) == 1 && ds[0].Status == webhooks.StatusSucceeded
	})
	if ds[0].Attempts < 3 || ds[0].ResponseCode == nil || *ds[0].ResponseCode != 204 || ds[0].LastError != nil {
		t.Fatalf("delivery %+v, want success after the 500 and the timeout", ds[0])
	}
	got := rc.requests()
	if len(got) != ds[0].Attempts {
		t.Fatalf("receiver got %d requests, the delivery counts %d attempts", len(got), ds[0].Attempts)
	}
	for _, r := range got {
		if r.header.Get("webhook-id") != ds[0].ID {
			t.Errorf("webhook-id %q, want %s on every attempt", r.header.Get("webhook-id"), ds[0].ID)
		}
		if err := verifyStandardWebhook(wh.Secret, r.header, r.body, env.clock.Now()); err != nil {
			t.Error(err)
		}
	}
	if strings.Contains(env.logs.String(), wh.Secret) || strings.Contains(env.logs.String(), string(got[0].body)) {
		t.Error("the log holds the secret or a payload")
	}
}

// TestWebhookReplay: a delivered event is sent again on the owner's word,
// with the same webhook-id; a delivery of another endpoint is not found.
func TestWebhookReplay(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, false, nil)
	env := newEnv(t)
	f := env.practice("p")
	wh := env.createWebhook(f.owner.AccessToken, rc.srv.URL, "client.created")
	other := env.createWebhook(f.owner.AccessToken, rc.srv.URL+"/other", "session.scheduled")
	env.createClient(f.coach.AccessToken, map[string]any{"name": "Replayed"})
	ds := env.awaitDeliveries(f.owner.AccessToken, wh.ID, settled(1))

	replay := func(webhookID, deliveryID string) response {
		return env.do(request{method: "POST", token: f.owner.AccessToken,
			path: "/api/v1/practice/webhooks/" + webhookID + "/deliveries/" + deliveryID + "/replay"})
	}
	var queued deliveryDoc
	replay(wh.ID, ds[0].ID).want(t, http.StatusAccepted).decode(t, &queued)
	if queued.ID != ds[0].ID || queued.Status != webhooks.StatusPending {
		t.Fatalf("replay answered %+v", queued)
	}
	ds = env.awaitDeliveries(f.owner.AccessToken, wh.ID, settled(1))
	if ds[0].Status != webhooks.StatusSucceeded || ds[0].Attempts != 2 {
		t.Fatalf("after the replay: %+v", ds[0])
	}
	got := rc.requests()
	if len(got) != 2 || got[1].header.Get("webhook-id") != ds[0].ID || string(got[0].body) != string(got[1].body) {
		t.Fatalf("receiver got %d requests; want the same message twice", len(got))
	}
	if err := verifyStandardWebhook(wh.Secret, got[1].header, got[1].body, env.clock.Now()); err != nil {
		t.Fatal(err)
	}
	replay(other.ID, ds[0].ID).problem(t, http.StatusNotFound)
	replay(wh.ID, uuid.Must(uuid.NewV7()).String()).problem(t, http.StatusNotFound)
	env.do(request{method: "PATCH", path: "/api/v1/practice/webhooks/" + wh.ID, token: f.owner.AccessToken,
		body: map[string]any{"enabled": false}}).want(t, http.StatusOK)
	replay(wh.ID, ds[0].ID).problem(t, http.StatusConflict)
}

// TestWebhookDisabledAfterPersistentFailure: an endpoint that keeps
// failing is retried until three days after the event; then the delivery
// fails, the endpoint is disabled, its owner is e-mailed, and later events
// are not sent to it until the owner enables it again.
func TestWebhookDisabledAfterPersistentFailure(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, false, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	env := newEnv(t, envOptions{webhooks: fastRetries(time.Second)})
	f := env.practice("p")
	wh := env.createWebhook(f.owner.AccessToken, rc.srv.URL, "client.created")
	env.createClient(f.coach.AccessToken, map[string]any{"name": "Undeliverable"})
	// Retried while within the window...
	ds := env.awaitDeliveries(f.owner.AccessToken, wh.ID, func(ds []deliveryDoc) bool {
		return len(ds) == 1 && ds[0].Attempts >= 3
	})
	if ds[0].Status != webhooks.StatusPending || ds[0].ResponseCode == nil || *ds[0].ResponseCode != 503 ||
		ds[0].LastError == nil || !strings.Contains(*ds[0].LastError, "503") {
		t.Fatalf("while retrying: %+v", ds[0])
	}
	// ...and given up three days after the event.
	env.clock.Advance(webhooks.DefaultRetryWindow)
	f.owner = env.login("p-owner@example.com", goodPassword).tokens(t, http.StatusOK)
	f.coach = env.login("p-coach@example.com", goodPassword).tokens(t, http.StatusOK)
	ds = env.awaitDeliveries(f.owner.AccessToken, wh.ID, settled(1))
	if ds[0].Status != webhooks.StatusFailed {
		t.Fatalf("after three days: %+v", ds[0])
	}
	var got webhookDoc
	env.do(request{method: "GET", path: "/api/v1/practice/webhooks/" + wh.ID, token: f.owner.AccessToken}).
		want(t, http.StatusOK).decode(t, &got)
	if got.Enabled || got.DisabledReason == nil {
		t.Fatalf("endpoint %+v, want disabled with a reason", got)
	}
	m := env.lastMail("p-owner@example.com")
	if !strings.Contains(m.Subject, "disabled a webhook endpoint") || !strings.Contains(m.Text, wh.ID) ||
		strings.Contains(m.Text, wh.Secret) {
		t.Fatalf("owner's e-mail: %q\n%s", m.Subject, m.Text)
	}
	before := len(rc.requests())
	env.createClient(f.coach.AccessToken, map[string]any{"name": "Not sent"})
	if ds := env.deliveries(f.owner.AccessToken, wh.ID); len(ds) != 1 {
		t.Fatalf("a disabled endpoint got another delivery: %+v", ds)
	}
	if after := len(rc.requests()); after != before {
		t.Fatalf("the receiver got %d more requests after the endpoint was disabled", after-before)
	}
	env.do(request{method: "PATCH", path: "/api/v1/practice/webhooks/" + wh.ID, token: f.owner.AccessToken,
		body: map[string]any{"enabled": true}}).want(t, http.StatusOK).decode(t, &got)
	if !got.Enabled || got.DisabledReason != nil {
		t.Fatalf("enabled again: %+v", got)
	}
}

// TestWebhookSSRFRefusals: in production endpoints must be https, and
// neither a literal address when registered nor the address a name
// resolves to when sending may be private, loopback, link-local,
// unspecified or multicast.
func TestWebhookSSRFRefusals(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, true, nil)
	env := newEnv(t, envOptions{webhooks: &webhooks.DelivererConfig{Guard: webhooks.Guard{HTTPSOnly: true},
		TLS: trustReceiver(rc), AttemptTimeout: time.Second, Backoff: time.Hour}})
	f := env.practice("p")
	for _, target := range []string{
		"http://hooks.example.com/tandem",          // not https
		"ftp://hooks.example.com/tandem",           // not http(s)
		"https://127.0.0.1/hook",                   // loopback
		"https://[::1]:8443/hook",                  // loopback
		"https://[::ffff:127.0.0.1]/hook",          // loopback, IPv4-mapped
		"https://10.1.2.3/hook",                    // private
		"https://192.168.0.10/hook",                // private
		"https://[fd00::1]/hook",                   // private (unique local)
		"https://169.254.169.254/latest/meta-data", // link-local: cloud metadata
		"https://[fe80::1]/hook",                   // link-local
		"https://0.0.0.0/hook",                     // unspecified
		"https://224.0.0.1/hook",                   // multicast
		"https://100.64.0.1/hook",                  // shared address space
		"https://user:password@hooks.example.com/", // credentials in the URL
		"/relative/hook",
	} {
		p := env.do(request{method: "POST", path: "/api/v1/practice/webhooks", token: f.owner.AccessToken,
			body: map[string]any{"url": target, "event_types": []string{"client.created"}}}).problem(t, http.StatusBadRequest)
		if !fieldNames(p)["url"] {
			t.Errorf("%s: errors %+v, want one for url", target, p.Errors)
		}
	}
	env.createWebhook(f.owner.AccessToken, "https://hooks.example.com/tandem")

	// A name is checked when it resolves, at send time: localhost passes
	// registration, and the connection to its loopback address is refused.
	port := rc.srv.Listener.Addr().(*net.TCPAddr).Port
	wh := env.createWebhook(f.owner.AccessToken, fmt.Sprintf("https://localhost:%d/hook", port), "client.created")
	env.do(request{method: "PATCH", path: "/api/v1/practice/webhooks/" + wh.ID, token: f.owner.AccessToken,
		body: map[string]any{"url": "http://localhost/hook"}}).problem(t, http.StatusBadRequest)
	env.createClient(f.coach.AccessToken, map[string]any{"name": "Refused"})
	ds := env.awaitDeliveries(f.owner.AccessToken, wh.ID, func(ds []deliveryDoc) bool {
		return len(ds) == 1 && ds[0].Attempts >= 1
	})
	if ds[0].LastError == nil || !strings.Contains(*ds[0].LastError, "refused") || !strings.Contains(*ds[0].LastError, "loopback") ||
		ds[0].ResponseCode != nil || ds[0].Status != webhooks.StatusPending {
		t.Fatalf("delivery to localhost: %+v", ds[0])
	}
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
}

// TestWebhookBadInput: malformed endpoints and changes are 4xx problems.
func TestWebhookBadInput(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")
	post := func(body any) response {
		return env.do(request{method: "POST", path: "/api/v1/practice/webhooks", token: f.owner.AccessToken, body: body})
	}
	post(map[string]any{"url": "http://127.0.0.1:9/x", "event_types": []string{}}).problem(t, http.StatusBadRequest)
	post(map[string]any{"url": "http://127.0.0.1:9/x", "event_types": []string{"client.deleted"}}).problem(t, http.StatusBadRequest)
	post(map[string]any{"url": "http://127.0.0.1:9/x"}).problem(t, http.StatusBadRequest)
	post(map[string]any{"url": strings.Repeat("a", 2001), "event_types": []string{"client.created"}}).problem(t, http.StatusBadRequest)
	post(map[string]any{"url": "http://127.0.0.1:9/x", "event_types": []string{"client.created"}, "secret": "mine"}).
		problem(t, http.StatusBadRequest)
	for range webhooks.MaxEndpoints {
		env.createWebhook(f.owner.AccessToken, "http://127.0.0.1:9/x", "client.created", "client.created")
	}
	post(map[string]any{"url": "http://127.0.0.1:9/x", "event_types": []string{"client.created"}}).problem(t, http.StatusConflict)

	var list struct {
		Items []webhookDoc `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/practice/webhooks", token: f.owner.AccessToken}).
		want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != webhooks.MaxEndpoints || len(list.Items[0].EventTypes) != 1 {
		t.Fatalf("list %+v", list.Items)
	}
	path := "/api/v1/practice/webhooks/" + list.Items[0].ID
	r := env.do(request{method: "GET", path: path, token: f.owner.AccessToken}).want(t, http.StatusOK)
	etag := r.Header.Get("ETag")
	env.do(request{method: "PATCH", path: path, token: f.owner.AccessToken, body: map[string]any{"enabled": false},
		headers: map[string]string{"If-Match": ""}}).problem(t, http.StatusPreconditionRequired)
	env.do(request{method: "PATCH", path: path, token: f.owner.AccessToken, body: map[string]any{"enabled": false},
		headers: map[string]string{"If-Match": etag}}).want(t, http.StatusOK)
	env.do(request{method: "PATCH", path: path, token: f.owner.AccessToken, body: map[string]any{"enabled": true},
		headers: map[string]string{"If-Match": etag}}).problem(t, http.StatusPreconditionFailed)
	env.do(request{method: "PATCH", path: path, token: f.owner.AccessToken, body: map[string]any{}}).problem(t, http.StatusBadRequest)
	env.do(request{method: "PATCH", path: path, token: f.owner.AccessToken, body: map[string]any{"event_types": []string{}}}).
		problem(t, http.StatusBadRequest)
	env.do(request{method: "DELETE", path: path, token: f.owner.AccessToken, headers: map[string]string{"If-Match": etag}}).
		problem(t, http.StatusPreconditionFailed)
	env.do(request{method: "DELETE", path: path, token: f.owner.AccessToken}).want(t, http.StatusNoContent)
	env.do(request{method: "GET", path: path, token: f.owner.AccessToken}).problem(t, http.StatusNotFound)
	env.do(request{method: "GET", path: "/api/v1/practice/webhooks/not-a-uuid", token: f.owner.AccessToken}).
		problem(t, http.StatusBadRequest)
}

// TestWebhookOwnerOnly: only the practice's owner reaches its endpoints;
// coaches, clients and therapists are refused, and another practice's
// owner finds nothing.
func TestWebhookOwnerOnly(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, false, nil)
	env := newEnv(t)
	f := env.practice("p")
	b := env.practice("b")
	therapist, _ := env.therapistAccount(f, "thea@therapy.example")
	wh := env.createWebhook(f.owner.AccessToken, rc.srv.URL, "client.created")
	env.createClient(f.coach.AccessToken, map[string]any{"name": "Event"})
	ds := env.awaitDeliveries(f.owner.AccessToken, wh.ID, settled(1))

	base := "/api/v1/practice/webhooks/" + wh.ID
	ops := []struct{ method, path string }{
		{"GET", "/api/v1/practice/webhooks"},
		{"POST", "/api/v1/practice/webhooks"},
		{"GET", base},
		{"PATCH", base},
		{"DELETE", base},
		{"GET", base + "/deliveries"},
		{"POST", base + "/deliveries/" + ds[0].ID + "/replay"},
	}
	bodies := map[string]any{
		"POST /api/v1/practice/webhooks": map[string]any{"url": rc.srv.URL, "event_types": []string{"client.created"}},
		"PATCH " + base:                  map[string]any{"enabled": false},
	}
	for _, who := range []struct {
		name  string
		token string
		// want is the status of each op, in order.
		want [7]int
	}{
		{"anonymous", "", [7]int{401, 401, 401, 401, 401, 401, 401}},
		{"coach", f.coach.AccessToken, [7]int{403, 403, 403, 403, 403, 403, 403}},
		{"client", f.client.AccessToken, [7]int{403, 403, 403, 403, 403, 403, 403}},
		{"therapist", therapist.AccessToken, [7]int{403, 403, 403, 403, 403, 403, 403}},
		{"other practice's coach", b.coach.AccessToken, [7]int{403, 403, 403, 403, 403, 403, 403}},
		{"other practice's owner", b.owner.AccessToken, [7]int{200, 201, 404, 404, 404, 404, 404}},
	} {
		for i, op := range ops {
			r := env.do(request{method: op.method, path: op.path, token: who.token, body: bodies[op.method+" "+op.path]})
			if r.Code != who.want[i] {
				t.Errorf("%s: %s %s = %d, want %d: %s", who.name, op.method, op.path, r.Code, who.want[i], r.Body)
			}
			if r.Code == http.StatusOK && strings.Contains(string(r.Body), wh.ID) {
				t.Errorf("%s: %s %s shows the endpoint", who.name, op.method, op.path)
			}
		}
	}
	// Nothing changed: the endpoint is there, enabled, with its one delivery.
	var got webhookDoc
	env.do(request{method: "GET", path: base, token: f.owner.AccessToken}).want(t, http.StatusOK).decode(t, &got)
	if !got.Enabled || len(env.deliveries(f.owner.AccessToken, wh.ID)) != 1 || len(rc.requests()) != 1 {
		t.Fatalf("after the refusals: %+v", got)
	}
}

// TestWebhookEventRollsBackWithItsChange: an event emitted in a
// transaction that fails leaves neither a delivery nor a job, and reaches
// nobody; in one that commits, it is delivered.
func TestWebhookEventRollsBackWithItsChange(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, false, nil)
	env := newEnv(t)
	f := env.practice("p")
	wh := env.createWebhook(f.owner.AccessToken, rc.srv.URL, "client.created")
	var me struct {
		Practice struct {
			ID uuid.UUID `json:"id"`
		} `json:"practice"`
	}
	env.do(request{method: "GET", path: "/api/v1/me", token: f.owner.AccessToken}).want(t, http.StatusOK).decode(t, &me)
	ctx := context.Background()
	emit := func(tx *gorm.DB) error {
		return webhooks.Emit(ctx, env.store, tx, webhooks.Event{Type: webhooks.ClientCreated, PracticeID: me.Practice.ID,
			At: env.clock.Now(), Data: map[string]any{"client_id": uuid.Must(uuid.NewV7())}})
	}
	boom := errors.New("a later step of the change failed")
	if err := env.store.Tx(ctx, func(tx *gorm.DB) error {
		if err := emit(tx); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want the failure", err)
	}
	count := func(q string) int64 {
		var n int64
		if err := env.store.DB.Raw(q).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if d, j := count("SELECT count(*) FROM webhook_deliveries"), count("SELECT count(*) FROM river_job WHERE kind = '"+webhooks.KindDeliver+"'"); d != 0 || j != 0 {
		t.Fatalf("after the rollback: %d deliveries, %d jobs", d, j)
	}
	if err := env.store.Tx(ctx, emit); err != nil {
		t.Fatal(err)
	}
	env.awaitDeliveries(f.owner.AccessToken, wh.ID, settled(1))
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("receiver got %d requests, want the committed event's", n)
	}
	// Through the API too: a client that cannot be created emits nothing.
	env.do(request{method: "POST", path: "/api/v1/clients", token: f.owner.AccessToken,
		body: map[string]any{"name": "Nobody's", "coach_id": uuid.Must(uuid.NewV7()).String()}}).problem(t, http.StatusBadRequest)
	if ds := env.deliveries(f.owner.AccessToken, wh.ID); len(ds) != 1 {
		t.Fatalf("a refused change emitted an event: %+v", ds)
	}
}

// matrixWebhookURL is where the matrix's endpoints point: a port nothing
// listens on, so their deliveries fail quietly.
const matrixWebhookURL = "http://127.0.0.1:9/hook"

// matrixWebhooks are the endpoints the matrix's refused calls name, one
// per fixture.
var matrixWebhooks sync.Map // *authzFixture -> [2]string{webhook ID, delivery ID}

// matrixWebhookPath is a matrix row's call on an endpoint of practice A:
// A's owner gets a new one (the row may delete it), everyone else the
// fixture's.
func matrixWebhookPath(suffix string, body any) func(*authzFixture, authzActor) (string, any) {
	return func(fx *authzFixture, who authzActor) (string, any) {
		webhookID, _ := matrixDelivery(fx, who)
		return "/practice/webhooks/" + webhookID + suffix, body
	}
}

// matrixDelivery is an endpoint of practice A with one failed delivery:
// a new one for A's owner, the fixture's for everyone else.
func matrixDelivery(fx *authzFixture, who authzActor) (webhookID, deliveryID string) {
	fx.env.t.Helper()
	if who != aOwner {
		if ids, ok := matrixWebhooks.Load(fx); ok {
			return ids.([2]string)[0], ids.([2]string)[1]
		}
	}
	var w webhookDoc
	fx.env.do(request{method: "POST", path: "/api/v1/practice/webhooks", token: fx.a.owner.AccessToken,
		body: map[string]any{"url": matrixWebhookURL, "event_types": []string{"session.cancelled"}}}).
		want(fx.env.t, http.StatusCreated).decode(fx.env.t, &w)
	id, now := uuid.Must(uuid.NewV7()), fx.env.clock.Now()
	if err := fx.env.store.DB.Exec(`INSERT INTO webhook_deliveries (id, practice_id, endpoint_id, event_type, payload, status,
		attempts, created_at, updated_at) VALUES (?, ?, ?, 'session.cancelled', '{}', 'failed', 1, ?, ?)`,
		id, fx.aPracticeID, w.ID, now, now).Error; err != nil {
		fx.env.t.Fatal(err)
	}
	if who != aOwner {
		matrixWebhooks.Store(fx, [2]string{w.ID, id.String()})
	}
	return w.ID, id.String()
}

// inspectNoWebhookSecret checks a read of endpoints shows no signing secret.
func inspectNoWebhookSecret(t *testing.T, _ *authzFixture, who authzActor, r response) {
	t.Helper()
	if strings.Contains(string(r.Body), "whsec_") || strings.Contains(string(r.Body), `"secret"`) {
		t.Errorf("a read of webhooks by %s shows a secret: %s", who, r.Body)
	}
}
