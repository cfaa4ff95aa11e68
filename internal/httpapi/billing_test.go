package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/billing/stripetest"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/ratelimit"
)

const (
	testWebhookSecret = "whsec_tandem_test_secret"
	soloPrice         = "price_solo"
	teamPrice         = "price_team"
)

func intp(n int) *int { return &n }

// billingEnv is a service with billing on, talking to a fresh stripe-mock
// when the test calls Stripe (webhooks need none: Stripe calls Tandem).
// Solo (the trial plan unless trialPlan says otherwise) allows 3 active
// clients, 2 coaches and 1 therapist connection; Team is unlimited.
func billingEnv(t *testing.T, trialPlan string, callsStripe bool) (*testEnv, *stripetest.Mock) {
	t.Helper()
	mock := &stripetest.Mock{URL: "http://127.0.0.1:9"} // discard: any call fails
	if callsStripe {
		mock = stripetest.Start(t)
	}
	if trialPlan == "" {
		trialPlan = "solo"
	}
	// Some tests register a practice per case, past the sign-in budget of one address.
	env := newEnv(t, envOptions{ipLimit: ratelimit.Rule{Burst: 1000, Per: time.Minute}, stripe: &config.Stripe{
		SecretKey: "sk_test_tandem", WebhookSecret: testWebhookSecret, APIURL: mock.URL,
		Plans: []config.Plan{
			{ID: "solo", Name: "Solo", PriceID: soloPrice, Limits: config.PlanLimits{
				ActiveClients: intp(3), Coaches: intp(2), TherapistConnections: intp(1)}},
			{ID: "team", Name: "Team", PriceID: teamPrice},
		},
		TrialDays: 14, TrialPlan: trialPlan, GracePeriod: 7 * 24 * time.Hour,
	}})
	return env, mock
}

type subscriptionDoc struct {
	Plan struct {
		ID     string `json:"id"`
		Limits struct {
			ActiveClients *int `json:"active_clients"`
		} `json:"limits"`
	} `json:"plan"`
	Status      string     `json:"status"`
	Access      string     `json:"access"`
	TrialEnd    *time.Time `json:"trial_end"`
	GraceEndsAt *time.Time `json:"grace_ends_at"`
	HasCustomer bool       `json:"has_customer"`
	Usage       struct {
		ActiveClients int64 `json:"active_clients"`
		Coaches       int64 `json:"coaches"`
	} `json:"usage"`
}

func (env *testEnv) subscription(token string) subscriptionDoc {
	env.t.Helper()
	var s subscriptionDoc
	env.do(request{method: "GET", path: "/api/v1/billing/subscription", token: token}).want(env.t, http.StatusOK).decode(env.t, &s)
	return s
}

func (env *testEnv) practiceID(token string) string {
	env.t.Helper()
	var p struct {
		ID string `json:"id"`
	}
	env.do(request{method: "GET", path: "/api/v1/practice", token: token}).want(env.t, http.StatusOK).decode(env.t, &p)
	return p.ID
}

// deliver posts a Stripe webhook with the signature header given.
func (env *testEnv) deliver(payload []byte, signature string) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/webhooks/stripe", body: string(payload),
		headers: map[string]string{"Stripe-Signature": signature}})
}

// deliverSigned signs the event now with the endpoint's secret and posts it.
func (env *testEnv) deliverSigned(ev stripetest.Event) response {
	env.t.Helper()
	payload := ev.Payload(env.t)
	return env.deliver(payload, stripetest.Sign(payload, testWebhookSecret, time.Now()))
}

// subscriptionObject is a Stripe Subscription as its events carry it.
func subscriptionObject(id, customer, status, price, practiceID string) map[string]any {
	return map[string]any{
		"id": id, "object": "subscription", "customer": customer, "status": status,
		"current_period_end": time.Now().Add(30 * 24 * time.Hour).Unix(),
		"metadata":           map[string]any{"practice_id": practiceID},
		"items": map[string]any{"object": "list", "data": []any{
			map[string]any{"id": "si_" + id, "object": "subscription_item", "price": map[string]any{"id": price, "object": "price"}},
		}},
	}
}

