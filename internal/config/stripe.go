package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Stripe is the billing configuration. Billing is off (no limits, billing
// routes answer 404 billing_disabled) unless SecretKey is set.
type Stripe struct {
	SecretKey     Secret // sk_... or rk_...; empty: billing off
	WebhookSecret Secret // whsec_..., the endpoint's signing secret
	// APIURL replaces Stripe's API address (stripe-mock in tests); empty:
	// Stripe's own.
	APIURL string
	Plans  []Plan
	// TrialDays is how long a new practice uses TrialPlan before it must
	// subscribe; TrialPlan is the ID of one of Plans.
	TrialDays int
	TrialPlan string
	// GracePeriod is how long a practice whose payment failed keeps
	// working before it becomes read-only for staff.
	GracePeriod time.Duration
}

// Enabled reports whether billing is on.
func (s Stripe) Enabled() bool { return s.SecretKey != "" }

// Plan is one subscription plan: its Stripe Price and its limits.
type Plan struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	PriceID string     `json:"price_id"`
	Limits  PlanLimits `json:"limits"`
}

// PlanLimits bounds a practice on a plan; nil means unlimited.
type PlanLimits struct {
	ActiveClients        *int `json:"active_clients"`
	Coaches              *int `json:"coaches"`
	TherapistConnections *int `json:"therapist_connections"`
}

var (
	planIDPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	priceIDPattern = regexp.MustCompile(`^price_[A-Za-z0-9_]{1,200}$`)
)

// loadStripe reads the TANDEM_STRIPE_* variables. Without a secret key
// billing is off and the other variables must be absent, so a half-done
// setup is named rather than silently ignored.
func loadStripe(getenv func(string) string, get func(string, string) string, bad func(string, string, ...any)) Stripe {
	s := Stripe{
		SecretKey:     Secret(get("TANDEM_STRIPE_SECRET_KEY", "")),
		WebhookSecret: Secret(get("TANDEM_STRIPE_WEBHOOK_SECRET", "")),
		APIURL:        strings.TrimRight(get("TANDEM_STRIPE_API_URL", ""), "/"),
	}
	plansFile, plansInline := get("TANDEM_STRIPE_PLANS_FILE", ""), get("TANDEM_STRIPE_PLANS", "")
	if !s.Enabled() {
		for _, k := range []string{"TANDEM_STRIPE_WEBHOOK_SECRET", "TANDEM_STRIPE_PLANS_FILE", "TANDEM_STRIPE_PLANS",
			"TANDEM_STRIPE_API_URL", "TANDEM_STRIPE_TRIAL_DAYS", "TANDEM_STRIPE_TRIAL_PLAN", "TANDEM_STRIPE_GRACE_PERIOD"} {
			if strings.TrimSpace(getenv(k)) != "" {
				bad(k, "set, but billing is off: set TANDEM_STRIPE_SECRET_KEY too, or unset this")
			}
		}
		return s
	}
	key := s.SecretKey.Reveal()
	if !strings.HasPrefix(key, "sk_") && !strings.HasPrefix(key, "rk_") {
		bad("TANDEM_STRIPE_SECRET_KEY", "must be a Stripe secret or restricted key (sk_... or rk_...)")
	}
	if !strings.HasPrefix(s.WebhookSecret.Reveal(), "whsec_") {
		bad("TANDEM_STRIPE_WEBHOOK_SECRET", "required with TANDEM_STRIPE_SECRET_KEY: the webhook endpoint's signing secret (whsec_...)")
	}
	if s.APIURL != "" {
		if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			bad("TANDEM_STRIPE_API_URL", "must be an absolute http(s) URL, e.g. http://127.0.0.1:12111 for stripe-mock")
		}
	}

	var raw []byte
	var source string
	switch {
	case plansFile != "" && plansInline != "":
		bad("TANDEM_STRIPE_PLANS", "set either TANDEM_STRIPE_PLANS or TANDEM_STRIPE_PLANS_FILE, not both")
	case plansFile != "":
		source = "TANDEM_STRIPE_PLANS_FILE"
		b, err := os.ReadFile(plansFile)
		if err != nil {
			bad(source, "cannot read %s: %v", plansFile, err)
		}
		raw = b
	case plansInline != "":
		source, raw = "TANDEM_STRIPE_PLANS", []byte(plansInline)
	default:
		bad("TANDEM_STRIPE_PLANS_FILE", "required with TANDEM_STRIPE_SECRET_KEY: a JSON file of plans (see README)")
	}
	if raw != nil {
		s.Plans = parsePlans(raw, source, bad)
	}

	s.TrialDays = 14
	if v := get("TANDEM_STRIPE_TRIAL_DAYS", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 365 {
			bad("TANDEM_STRIPE_TRIAL_DAYS", "must be a whole number of days from 0 to 365")
		}
		s.TrialDays = n
	}
	s.TrialPlan = get("TANDEM_STRIPE_TRIAL_PLAN", "")
	if s.TrialPlan == "" && len(s.Plans) > 0 {
		s.TrialPlan = s.Plans[0].ID
	} else if s.TrialPlan != "" && len(s.Plans) > 0 && s.Plan(s.TrialPlan) == nil {
		bad("TANDEM_STRIPE_TRIAL_PLAN", "names no plan of %s: %q", source, s.TrialPlan)
	}
	s.GracePeriod = parseDuration(get("TANDEM_STRIPE_GRACE_PERIOD", "168h"), "TANDEM_STRIPE_GRACE_PERIOD", bad)
	return s
}

