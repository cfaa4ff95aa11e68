package billing

import (
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/config"
)

func ptr[T any](v T) *T { return &v }

func TestStateOfEachStatus(t *testing.T) {
	s := &Service{c: Config{Stripe: config.Stripe{
		Plans:     []config.Plan{{ID: "solo", Name: "Solo", PriceID: "price_solo"}, {ID: "team", Name: "Team", PriceID: "price_team"}},
		TrialDays: 14, TrialPlan: "solo", GracePeriod: 7 * 24 * time.Hour,
	}}}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	failed := created.Add(20 * 24 * time.Hour)
	for _, tt := range []struct {
		name       string
		row        *billingRow
		now        time.Time
		wantStatus string
		wantAccess Access
		wantPlan   string
	}{
		{"new practice", nil, created.Add(time.Hour), "trialing", AccessFull, "solo"},
		{"trial over", nil, created.Add(14 * 24 * time.Hour), StatusTrialEnded, AccessReadOnly, "solo"},
		{"customer, no subscription yet", &billingRow{StripeCustomerID: ptr("cus_1")}, created.Add(time.Hour), "trialing", AccessFull, "solo"},
		{"first payment incomplete, in trial", &billingRow{Status: ptr("incomplete"), Plan: ptr("team")}, created.Add(time.Hour), "incomplete", AccessFull, "team"},
		{"active", &billingRow{Status: ptr("active"), Plan: ptr("team")}, created.Add(90 * 24 * time.Hour), "active", AccessFull, "team"},
		{"stripe trialing", &billingRow{Status: ptr("trialing"), Plan: ptr("team")}, created.Add(90 * 24 * time.Hour), "trialing", AccessFull, "team"},
		{"past due, in grace", &billingRow{Status: ptr("past_due"), Plan: ptr("team"), PastDueSince: &failed}, failed.Add(6 * 24 * time.Hour), "past_due", AccessGrace, "team"},
		{"past due, grace over", &billingRow{Status: ptr("past_due"), Plan: ptr("team"), PastDueSince: &failed}, failed.Add(7 * 24 * time.Hour), "past_due", AccessReadOnly, "team"},
		{"unpaid, grace over", &billingRow{Status: ptr("unpaid"), Plan: ptr("team"), PastDueSince: &failed}, failed.Add(8 * 24 * time.Hour), "unpaid", AccessReadOnly, "team"},
		{"canceled", &billingRow{Status: ptr("canceled"), Plan: ptr("team")}, created.Add(time.Hour), "canceled", AccessReadOnly, "team"},
		{"plan no longer configured", &billingRow{Status: ptr("active"), Plan: ptr("gold")}, created.Add(time.Hour), "active", AccessFull, "solo"},
	} {
		got := s.state(tt.row, created, tt.now)
		if got.Status != tt.wantStatus || got.Access != tt.wantAccess || got.Plan.ID != tt.wantPlan {
			t.Errorf("%s: %s/%s on %s, want %s/%s on %s", tt.name, got.Status, got.Access, got.Plan.ID, tt.wantStatus, tt.wantAccess, tt.wantPlan)
		}
	}
}