func (env *testEnv) billingRow(practiceID string) map[string]any {
	env.t.Helper()
	row := map[string]any{}
	if err := env.store.DB.Table("practice_billing").Where("practice_id = ?", practiceID).Take(&row).Error; err != nil {
		env.t.Fatalf("practice_billing of %s: %v", practiceID, err)
	}
	return row
}

func TestBillingOffByDefault(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("off-owner@example.com")
	for _, r := range []request{
		{method: "GET", path: "/api/v1/billing/plans", token: owner.AccessToken},
		{method: "GET", path: "/api/v1/billing/subscription", token: owner.AccessToken},
		{method: "POST", path: "/api/v1/billing/checkout-session", token: owner.AccessToken, body: map[string]string{"plan_id": "solo"}},
		{method: "POST", path: "/api/v1/billing/portal-session", token: owner.AccessToken},
	} {
		p := env.do(r).problem(t, http.StatusNotFound)
		if !strings.HasSuffix(p.Type, "/billing_disabled") {
			t.Errorf("%s %s: problem type %s, want billing_disabled", r.method, r.path, p.Type)
		}
	}
	payload := stripetest.Event{ID: "evt_off", Type: "invoice.paid", Created: time.Now(), Object: map[string]any{}}.Payload(t)
	env.deliver(payload, stripetest.Sign(payload, testWebhookSecret, time.Now())).problem(t, http.StatusNotFound)
	// Without billing nothing is limited: more clients than any plan allows.
	for i := range 5 {
		env.createClient(owner.AccessToken, map[string]any{"name": fmt.Sprintf("Client %d", i)})
	}
	if n := env.rowCount("practice_billing") + env.rowCount("stripe_events"); n != 0 {
		t.Errorf("billing off wrote %d billing rows", n)
	}
}

func TestBillingIsOwnerOnly(t *testing.T) {
	t.Parallel()
	env, _ := billingEnv(t, "", true)
	owner := env.register("auth-owner@example.com")
	coach := env.addCoach(owner.AccessToken, "auth-coach@example.com")
	_, client := env.portalClient(owner.AccessToken, "auth-client@example.com", "UTC")
	other := env.register("auth-other@example.com")
	for _, r := range []request{
		{method: "GET", path: "/api/v1/billing/plans"},
		{method: "GET", path: "/api/v1/billing/subscription"},
		{method: "POST", path: "/api/v1/billing/checkout-session", body: map[string]string{"plan_id": "solo"}},
		{method: "POST", path: "/api/v1/billing/portal-session"},
	} {
		env.do(r).problem(t, http.StatusUnauthorized)
		for name, tok := range map[string]string{"coach": coach.AccessToken, "client": client.AccessToken} {
			r.token = tok
			if got := env.do(r); got.Code != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", r.method, r.path, name, got.Code)
			}
		}
	}
	// Each owner sees their own practice only: the other owner's checkout
	// gives the other practice a customer, not this one.
	env.do(request{method: "POST", path: "/api/v1/billing/checkout-session", token: other.AccessToken,
		body: map[string]string{"plan_id": "team"}}).want(t, http.StatusOK)
	if env.subscription(owner.AccessToken).HasCustomer {
		t.Error("another practice's checkout gave this practice a customer")
	}
	if !env.subscription(other.AccessToken).HasCustomer {
		t.Error("the checkout gave its own practice no customer")
	}
}