// Plan returns the plan with id, or nil.
func (s Stripe) Plan(id string) *Plan {
	for i := range s.Plans {
		if s.Plans[i].ID == id {
			return &s.Plans[i]
		}
	}
	return nil
}

// PlanByPrice returns the plan whose Stripe Price is priceID, or nil.
func (s Stripe) PlanByPrice(priceID string) *Plan {
	for i := range s.Plans {
		if s.Plans[i].PriceID == priceID {
			return &s.Plans[i]
		}
	}
	return nil
}

// parsePlans reads {"plans": [...]} strictly: an unknown field is a typo
// that would otherwise lift a limit.
func parsePlans(raw []byte, source string, bad func(string, string, ...any)) []Plan {
	var doc struct {
		Plans []Plan `json:"plans"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		bad(source, "must be JSON like {\"plans\": [{\"id\", \"name\", \"price_id\", \"limits\"}]}: %v", err)
		return nil
	}
	if len(doc.Plans) == 0 || len(doc.Plans) > 20 {
		bad(source, "must list from 1 to 20 plans")
	}
	ids, prices := map[string]bool{}, map[string]bool{}
	for i, p := range doc.Plans {
		where := fmt.Sprintf("plan %d", i+1)
		if !planIDPattern.MatchString(p.ID) {
			bad(source, "%s: id must be 1 to 40 lower-case letters, digits, - or _", where)
		}
		if ids[p.ID] {
			bad(source, "%s: id %q appears twice", where, p.ID)
		}
		ids[p.ID] = true
		if n := len([]rune(strings.TrimSpace(p.Name))); n == 0 || n > 100 {
			bad(source, "%s: name must be 1 to 100 characters", where)
		}
		if !priceIDPattern.MatchString(p.PriceID) {
			bad(source, "%s: price_id must be a Stripe Price ID (price_...)", where)
		}
		if prices[p.PriceID] {
			bad(source, "%s: price_id %q appears twice", where, p.PriceID)
		}
		prices[p.PriceID] = true
		for name, v := range map[string]*int{"active_clients": p.Limits.ActiveClients, "coaches": p.Limits.Coaches,
			"therapist_connections": p.Limits.TherapistConnections} {
			if v != nil && (*v < 0 || *v > 1_000_000) {
				bad(source, "%s: limits.%s must be from 0 to 1000000 (leave it out for no limit)", where, name)
			}
		}
	}
	return doc.Plans
}
