package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/ratelimit"
)

// TestCalendarPollingLeavesSignInBudgetAlone: calendar apps poll the feed
// often, from shared addresses; that must not use up sign-in attempts.
func TestCalendarPollingLeavesSignInBudgetAlone(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{ipLimit: ratelimit.Rule{Burst: 3, Per: time.Hour}})
	owner := env.registerFrom(setUpAddress, "feed-owner@example.com") // another address's budget
	var feed struct {
		URL string `json:"url"`
	}
	env.do(request{method: "POST", path: "/api/v1/me/calendar-feed", token: owner.AccessToken}).
		want(t, http.StatusCreated).decode(t, &feed)
	path := strings.TrimPrefix(feed.URL, env.cfg.BaseURL)
	for range 10 {
		env.do(request{method: "GET", path: path}).want(t, http.StatusOK)
	}
	for range 3 {
		env.login("feed-owner@example.com", goodPassword).want(t, http.StatusOK)
	}
	env.login("feed-owner@example.com", goodPassword).problem(t, http.StatusTooManyRequests)
}
