package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/billing"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/consent"
	"github.com/tandem-coach/tandem/internal/dashboard"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/httpapi"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/notify"
	"github.com/tandem-coach/tandem/internal/privacy"
	"github.com/tandem-coach/tandem/internal/ratelimit"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/sessions"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
	"github.com/tandem-coach/tandem/internal/webhooks"
)

func TestMain(m *testing.M) {
	auth.LowerPasswordCostForTests() // hundreds of sign-ins; the real cost is tested in internal/auth
	storetest.Main(m)
}

// testEnv is a whole Tandem service in-process, on a fresh database, with a
// manual clock and a captured log.
type testEnv struct {
	t        *testing.T
	e        *httpapi.API
	store    *store.Store
	clock    *clock.Manual
	accounts *account.Service
	notify   *notify.Service
	billing  *billing.Service
	privacy  *privacy.Service
	key      auth.SigningKey
	logs     *lockedBuffer
	cfg      config.Config
	// mailbox keeps every e-mail the service sends, unless the test runs a
	// real SMTP server (envOptions.smtpURL).
	mailbox *mail.Mailbox
	// handed keeps, with SMTP, a copy of every e-mail the service handed to
	// the SMTP server, delivered or not, so that lastMail and the fixtures
	// built on it work there too; tests of delivery read the server.
	handed *mail.Mailbox
}

type envOptions struct {
	smtpURL                           string
	ipLimit, refreshLimit             ratelimit.Rule
	accountBackoff, deviceBackoff     ratelimit.BackoffRule
	trustedProxies                    []netip.Prefix
	invitationsPerDay, consentsPerDay int
	// store, when set, is the database to serve (e.g. one behind a proxy
	// that can hang); requestTimeout, when set, the per-request deadline.
	store          *store.Store
	requestTimeout time.Duration
	// webhooks, when set, configures webhook deliveries (its guard also
	// checks endpoint URLs); unset, loopback is allowed and the rest is
	// as in production.
	webhooks *webhooks.DelivererConfig
	// stripe, when set, turns billing on with this configuration.
	stripe *config.Stripe
	// trustedKeys are other instances' history bundle keys to accept.
	trustedKeys []privacy.TrustedKey
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var testKey = auth.SigningKey{ID: "test-1", Key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))}

