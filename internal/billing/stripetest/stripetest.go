// Package stripetest runs stripe-mock — Stripe's API double, a Go tool of
// this module — for a test, behind a proxy that counts the calls made to
// it, and signs webhook events the way Stripe does.
package stripetest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// Mock is a running stripe-mock with a counting proxy in front of it.
type Mock struct {
	// URL is the proxy's address: TANDEM_STRIPE_API_URL.
	URL string

	mu    sync.Mutex
	calls []Call
}

// Call is one request the service made to Stripe.
type Call struct {
	Method, Path, IdempotencyKey string
}

var binary struct {
	once sync.Once
	path string
	err  error
}

// stripeMockBinary finds stripe-mock: $TANDEM_TEST_STRIPE_MOCK, or the
// module's tool built (and cached) by the go command.
func stripeMockBinary() (string, error) {
	binary.once.Do(func() {
		if p := os.Getenv("TANDEM_TEST_STRIPE_MOCK"); p != "" {
			binary.path = p
			return
		}
		out, err := exec.Command("go", "tool", "-n", "stripe-mock").Output()
		if err != nil {
			binary.err = fmt.Errorf("go tool -n stripe-mock: %w", err)
			return
		}
		binary.path = strings.TrimSpace(string(out))
	})
	return binary.path, binary.err
}

// Start runs stripe-mock on a free loopback port until t ends.
func Start(t testing.TB) *Mock {
	t.Helper()
	bin, err := stripeMockBinary()
	if err != nil {
		t.Fatalf("stripe-mock: %v", err)
	}
	// Port 0 for both listeners (it serves HTTPS too, on a fixed port
	// unless told otherwise): stripe-mock prints the ports it got.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		const prefix = "Listening for HTTP at address: "
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, prefix) {
				found <- strings.TrimPrefix(line, prefix)
			}
		}
		_, _ = io.Copy(io.Discard, out) // it logs every request
	}()
	var addr string
	select {
	case addr = <-found:
	case <-time.After(90 * time.Second): // it loads Stripe's whole API description first
		t.Fatal("stripe-mock did not say where it listens")
	}
	target, _ := url.Parse("http://" + addr)
	m := &Mock{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.calls = append(m.calls, Call{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key")})
		m.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	m.URL = srv.URL
	return m
}

// Calls returns the requests made so far to method and path.
func (m *Mock) Calls(method, path string) []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Call
	for _, c := range m.calls {
		if c.Method == method && c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// Event is a Stripe event to sign: its ID, type, creation time and object.
type Event struct {
	ID      string
	Type    string
	Created time.Time
	Object  map[string]any
}

// Payload is the event's JSON, as Stripe sends it.
func (e Event) Payload(t testing.TB) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": e.ID, "object": "event", "type": e.Type, "created": e.Created.Unix(), "api_version": "2023-10-16",
		"livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": e.Object},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Sign returns the Stripe-Signature header for payload, signed with secret
// at signedAt, as Stripe's documented scheme makes it.
func Sign(payload []byte, secret string, signedAt time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: payload, Secret: secret, Timestamp: signedAt,
	}).Header
}
