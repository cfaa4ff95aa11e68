package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestRoundTrip holds the hand-written HTTP/1.1 client to what net/http's
// server sends: bodies with a length, chunked ones, none, and connections
// the server closes.
func TestRoundTrip(t *testing.T) {
	big := strings.Repeat("x", 100_000) // written in one go without a length: chunked
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small":
			_, _ = w.Write([]byte("hello"))
		case "/big":
			w.(http.Flusher).Flush() // no Content-Length: chunked
			_, _ = w.Write([]byte(big))
		case "/conflict":
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"title":"Only an open step can be completed"}`))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/close":
			w.Header().Set("Connection", "close")
			_, _ = w.Write([]byte("bye"))
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		path       string
		wantCode   int
		wantSize   int64
		wantSample string
	}{
		{"/small", 200, 5, ""},
		{"/big", 200, int64(len(big)), ""},
		{"/conflict", 409, 46, `{"title":"Only an open step can be completed"}`},
		{"/empty", 204, 0, ""},
		{"/close", 200, 3, ""},
		{"/small", 200, 5, ""}, // after a close: dialled again
	}
	wi := &wire{addrs: []string{addr}}
	defer wi.close()
	for _, tt := range tests {
		req := appendRequest(nil, "GET", addr, tt.path, "Bearer x", nil)
		a, sample, err := wi.roundTrip(context.Background(), req, nil)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.path, err)
		}
		if a.code != tt.wantCode || a.size != tt.wantSize || string(sample) != tt.wantSample {
			t.Errorf("GET %s = %d, %d bytes, sample %q; want %d, %d, %q", tt.path, a.code, a.size, sample,
				tt.wantCode, tt.wantSize, tt.wantSample)
		}
	}
}

// TestDriveCountsErrors checks that answers other than 2xx are counted as
// errors, with samples, and that a source running dry ends the scenario.
func TestDriveCountsErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/complete") && r.Header.Get("Content-Type") == "application/json" {
			w.WriteHeader(http.StatusConflict)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	pool := &stepPool{ids: make([]uuid.UUID, 50)}
	p := plan{addr: addr, pool: pool}
	ac := &actor{}
	h := "Bearer x"
	ac.header.Store(&h)
	sc := scenario{name: "test", addr: addr, concurrency: 2,
		worker: func(int) func([]byte) ([]byte, bool) { return p.complete(addr, ac, 0) }}

	res, err := drive(context.Background(), sc, os.Getpid(), 0, 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.ranOut || res.requests != 50 || res.errors != 50 || len(res.errorSamples) == 0 {
		t.Errorf("drive = %d requests, %d errors, ran out %v, samples %q; want 50 failed requests and a dry pool",
			res.requests, res.errors, res.ranOut, res.errorSamples)
	}
}
