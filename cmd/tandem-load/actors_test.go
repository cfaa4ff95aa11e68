package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestKeepFresh checks that tokens are refreshed before they expire, with
// the refresh token of the previous round each time.
func TestKeepFresh(t *testing.T) {
	round := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			RefreshToken string `json:"refresh_token"`
		}
		if r.URL.Path != "/api/v1/auth/refresh" || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if want := []string{"r0", "r1", "r2"}[min(round, 2)]; body.RefreshToken != want {
			http.Error(w, "refresh token "+body.RefreshToken+", want "+want, http.StatusUnauthorized)
			return
		}
		round++
		_ = json.NewEncoder(w).Encode(tokenPair{AccessToken: "a" + string(rune('0'+round)),
			RefreshToken: "r" + string(rune('0'+round)), ExpiresIn: 1})
	}))
	defer srv.Close()

	ac := &actor{email: "someone@load.example"}
	ac.set(tokenPair{AccessToken: "a0", RefreshToken: "r0", ExpiresIn: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	a := api{base: srv.URL, client: srv.Client()}
	a.keepFresh(ctx, []*actor{ac}, func(format string, args ...any) { t.Errorf(format, args...) })

	if got := *ac.header.Load(); got != "Bearer a2" {
		t.Errorf("after 1.5 s of 1 s tokens the header is %q, want the second refresh's %q", got, "Bearer a2")
	}
}