func newEnv(t *testing.T, opts ...envOptions) *testEnv {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clk := clock.NewManual(time.Now())
	st := o.store
	if st == nil {
		st = storetest.Open(t)
	}
	cfg, err := config.Load(func(k string) string {
		if k == "TANDEM_BASE_URL" {
			return "https://tandem.example"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.TrustedProxies = o.trustedProxies
	if o.requestTimeout > 0 {
		cfg.RequestTimeout = o.requestTimeout
	}
	if o.stripe != nil {
		cfg.Stripe = *o.stripe
	}
	bill := billing.NewService(billing.Config{Store: st, Stripe: cfg.Stripe, Clock: clk, Log: log, BaseURL: cfg.BaseURL})
	tokens, err := auth.NewTokens([]auth.SigningKey{testKey}, cfg.JWTIssuer, cfg.JWTAudience, clk)
	if err != nil {
		t.Fatal(err)
	}
	var mailer mail.Mailer
	var mailbox, handed *mail.Mailbox
	if o.smtpURL == "" {
		mailbox = mail.NewMailbox(log, clk, 1000)
		mailer = mailbox
	} else {
		smtp, err := mail.New(o.smtpURL, cfg.MailFrom, log)
		if err != nil {
			t.Fatal(err)
		}
		handed = mail.NewMailbox(slog.New(slog.DiscardHandler), clk, 1000)
		mailer = copyingMailer{copies: handed, next: smtp}
	}
	box, err := sealbox.New([]sealbox.Key{{ID: "test-note-key", Secret: bytes.Repeat([]byte{3}, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	// The service sends e-mail as in production: through the job queue,
	// whose workers run beside it.
	whc := webhooks.DelivererConfig{Guard: webhooks.Guard{Allow: webhooks.Loopback}}
	if o.webhooks != nil {
		whc = *o.webhooks
	}
	whc.Store, whc.Secrets, whc.Clock, whc.Log, whc.BaseURL = st, box, clk, log, cfg.BaseURL
	deliverer := webhooks.NewDeliverer(whc)
	bundleKey, err := privacy.DeriveBundleKey(testKey.ID, testKey.Key)
	if err != nil {
		t.Fatal(err)
	}
	priv := privacy.NewService(privacy.Config{Store: st, Clock: clk, Log: log, Notes: box, BaseURL: cfg.BaseURL,
		CoolingOff: cfg.ErasureCoolingOff, BundleKeys: []privacy.BundleKey{bundleKey}, TrustedKeys: o.trustedKeys})
	runner, err := jobs.Start(context.Background(), st, jobs.Options{Mailer: mailer, Log: log, PollInterval: 10 * time.Millisecond,
		Register: []jobs.Registration{deliverer.Workers(), priv.Workers()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = runner.Stop(ctx)
	})
	accounts := account.NewService(account.Config{
		Store: st, Tokens: tokens, Clock: clk, Log: log, Secrets: box,
		BaseURL: cfg.BaseURL, InvitationTTL: cfg.InvitationTTL, InvitationsPerDay: o.invitationsPerDay,
		AccountBackoff: o.accountBackoff, DeviceBackoff: o.deviceBackoff, Limits: bill,
	})
	notifier := notify.NewService(notify.Config{Store: st, Clock: clk, Log: log, BaseURL: cfg.BaseURL,
		Keys: []sealbox.Key{{ID: "test-note-key", Secret: bytes.Repeat([]byte{3}, 32)}}})
	e, err := httpapi.New(httpapi.Deps{
		Config: cfg, Store: st, Log: log, Clock: clk, IPLimit: o.ipLimit, RefreshLimit: o.refreshLimit,
		Accounts: accounts,
		Clients: clients.NewService(clients.Config{Store: st, Accounts: accounts, Clock: clk, Log: log,
			BaseURL: cfg.BaseURL, InvitationTTL: cfg.InvitationTTL, Limits: bill}),
		Goals:     goals.NewService(goals.Config{Store: st, Clock: clk, Log: log}),
		Sessions:  sessions.NewService(sessions.Config{Store: st, Clock: clk, Log: log, Notes: box, BaseURL: cfg.BaseURL}),
		Dashboard: dashboard.NewService(dashboard.Config{Store: st, Clock: clk}),
		Consent: consent.NewService(consent.Config{Store: st, Accounts: accounts, Clock: clk, Log: log,
			Notes: box, BaseURL: cfg.BaseURL, InvitationTTL: cfg.InvitationTTL, ConsentsPerDay: o.consentsPerDay, Limits: bill}),
		Webhooks: webhooks.NewService(webhooks.Config{Store: st, Secrets: box, Guard: whc.Guard, Clock: clk, Log: log}),
		Notify:   notifier,
		Privacy:  priv,
		Billing:  bill,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, e: e, store: st, clock: clk, accounts: accounts, notify: notifier, billing: bill, privacy: priv, key: testKey, logs: logs, cfg: cfg,
		mailbox: mailbox, handed: handed}
}

// copyingMailer keeps a copy of each message before the next mailer sends it.
type copyingMailer struct {
	copies *mail.Mailbox
	next   mail.Mailer
}

func (m copyingMailer) Send(ctx context.Context, msg mail.Message) error {
	if err := m.copies.Send(ctx, msg); err != nil {
		return err
	}
	return m.next.Send(ctx, msg)
}

type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// problemDoc is a decoded problem document.
type problemDoc struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// request is one HTTP call: body is nil, a string sent as is, or a value sent as JSON.
type request struct {
	method  string
	path    string
	body    any
	token   string
	headers map[string]string
	remote  string
}

func (env *testEnv) do(r request) response {
	env.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			env.t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if _, given := r.headers["If-Match"]; !given && (r.method == http.MethodPatch || r.method == http.MethodDelete) {
		// Changes to versioned records require If-Match (428 without);
		// tests about other things change whatever version is current.
		// A test that means to omit it sets "If-Match" to "".
		req.Header.Set("If-Match", "*")
	}
	for k, v := range r.headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	rec := httptest.NewRecorder()
	env.e.ServeHTTP(rec, req)
	return response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// problem checks r is a problem document with status and returns it.
func (r response) problem(t *testing.T, status int) problemDoc {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status = %d, want %d; body %s", r.Code, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p problemDoc
	r.decode(t, &p)
	if p.Status != status || p.Title == "" || p.Type == "" || p.RequestID == "" {
		t.Fatalf("incomplete problem document: %s", r.Body)
	}
	return p
}

func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status = %d, want %d; body %s", r.Code, status, r.Body)
	}
	return r
}

type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

const goodPassword = "a long and quiet river"

// register creates a practice whose owner has the given e-mail, proves the
// address with the e-mailed link, and signs the owner in.
func (env *testEnv) register(email string) tokenPair {
	env.t.Helper()
	env.registerUnverified(email)
	env.verify(env.mailToken(email))
	return env.login(email, goodPassword).tokens(env.t, http.StatusOK)
}

// registerUnverified registers a practice and signs its owner in without
// using the verification link.
func (env *testEnv) registerUnverified(email string) tokenPair {
	env.t.Helper()
	env.do(request{method: "POST", path: "/api/v1/auth/register", body: map[string]string{
		"practice_name": "Practice of " + email, "name": "Owner " + email, "email": email, "password": goodPassword,
	}}).want(env.t, http.StatusAccepted)
	env.drainMail() // its e-mail is a job: let it land before any later one
	return env.login(email, goodPassword).tokens(env.t, http.StatusOK)
}

// verify uses an e-mailed verification link's token.
func (env *testEnv) verify(token string) {
	env.t.Helper()
	env.do(request{method: "POST", path: "/api/v1/auth/verify-email", body: map[string]string{"token": token}}).
		want(env.t, http.StatusOK)
}

// drainMail waits, a bounded time, until the job queue has tried every
// e-mail queued so far: none is waiting or being sent. (One that failed
// waits for its retry, and does not count.)
func (env *testEnv) drainMail() {
	env.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := jobs.MailSettled(ctx, env.store); err != nil {
		env.t.Fatalf("e-mail jobs still queued: %v", err)
	}
}

// lastMail returns the newest e-mail sent to address, once the queue has
// tried every e-mail queued so far. With SMTP, it is the newest the service
// handed to the server.
func (env *testEnv) lastMail(address string) mail.Stored {
	env.t.Helper()
	env.drainMail()
	box := env.mailbox
	if box == nil {
		box = env.handed
	}
	m, ok := box.Latest(address)
	if !ok {
		env.t.Fatalf("no e-mail to %s", address)
	}
	return m
}

// mailToken returns the token of the link in the newest e-mail to address.
func (env *testEnv) mailToken(address string) string {
	env.t.Helper()
	m := env.lastMail(address)
	tok, ok := mail.ExtractToken(m.Text)
	if !ok {
		env.t.Fatalf("the last e-mail to %s (%q) holds no link with a token", address, m.Subject)
	}
	return tok
}

// accept posts an invitation acceptance with the token in the body.
func (env *testEnv) accept(token string, body map[string]string) response {
	env.t.Helper()
	b := map[string]string{"token": token}
	for k, v := range body {
		b[k] = v
	}
	return env.do(request{method: "POST", path: "/api/v1/invitations/accept", body: b})
}

func (env *testEnv) login(email, password string) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"email": email, "password": password}})
}

type invitation struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Status    string    `json:"status"`
	SentAt    time.Time `json:"sent_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// tok is the token of the e-mail that carried the invitation: no
	// response ever does.
	tok string
}

// token returns the invitation's token, as read from its e-mail.
func (i invitation) token(t *testing.T) string {
	t.Helper()
	if i.tok == "" {
		t.Fatalf("invitation %s was not read from its e-mail", i.ID)
	}
	return i.tok
}

func (env *testEnv) invite(ownerToken, email string) invitation {
	env.t.Helper()
	var inv invitation
	r := env.do(request{method: "POST", path: "/api/v1/practice/invitations", token: ownerToken,
		body: map[string]string{"email": email}}).want(env.t, http.StatusCreated)
	if strings.Contains(string(r.Body), "token") {
		env.t.Fatalf("the invitation response carries a token: %s", r.Body)
	}
	r.decode(env.t, &inv)
	inv.tok = env.mailToken(email)
	return inv
}

// addCoach invites and signs up a coach in the owner's practice.
func (env *testEnv) addCoach(ownerToken, email string) tokenPair {
	env.t.Helper()
	inv := env.invite(ownerToken, email)
	var tp tokenPair
	env.accept(inv.token(env.t), map[string]string{"name": "Coach " + email, "password": goodPassword}).
		want(env.t, http.StatusCreated).decode(env.t, &tp)
	return tp
}