func TestBillingPlansAndTrial(t *testing.T) {
	t.Parallel()
	env, _ := billingEnv(t, "", true)
	owner := env.register("trial-owner@example.com")
	var plans struct {
		Items []struct {
			ID     string         `json:"id"`
			Limits map[string]int `json:"limits"`
		} `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/billing/plans", token: owner.AccessToken}).want(t, http.StatusOK).decode(t, &plans)
	if len(plans.Items) != 2 || plans.Items[0].ID != "solo" || plans.Items[0].Limits["active_clients"] != 3 || len(plans.Items[1].Limits) != 0 {
		t.Fatalf("plans = %+v", plans)
	}
	if strings.Contains(env.logs.String(), "sk_test_tandem") || strings.Contains(env.logs.String(), testWebhookSecret) {
		t.Fatal("a Stripe secret is in the log")
	}

	env.createClient(owner.AccessToken, map[string]any{"name": "One"})
	sub := env.subscription(owner.AccessToken)
	if sub.Status != "trialing" || sub.Access != "full" || sub.Plan.ID != "solo" || sub.TrialEnd == nil || sub.Usage.ActiveClients != 1 {
		t.Fatalf("new practice: %+v", sub)
	}
	if d := sub.TrialEnd.Sub(env.clock.Now()); d < 13*24*time.Hour || d > 14*24*time.Hour {
		t.Errorf("trial ends in %v, want 14 days", d)
	}

	// The trial ends without a subscription: staff may read, not write;
	// the owner may still subscribe.
	env.clock.Advance(15 * 24 * time.Hour)
	owner = env.login("trial-owner@example.com", goodPassword).tokens(t, http.StatusOK)
	sub = env.subscription(owner.AccessToken)
	if sub.Status != "trial_ended" || sub.Access != "read_only" {
		t.Fatalf("after the trial: %+v", sub)
	}
	p := env.do(request{method: "POST", path: "/api/v1/clients", token: owner.AccessToken, body: map[string]any{"name": "Two"}}).
		problem(t, http.StatusPaymentRequired)
	if !strings.HasSuffix(p.Type, "/billing_read_only") {
		t.Errorf("problem type %s, want billing_read_only", p.Type)
	}
	env.do(request{method: "GET", path: "/api/v1/clients", token: owner.AccessToken}).want(t, http.StatusOK)
	env.do(request{method: "POST", path: "/api/v1/billing/checkout-session", token: owner.AccessToken,
		body: map[string]string{"plan_id": "team"}}).want(t, http.StatusOK)
}

func TestCheckoutCreatesOneStripeCustomer(t *testing.T) {
	t.Parallel()
	env, mock := billingEnv(t, "", true)
	owner := env.register("checkout-owner@example.com")
	pid := env.practiceID(owner.AccessToken)

	// The portal needs a customer, which only a checkout creates.
	p := env.do(request{method: "POST", path: "/api/v1/billing/portal-session", token: owner.AccessToken}).problem(t, http.StatusConflict)
	if !strings.HasSuffix(p.Type, "/no_subscription") {
		t.Errorf("portal before checkout: %s", p.Type)
	}
	env.do(request{method: "POST", path: "/api/v1/billing/checkout-session", token: owner.AccessToken,
		body: map[string]string{"plan_id": "gold"}}).problem(t, http.StatusBadRequest)

	const n = 8
	var wg sync.WaitGroup
	codes := make([]response, n)
	for i := range n {
		wg.Go(func() {
			codes[i] = env.do(request{method: "POST", path: "/api/v1/billing/checkout-session", token: owner.AccessToken,
				body: map[string]string{"plan_id": "solo"}})
		})
	}
	wg.Wait()
	for _, r := range codes {
		var out struct {
			URL string `json:"url"`
		}
		r.want(t, http.StatusOK).decode(t, &out)
		if !strings.HasPrefix(out.URL, "http") {
			t.Errorf("checkout url %q", out.URL)
		}
	}
	creates := mock.Calls("POST", "/v1/customers")
	if len(creates) != 1 {
		t.Fatalf("%d Stripe customers created for %d concurrent checkouts, want 1", len(creates), n)
	}
	if creates[0].IdempotencyKey != "tandem-customer-"+pid {
		t.Errorf("customer created with idempotency key %q", creates[0].IdempotencyKey)
	}
	if got := len(mock.Calls("POST", "/v1/checkout/sessions")); got != n {
		t.Errorf("%d checkout sessions, want %d", got, n)
	}
	if row := env.billingRow(pid); row["stripe_customer_id"] == nil {
		t.Fatalf("no customer stored: %v", row)
	}
	if got := env.auditCount("billing.customer_created"); got != 1 {
		t.Errorf("%d customer_created audit events, want 1", got)
	}

	var portal struct {
		URL string `json:"url"`
	}
	env.do(request{method: "POST", path: "/api/v1/billing/portal-session", token: owner.AccessToken}).want(t, http.StatusOK).decode(t, &portal)
	if portal.URL == "" || len(mock.Calls("POST", "/v1/billing_portal/sessions")) != 1 {
		t.Errorf("portal: %q, calls %v", portal.URL, mock.Calls("POST", "/v1/billing_portal/sessions"))
	}
}

func TestWebhookRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	env, _ := billingEnv(t, "", false)
	owner := env.register("sig-owner@example.com")
	pid := env.practiceID(owner.AccessToken)
	ev := stripetest.Event{ID: "evt_sig", Type: "customer.subscription.created", Created: time.Now(),
		Object: subscriptionObject("sub_sig", "cus_sig", "active", teamPrice, pid)}
	payload := ev.Payload(t)
	tampered := []byte(strings.Replace(string(payload), `"active"`, `"trialing"`, 1))
	for name, tc := range map[string]struct {
		body []byte
		sig  string
	}{
		"tampered body": {tampered, stripetest.Sign(payload, testWebhookSecret, time.Now())},
		"wrong secret":  {payload, stripetest.Sign(payload, "whsec_someone_else", time.Now())},
		"stale":         {payload, stripetest.Sign(payload, testWebhookSecret, time.Now().Add(-301*time.Second))},
		"no v1":         {payload, fmt.Sprintf("t=%d,v0=abc", time.Now().Unix())},
	} {
		p := env.deliver(tc.body, tc.sig).problem(t, http.StatusBadRequest)
		if !strings.HasSuffix(p.Type, "/invalid_signature") {
			t.Errorf("%s: problem %s", name, p.Type)
		}
	}
	env.deliver(payload, "").problem(t, http.StatusBadRequest)
	if n := env.rowCount("stripe_events") + env.rowCount("practice_billing"); n != 0 {
		t.Fatalf("refused deliveries wrote %d rows", n)
	}
	// The same payload, properly signed, takes effect.
	env.deliver(payload, stripetest.Sign(payload, testWebhookSecret, time.Now())).want(t, http.StatusNoContent)
	if sub := env.subscription(owner.AccessToken); sub.Status != "active" || sub.Plan.ID != "team" || !sub.HasCustomer {
		t.Fatalf("after a good delivery: %+v", sub)
	}
}

func TestWebhookDeliveredTenTimesAtOnceHasOneEffect(t *testing.T) {
	t.Parallel()
	env, _ := billingEnv(t, "", false)
	owner := env.register("dup-owner@example.com")
	pid := env.practiceID(owner.AccessToken)
	ev := stripetest.Event{ID: "evt_dup", Type: "customer.subscription.created", Created: time.Now(),
		Object: subscriptionObject("sub_dup", "cus_dup", "active", teamPrice, pid)}
	var wg sync.WaitGroup
	got := make([]int, 10)
	for i := range got {
		wg.Go(func() { got[i] = env.deliverSigned(ev).Code })
	}
	wg.Wait()
	for i, code := range got {
		if code != http.StatusNoContent {
			t.Errorf("delivery %d: %d", i, code)
		}
	}
	if n := env.rowCount("stripe_events"); n != 1 {
		t.Errorf("%d events recorded, want 1", n)
	}
	if n := env.auditCount("billing.active"); n != 1 {
		t.Errorf("%d billing.active audit events, want 1", n)
	}
	if v := fmt.Sprint(env.billingRow(pid)["version"]); v != "2" {
		t.Errorf("version %s after one effect, want 2", v)
	}
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestWebhookOrderDoesNotMatter(t *testing.T) {
	t.Parallel()
	env, _ := billingEnv(t, "", false)
	base := time.Now().Add(-time.Minute).Truncate(time.Second)
	for _, tc := range []struct {
		name   string
		events []string // subscription statuses, oldest first; "deleted" is the deletion event
		want   string
	}{
		{"ends cancelled", []string{"trialing", "past_due", "active", "deleted"}, "canceled"},
		{"ends active", []string{"trialing", "past_due", "active"}, "active"},
	} {
		for n, order := range permutations(len(tc.events)) {
			owner := env.register(fmt.Sprintf("order-%d-%d@example.com", len(tc.events), n))
			pid := env.practiceID(owner.AccessToken)
			customer := fmt.Sprintf("cus_order_%d_%d", len(tc.events), n)
			for _, i := range order {
				typ, status := "customer.subscription.updated", tc.events[i]
				switch {
				case i == 0:
					typ = "customer.subscription.created"
				case status == "deleted":
					typ, status = "customer.subscription.deleted", "canceled"
				}
				env.deliverSigned(stripetest.Event{ID: fmt.Sprintf("evt_%s_%d", customer, i), Type: typ,
					Created: base.Add(time.Duration(i) * time.Second),
					Object:  subscriptionObject("sub_"+customer, customer, status, teamPrice, pid)}).want(t, http.StatusNoContent)
			}
			row := env.billingRow(pid)
			if fmt.Sprint(row["status"]) != tc.want {
				t.Errorf("%s, order %v: status %v, want %s", tc.name, order, row["status"], tc.want)
			}
			if (row["past_due_since"] != nil) != (tc.want == "past_due") {
				t.Errorf("%s, order %v: past_due_since %v", tc.name, order, row["past_due_since"])
			}
		}
	}
}

func TestWebhookIgnoresWhatItCannotPlace(t *testing.T) {
	t.Parallel()
	env, _ := billingEnv(t, "", false)
	owner := env.register("ignore-owner@example.com")
	env.deliverSigned(stripetest.Event{ID: "evt_unknown_type", Type: "charge.dispute.created", Created: time.Now(),
		Object: map[string]any{"id": "dp_1", "object": "dispute"}}).want(t, http.StatusNoContent)
	env.deliverSigned(stripetest.Event{ID: "evt_stranger", Type: "customer.subscription.updated", Created: time.Now(),
		Object: subscriptionObject("sub_x", "cus_stranger", "canceled", teamPrice, "")}).want(t, http.StatusNoContent)
	env.deliverSigned(stripetest.Event{ID: "evt_stranger_invoice", Type: "invoice.payment_failed", Created: time.Now(),
		Object: map[string]any{"id": "in_1", "object": "invoice", "customer": "cus_stranger", "subscription": "sub_x"}}).
		want(t, http.StatusNoContent)
	if !strings.Contains(env.logs.String(), "stripe event for a customer of no practice") {
		t.Error("an event for an unknown customer was not logged")
	}
	if n := env.rowCount("practice_billing"); n != 0 {
		t.Errorf("%d practices changed", n)
	}
	if sub := env.subscription(owner.AccessToken); sub.Status != "trialing" {
		t.Errorf("unrelated practice: %+v", sub)
	}
}

func TestCheckoutCompletedThenPaymentFailsThenGraceEnds(t *testing.T) {
	t.Parallel()
	env, _ := billingEnv(t, "team", false)
	owner := env.register("grace-owner@example.com")
	pid := env.practiceID(owner.AccessToken)
	rec, client := env.portalClient(owner.AccessToken, "grace-client@example.com", "UTC")
	goal := env.createGoal(owner.AccessToken, rec.ID, map[string]any{"title": "Run a 10k", "why": "To feel strong"})
	steps := []stepDoc{
		env.createStep(owner.AccessToken, goal.ID, map[string]any{"title": "Run 2k"}),
		env.createStep(owner.AccessToken, goal.ID, map[string]any{"title": "Run 3k"}),
	}

	created := time.Now().Add(-time.Minute).Truncate(time.Second)
	env.deliverSigned(stripetest.Event{ID: "evt_cs", Type: "checkout.session.completed", Created: created,
		Object: map[string]any{"id": "cs_1", "object": "checkout.session", "mode": "subscription", "client_reference_id": pid,
			"customer": "cus_grace", "subscription": "sub_grace", "metadata": map[string]any{"plan": "team"}}}).want(t, http.StatusNoContent)
	if sub := env.subscription(owner.AccessToken); sub.Status != "active" || sub.Plan.ID != "team" || !sub.HasCustomer {
		t.Fatalf("after checkout: %+v", sub)
	}
	env.deliverSigned(stripetest.Event{ID: "evt_fail", Type: "invoice.payment_failed", Created: created.Add(time.Second),
		Object: map[string]any{"id": "in_1", "object": "invoice", "customer": "cus_grace", "subscription": "sub_grace"}}).
		want(t, http.StatusNoContent)
	sub := env.subscription(owner.AccessToken)
	if sub.Status != "past_due" || sub.Access != "grace" || sub.GraceEndsAt == nil || !sub.GraceEndsAt.Equal(created.Add(time.Second).Add(7*24*time.Hour)) {
		t.Fatalf("after a failed payment: %+v", sub)
	}
	if m := env.lastMail("grace-owner@example.com"); !strings.Contains(m.Subject, "payment") || !strings.Contains(m.Text, "read-only") {
		t.Errorf("the owner's e-mail: %q %q", m.Subject, m.Text)
	}
	env.createClient(owner.AccessToken, map[string]any{"name": "During grace"})

	env.clock.Advance(8 * 24 * time.Hour)
	owner = env.login("grace-owner@example.com", goodPassword).tokens(t, http.StatusOK)
	client = env.login("grace-client@example.com", goodPassword).tokens(t, http.StatusOK)
	if sub := env.subscription(owner.AccessToken); sub.Access != "read_only" {
		t.Fatalf("after the grace period: %+v", sub)
	}
	env.do(request{method: "POST", path: "/api/v1/clients", token: owner.AccessToken, body: map[string]any{"name": "After"}}).
		problem(t, http.StatusPaymentRequired)
	env.do(request{method: "POST", path: "/api/v1/goals/" + goal.ID + "/action-steps", token: owner.AccessToken,
		body: map[string]any{"title": "Run 5k"}}).problem(t, http.StatusPaymentRequired)
	// The client works on, whatever the practice owes.
	env.completeStep(client.AccessToken, steps[0].ID, map[string]any{"note": "Felt good"})
	env.do(request{method: "GET", path: "/api/v1/clients/" + rec.ID, token: owner.AccessToken}).want(t, http.StatusOK)

	// Paying again restores everything.
	env.deliverSigned(stripetest.Event{ID: "evt_paid", Type: "invoice.paid", Created: created.Add(2 * time.Second),
		Object: map[string]any{"id": "in_2", "object": "invoice", "customer": "cus_grace", "subscription": "sub_grace"}}).
		want(t, http.StatusNoContent)
	if sub := env.subscription(owner.AccessToken); sub.Status != "active" || sub.Access != "full" || sub.GraceEndsAt != nil {
		t.Fatalf("after paying: %+v", sub)
	}
	env.createClient(owner.AccessToken, map[string]any{"name": "After paying"})
}

func TestPlanLimitsHoldUnderConcurrency(t *testing.T) {
	t.Parallel()
	env, _ := billingEnv(t, "", false)
	owner := env.register("limit-owner@example.com")

	const n = 10
	var wg sync.WaitGroup
	got := make([]response, n)
	for i := range n {
		wg.Go(func() {
			got[i] = env.do(request{method: "POST", path: "/api/v1/clients", token: owner.AccessToken,
				body: map[string]any{"name": fmt.Sprintf("Client %d", i)}})
		})
	}
	wg.Wait()
	created := 0
	for _, r := range got {
		switch r.Code {
		case http.StatusCreated:
			created++
		case http.StatusPaymentRequired:
			p := r.problem(t, http.StatusPaymentRequired)
			if !strings.HasSuffix(p.Type, "/plan_limit_reached") || !strings.Contains(p.Detail, "active_clients") ||
				!strings.Contains(p.Detail, "has 3") {
				t.Errorf("limit problem: %+v", p)
			}
		default:
			t.Errorf("status %d: %s", r.Code, r.Body)
		}
	}
	if created != 3 {
		t.Fatalf("%d clients created concurrently on a plan of 3", created)
	}
	if sub := env.subscription(owner.AccessToken); sub.Usage.ActiveClients != 3 {
		t.Errorf("usage %+v", sub.Usage)
	}

	// Pausing one frees a place; making it active again takes it back.
	var list struct {
		Items []clientDoc `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/clients", token: owner.AccessToken}).want(t, http.StatusOK).decode(t, &list)
	paused := list.Items[0].ID
	env.do(request{method: "PATCH", path: "/api/v1/clients/" + paused, token: owner.AccessToken,
		body: map[string]any{"status": "paused"}}).want(t, http.StatusOK)
	env.createClient(owner.AccessToken, map[string]any{"name": "Takes the place"})
	env.do(request{method: "PATCH", path: "/api/v1/clients/" + paused, token: owner.AccessToken,
		body: map[string]any{"status": "active"}}).problem(t, http.StatusPaymentRequired)

	// Two coaches: a coach who joined and an invitation each take a seat;
	// inviting the same address again does not take another.
	env.addCoach(owner.AccessToken, "joined@example.com")
	env.invite(owner.AccessToken, "seat@example.com")
	env.invite(owner.AccessToken, "seat@example.com")
	p := env.do(request{method: "POST", path: "/api/v1/practice/invitations", token: owner.AccessToken,
		body: map[string]string{"email": "second-seat@example.com"}}).problem(t, http.StatusPaymentRequired)
	if !strings.Contains(p.Detail, "coaches") {
		t.Errorf("coach limit problem: %+v", p)
	}
}

func TestTherapistConnectionsAndReadOnlyNeverStopTheClient(t *testing.T) {
	t.Parallel()
	env, _ := billingEnv(t, "", false)
	f := env.practice("conn")
	// The other client's consent is the practice's one connection.
	env.therapistAccount(f, "first-therapist@example.com")
	p := env.postConsent(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "second-therapist@example.com")).
		problem(t, http.StatusPaymentRequired)
	if !strings.HasSuffix(p.Type, "/plan_limit_reached") || !strings.Contains(p.Detail, "therapist_connections") {
		t.Fatalf("second connection: %+v", p)
	}
	var list struct {
		Items []grantDoc `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.otherRec.ID + "/consents", token: f.otherClient.AccessToken}).
		want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("consents of the other client: %+v", list.Items)
	}

	// The trial ends: staff may no longer change anything, but the client
	// still revokes their consent, in one plain request.
	env.clock.Advance(15 * 24 * time.Hour)
	coach := env.login("conn-coach@example.com", goodPassword).tokens(t, http.StatusOK)
	other := env.login("conn-client2@example.com", goodPassword).tokens(t, http.StatusOK)
	env.do(request{method: "PATCH", path: "/api/v1/clients/" + f.clientRec.ID, token: coach.AccessToken,
		body: map[string]any{"phone": "+49 30 1234567"}}).problem(t, http.StatusPaymentRequired)
	env.consentAction(other.AccessToken, list.Items[0].ID, "revoke").want(t, http.StatusOK)
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.otherRec.ID + "/disclosures", token: other.AccessToken}).
		want(t, http.StatusOK)
}

// subjectsTo returns the subjects of every e-mail sent to address, oldest
// first, once the queue has tried each.
func (env *testEnv) subjectsTo(address string) []string {
	env.t.Helper()
	env.drainMail()
	var subjects []string
	for _, m := range env.mailbox.Messages() {
		if m.To == address {
			subjects = append(subjects, m.Subject)
		}
	}
	slices.Reverse(subjects)
	return subjects
}

// sendNotices runs the periodic billing task, as often as a day of runs
// would: a notice goes out once however often it runs.
func (env *testEnv) sendNotices() {
	env.t.Helper()
	for range 3 {
		if err := env.billing.SendNotices(context.Background()); err != nil {
			env.t.Fatal(err)
		}
	}
}

// TestOwnersAreToldBeforeAndWhenThePracticeBecomesReadOnly: the owner of a
// practice on trial is told three days before the trial ends and when it
// has; the owner of a practice whose payment failed is told two days before
// the grace period ends and when it has. Each notice once; coaches get
// none.
func TestOwnersAreToldBeforeAndWhenThePracticeBecomesReadOnly(t *testing.T) {
	t.Parallel()
	env, _ := billingEnv(t, "solo", false)
	trialOwner := env.register("notice-trial@example.com")
	env.addCoach(trialOwner.AccessToken, "notice-coach@example.com")
	paidOwner := env.register("notice-paid@example.com")
	pid := env.practiceID(paidOwner.AccessToken)
	created := time.Now().Add(-time.Minute).Truncate(time.Second)
	env.deliverSigned(stripetest.Event{ID: "evt_notice_cs", Type: "checkout.session.completed", Created: created,
		Object: map[string]any{"id": "cs_n", "object": "checkout.session", "mode": "subscription", "client_reference_id": pid,
			"customer": "cus_notice", "subscription": "sub_notice", "metadata": map[string]any{"plan": "team"}}}).want(t, http.StatusNoContent)

	env.sendNotices()
	if got := env.subjectsTo("notice-trial@example.com"); len(got) != 1 { // address verification only
		t.Fatalf("at the start of the trial: %q", got)
	}

	env.clock.Advance(11*24*time.Hour + time.Hour) // 2 days 23 hours left
	env.deliverSigned(stripetest.Event{ID: "evt_notice_fail", Type: "invoice.payment_failed", Created: env.clock.Now(),
		Object: map[string]any{"id": "in_n", "object": "invoice", "customer": "cus_notice", "subscription": "sub_notice"}}).
		want(t, http.StatusNoContent)
	env.sendNotices()
	trial := env.subjectsTo("notice-trial@example.com")
	if len(trial) != 2 || !strings.HasPrefix(trial[1], "Tandem: your trial ends on ") {
		t.Fatalf("three days before the trial ends: %q", trial)
	}
	paid := env.subjectsTo("notice-paid@example.com")
	if len(paid) != 2 || !strings.Contains(paid[1], "payment for your practice failed") {
		t.Fatalf("after the failed payment: %q", paid)
	}

	env.clock.Advance(3 * 24 * time.Hour) // the trial has ended; 4 days of grace left
	env.sendNotices()
	if trial := env.subjectsTo("notice-trial@example.com"); len(trial) != 3 || trial[2] != "Tandem: your trial has ended" {
		t.Fatalf("after the trial: %q", trial)
	}
	if paid := env.subjectsTo("notice-paid@example.com"); len(paid) != 2 {
		t.Fatalf("with four days of grace left: %q", paid)
	}

	env.clock.Advance(2*24*time.Hour + time.Hour) // 47 hours of grace left
	env.sendNotices()
	paid = env.subjectsTo("notice-paid@example.com")
	if len(paid) != 3 || !strings.HasPrefix(paid[2], "Tandem: your practice becomes read-only on ") {
		t.Fatalf("two days before the grace period ends: %q", paid)
	}
	env.clock.Advance(2 * 24 * time.Hour)
	env.sendNotices()
	paid = env.subjectsTo("notice-paid@example.com")
	if len(paid) != 4 || paid[3] != "Tandem: your practice is read-only until the payment goes through" {
		t.Fatalf("after the grace period: %q", paid)
	}
	env.clock.Advance(24 * time.Hour)
	env.sendNotices()
	if n := len(env.subjectsTo("notice-paid@example.com")) + len(env.subjectsTo("notice-trial@example.com")); n != 7 {
		t.Fatalf("a day later: %d e-mails in all, want still 7", n)
	}
	if got := env.subjectsTo("notice-coach@example.com"); len(got) != 1 { // the coach's invitation only
		t.Fatalf("the coach got %q", got)
	}
}
