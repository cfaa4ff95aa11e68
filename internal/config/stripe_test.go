package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/config"
)

const testPlans = `{"plans": [
  {"id": "solo", "name": "Solo", "price_id": "price_solo1", "limits": {"active_clients": 10, "coaches": 0, "therapist_connections": 5}},
  {"id": "team", "name": "Team", "price_id": "price_team1", "limits": {}}
]}`

func stripeEnv(extra map[string]string) map[string]string {
	m := map[string]string{
		"TANDEM_STRIPE_SECRET_KEY":     "sk_test_123",
		"TANDEM_STRIPE_WEBHOOK_SECRET": "whsec_abc",
		"TANDEM_STRIPE_PLANS":          testPlans,
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestStripeOffByDefault(t *testing.T) {
	c, err := config.Load(getenv(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Stripe.Enabled() {
		t.Fatal("billing is on without a key")
	}
}

func TestStripePlansInlineAndFromFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plans.json")
	if err := os.WriteFile(file, []byte(testPlans), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string]map[string]string{
		"inline": stripeEnv(nil),
		"file":   stripeEnv(map[string]string{"TANDEM_STRIPE_PLANS": "", "TANDEM_STRIPE_PLANS_FILE": file}),
	} {
		c, err := config.Load(getenv(env))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := c.Stripe
		if !s.Enabled() || len(s.Plans) != 2 || s.TrialPlan != "solo" || s.TrialDays != 14 || s.GracePeriod != 7*24*time.Hour {
			t.Fatalf("%s: %+v", name, s)
		}
		if solo := s.Plan("solo"); solo == nil || *solo.Limits.ActiveClients != 10 || *solo.Limits.Coaches != 0 {
			t.Fatalf("%s: solo = %+v", name, solo)
		}
		if team := s.PlanByPrice("price_team1"); team == nil || team.Limits.ActiveClients != nil {
			t.Fatalf("%s: team = %+v", name, team)
		}
		if strings.Contains(c.LogValue().String(), "sk_test_123") || strings.Contains(c.LogValue().String(), "whsec_abc") {
			t.Fatalf("%s: a Stripe secret is logged", name)
		}
	}
}

func TestStripeErrorsNameTheVariable(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"half set up", map[string]string{"TANDEM_STRIPE_WEBHOOK_SECRET": "whsec_x"}, "TANDEM_STRIPE_WEBHOOK_SECRET: set, but billing is off"},
		{"publishable key", stripeEnv(map[string]string{"TANDEM_STRIPE_SECRET_KEY": "pk_test_1"}), "TANDEM_STRIPE_SECRET_KEY:"},
		{"no webhook secret", stripeEnv(map[string]string{"TANDEM_STRIPE_WEBHOOK_SECRET": ""}), "TANDEM_STRIPE_WEBHOOK_SECRET: required"},
		{"no plans", stripeEnv(map[string]string{"TANDEM_STRIPE_PLANS": ""}), "TANDEM_STRIPE_PLANS_FILE: required"},
		{"unreadable file", stripeEnv(map[string]string{"TANDEM_STRIPE_PLANS": "", "TANDEM_STRIPE_PLANS_FILE": "/nonexistent/plans.json"}), "TANDEM_STRIPE_PLANS_FILE: cannot read"},
		{"typo in limits", stripeEnv(map[string]string{"TANDEM_STRIPE_PLANS": `{"plans":[{"id":"a","name":"A","price_id":"price_a","limits":{"clients":3}}]}`}), `unknown field "clients"`},
		{"bad price", stripeEnv(map[string]string{"TANDEM_STRIPE_PLANS": `{"plans":[{"id":"a","name":"A","price_id":"prod_a","limits":{}}]}`}), "price_id must be a Stripe Price ID"},
		{"negative limit", stripeEnv(map[string]string{"TANDEM_STRIPE_PLANS": `{"plans":[{"id":"a","name":"A","price_id":"price_a","limits":{"coaches":-1}}]}`}), "limits.coaches must be from 0"},
		{"unknown trial plan", stripeEnv(map[string]string{"TANDEM_STRIPE_TRIAL_PLAN": "gold"}), "TANDEM_STRIPE_TRIAL_PLAN: names no plan"},
		{"bad trial", stripeEnv(map[string]string{"TANDEM_STRIPE_TRIAL_DAYS": "400"}), "TANDEM_STRIPE_TRIAL_DAYS:"},
		{"bad grace", stripeEnv(map[string]string{"TANDEM_STRIPE_GRACE_PERIOD": "soon"}), "TANDEM_STRIPE_GRACE_PERIOD:"},
		{"bad api url", stripeEnv(map[string]string{"TANDEM_STRIPE_API_URL": "localhost:12111"}), "TANDEM_STRIPE_API_URL:"},
	} {
		_, err := config.Load(getenv(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
		if err != nil && (strings.Contains(err.Error(), "sk_test_123") || strings.Contains(err.Error(), "whsec_abc")) {
			t.Errorf("%s: the error shows a secret: %v", tt.name, err)
		}
	}
}
