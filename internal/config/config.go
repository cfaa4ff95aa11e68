// Package config reads Tandem's typed configuration from TANDEM_* environment
// variables, once, at start. It validates everything up front so a bad setting
// stops the process with a message naming the variable, and it masks secrets
// whenever the configuration is logged.
package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/gommon/bytes"

	"github.com/tandem-coach/tandem/internal/sealbox"
)

// Environments Tandem knows.
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Secret is a string that never prints its value.
type Secret string

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "********"
}

// Format masks the secret under every verb. Without it fmt prints the raw
// string for %#v (which ignores String) and for verbs a string does not take.
func (s Secret) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// LogValue masks the secret in structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the secret's value. Call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// SigningKey is one Ed25519 key for access tokens, named by its key ID.
type SigningKey struct {
	ID   string
	Seed Secret // base64 of the 32-byte Ed25519 seed
}

// PrivateKey decodes the key. Load has already checked it decodes.
func (k SigningKey) PrivateKey() ed25519.PrivateKey {
	seed, _ := decodeSeed(k.Seed.Reveal())
	return ed25519.NewKeyFromSeed(seed)
}

// Config is the whole configuration of a Tandem process.
type Config struct {
	Env        string
	ListenAddr string
	// OpsAddr, when set, is a second listener for the operators' endpoints
	// (/metrics, and /healthz and /readyz for probes); /metrics then leaves
	// the public listener.
	OpsAddr     string
	DataDir     string
	DatabaseURL Secret // empty: the embedded SQLite database in DataDir
	// DatabaseDirectURL is the database without the pooler DatabaseURL
	// goes through (PgBouncer in transaction mode), for migrations and the
	// job queue's LISTEN; empty when no pooler is in front.
	DatabaseDirectURL Secret
	// DatabaseReplicaURL is a streaming replica of the database, for the
	// reads that tolerate a little lag.
	DatabaseReplicaURL Secret
	// DatabaseReplicaMaxLag is how far behind the replica may be and still serve.
	DatabaseReplicaMaxLag time.Duration
	BaseURL               string // the public URL people open, used in e-mailed links

	JWTIssuer   string
	JWTAudience string
	// SigningKeys verify access tokens; the first one signs. Empty outside
	// production means a development key is created in DataDir.
	SigningKeys []SigningKey

	// NoteKeys seal private notes at rest (AES-256-GCM); the first seals,
	// every key opens. Empty outside production means a development key is
	// created in DataDir.
	NoteKeys []sealbox.Key

	SMTPURL  Secret // empty: e-mails are logged, not sent
	MailFrom string

	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	// Empty: the client IP is the TCP peer.
	TrustedProxies []netip.Prefix

	signingKeysGiven bool // to tell "missing" from "malformed"
	noteKeysGiven    bool

	LogLevel        slog.Level
	BodyLimit       string
	ShutdownTimeout time.Duration
	// RequestTimeout bounds every request: past it the request's database
	// work is cancelled and the caller gets 503 with Retry-After.
	RequestTimeout time.Duration
	InvitationTTL  time.Duration
	// DailyInvitations caps the coach and portal invitations, and
	// DailyConsents the consents and consent requests, a practice sends in
	// 24 hours.
	DailyInvitations int
	DailyConsents    int
	// Workers says whether `tandem serve` also works the job queue (sends
	// e-mail); false makes an API-only replica, beside `tandem worker`.
	Workers bool
	// SessionReminderLead is how long before a session its reminder is
	// e-mailed.
	SessionReminderLead time.Duration
	// JobRescueAfter is how long a job whose process died stays running
	// before another process runs it again (zero: chosen by the workers,
	// past their longest timeout).
	JobRescueAfter time.Duration
	// ReminderInterval is how often the periodic tasks that queue digests
	// and reminders look for what is due (1m to 1h).
	ReminderInterval time.Duration
	// ErasureCoolingOff is how long an erasure request waits, cancellable,
	// before it is carried out (TANDEM_ERASURE_COOLING_OFF, default 14 days).
	ErasureCoolingOff time.Duration
	// HistoryTrustedKeys are other Tandem instances' history bundle keys,
	// key_id:x pairs from their /.well-known/tandem-keys.json
	// (TANDEM_HISTORY_TRUSTED_KEYS); public keys, not secrets.
	HistoryTrustedKeys string
	// Stripe is billing; off unless TANDEM_STRIPE_SECRET_KEY is set.
	Stripe Stripe
}

// Production reports whether Tandem runs as a production service.
func (c Config) Production() bool { return c.Env == EnvProduction }

// SQLitePath is the embedded database file used when DatabaseURL is empty.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "tandem.db") }

// UsesPostgres reports whether the configured database is PostgreSQL.
func (c Config) UsesPostgres() bool { return c.DatabaseURL != "" }

// LogValue lists the configuration with secrets masked.
func (c Config) LogValue() slog.Value {
	keys := make([]string, len(c.SigningKeys))
	for i, k := range c.SigningKeys {
		keys[i] = k.ID
	}
	return slog.GroupValue(
		slog.String("env", c.Env),
		slog.String("listen_addr", c.ListenAddr),
		slog.String("ops_addr", c.OpsAddr),
		slog.String("data_dir", c.DataDir),
		slog.String("database", c.DatabaseLabel()),
		slog.Bool("database_behind_pooler", c.DatabaseDirectURL != ""),
		slog.Bool("database_read_replica", c.DatabaseReplicaURL != ""),
		slog.String("base_url", c.BaseURL),
		slog.String("signing_key_ids", strings.Join(keys, ",")),
		slog.Int("note_keys", len(c.NoteKeys)),
		slog.Bool("smtp", c.SMTPURL != ""),
		slog.Int("trusted_proxies", len(c.TrustedProxies)),
		slog.String("request_timeout", c.RequestTimeout.String()),
		slog.Bool("workers", c.Workers),
		slog.Bool("billing", c.Stripe.Enabled()),
		slog.Int("plans", len(c.Stripe.Plans)),
	)
}

// DatabaseLabel names the configured database without its credentials:
// sqlite:<path> or postgres://<host>/<name>.
func (c Config) DatabaseLabel() string {
	if !c.UsesPostgres() {
		return "sqlite:" + c.SQLitePath()
	}
	u, err := url.Parse(c.DatabaseURL.Reveal())
	if err != nil {
		return "postgres"
	}
	return "postgres://" + u.Host + u.Path
}

// Load reads the configuration through getenv (os.Getenv in main, a map in
// tests) and validates it. The error lists every problem, one per line.
func Load(getenv func(string) string) (Config, error) {
	get := func(key, fallback string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return fallback
	}
	var problems []string
	bad := func(key, format string, args ...any) {
		problems = append(problems, key+": "+fmt.Sprintf(format, args...))
	}

	c := Config{
		Env:                get("TANDEM_ENV", EnvDevelopment),
		ListenAddr:         get("TANDEM_LISTEN_ADDR", "127.0.0.1:8080"),
		OpsAddr:            get("TANDEM_OPS_ADDR", ""),
		DataDir:            get("TANDEM_DATA_DIR", "./data"),
		DatabaseURL:        Secret(get("TANDEM_DATABASE_URL", "")),
		DatabaseDirectURL:  Secret(get("TANDEM_DATABASE_DIRECT_URL", "")),
		DatabaseReplicaURL: Secret(get("TANDEM_DATABASE_REPLICA_URL", "")),
		JWTIssuer:          get("TANDEM_JWT_ISSUER", "tandem"),
		JWTAudience:        get("TANDEM_JWT_AUDIENCE", "tandem-api"),
		SMTPURL:            Secret(get("TANDEM_SMTP_URL", "")),
		MailFrom:           get("TANDEM_MAIL_FROM", "Tandem <no-reply@tandem.localhost>"),
		BodyLimit:          get("TANDEM_BODY_LIMIT", "1M"),
	}
	if c.Env != EnvDevelopment && c.Env != EnvProduction {
		bad("TANDEM_ENV", "must be %q or %q, not %q", EnvDevelopment, EnvProduction, c.Env)
	}
	if _, err := netip.ParseAddrPort(c.ListenAddr); err != nil && !strings.HasPrefix(c.ListenAddr, ":") {
		bad("TANDEM_LISTEN_ADDR", "must be host:port, e.g. 127.0.0.1:8080")
	}
	if c.OpsAddr != "" {
		if _, err := netip.ParseAddrPort(c.OpsAddr); err != nil && !strings.HasPrefix(c.OpsAddr, ":") {
			bad("TANDEM_OPS_ADDR", "must be host:port, e.g. 0.0.0.0:9090")
		} else if c.OpsAddr == c.ListenAddr {
			bad("TANDEM_OPS_ADDR", "must differ from TANDEM_LISTEN_ADDR")
		}
	}

	c.BaseURL = strings.TrimRight(get("TANDEM_BASE_URL", ""), "/")
	if c.BaseURL == "" {
		// Links in e-mails need a host people can reach; the listen address
		// serves as the default only when it names one. (Production asks
		// for an https URL below.)
		host, _, splitErr := net.SplitHostPort(c.ListenAddr)
		ip, err := netip.ParseAddr(host)
		switch {
		case splitErr != nil: // TANDEM_LISTEN_ADDR is reported already
		case host == "" || (err == nil && ip.IsUnspecified()):
			if c.Env != EnvProduction {
				bad("TANDEM_BASE_URL", "required when listening on all interfaces (%s): the public URL people open", c.ListenAddr)
			}
		default:
			c.BaseURL = "http://" + c.ListenAddr
		}
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			bad("TANDEM_BASE_URL", "must be an absolute http(s) URL")
		}
	}

	if c.DatabaseReplicaURL != "" && !c.UsesPostgres() {
		bad("TANDEM_DATABASE_REPLICA_URL", "needs TANDEM_DATABASE_URL: it is a streaming replica of that PostgreSQL database")
	}
	if c.DatabaseDirectURL != "" && !c.UsesPostgres() {
		bad("TANDEM_DATABASE_DIRECT_URL", "needs TANDEM_DATABASE_URL: it is the same PostgreSQL database without the pooler")
	}
	if c.UsesPostgres() {
		u, err := url.Parse(c.DatabaseURL.Reveal())
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("TANDEM_DATABASE_URL", "must be a postgres:// URL")
		}
		if c.DatabaseDirectURL != "" {
			u, err := url.Parse(c.DatabaseDirectURL.Reveal())
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				bad("TANDEM_DATABASE_DIRECT_URL", "must be a postgres:// URL")
			}
		}
		if c.DatabaseReplicaURL != "" {
			u, err := url.Parse(c.DatabaseReplicaURL.Reveal())
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				bad("TANDEM_DATABASE_REPLICA_URL", "must be a postgres:// URL")
			}
		}
	}

	rawNoteKeys := getenv("TANDEM_NOTE_KEYS")
	c.noteKeysGiven = len(splitList(rawNoteKeys)) > 0
	noteKeys, err := sealbox.ParseKeys(rawNoteKeys)
	if err != nil {
		bad("TANDEM_NOTE_KEYS", "%v", err)
	}
	c.NoteKeys = noteKeys

	rawKeys := getenv("TANDEM_JWT_SIGNING_KEYS")
	c.signingKeysGiven = len(splitList(rawKeys)) > 0
	keys, err := parseSigningKeys(rawKeys)
	if err != nil {
		bad("TANDEM_JWT_SIGNING_KEYS", "%v", err)
	}
	c.SigningKeys = keys

	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL.Reveal()); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			bad("TANDEM_SMTP_URL", "must look like smtp://user:password@host:587 or smtps://host:465")
		}
	}

	for _, p := range splitList(getenv("TANDEM_TRUSTED_PROXIES")) {
		prefix, err := parsePrefix(p)
		if err != nil {
			bad("TANDEM_TRUSTED_PROXIES", "%q is not an IP address or CIDR range", p)
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix)
	}

	if err := c.LogLevel.UnmarshalText([]byte(get("TANDEM_LOG_LEVEL", "info"))); err != nil {
		bad("TANDEM_LOG_LEVEL", "must be debug, info, warn or error")
	}
	c.ShutdownTimeout = parseDuration(get("TANDEM_SHUTDOWN_TIMEOUT", "20s"), "TANDEM_SHUTDOWN_TIMEOUT", bad)
	c.RequestTimeout = parseRequestTimeout(get("TANDEM_REQUEST_TIMEOUT", "10s"), bad)
	c.InvitationTTL = parseDuration(get("TANDEM_INVITATION_TTL", "168h"), "TANDEM_INVITATION_TTL", bad)
	c.SessionReminderLead = parseDuration(get("TANDEM_SESSION_REMINDER_LEAD", "24h"), "TANDEM_SESSION_REMINDER_LEAD", bad)
	c.DatabaseReplicaMaxLag = parseDuration(get("TANDEM_DATABASE_REPLICA_MAX_LAG", "2s"), "TANDEM_DATABASE_REPLICA_MAX_LAG", bad)
	// Unset, the workers choose it from their timeouts (jobs.Options.RescueAfter);
	// set, they refuse to start if it is not past the longest one.
	if v := get("TANDEM_JOB_RESCUE_AFTER", ""); v != "" {
		c.JobRescueAfter = parseDuration(v, "TANDEM_JOB_RESCUE_AFTER", bad)
		if c.JobRescueAfter != 0 && (c.JobRescueAfter < time.Minute || c.JobRescueAfter > 24*time.Hour) {
			bad("TANDEM_JOB_RESCUE_AFTER", "must be between 1m and 24h, and longer than the longest job timeout "+
				"(the workers say which when they start); leave it unset to have them choose")
		}
	}
	c.ReminderInterval = parseDuration(get("TANDEM_REMINDER_INTERVAL", "15m"), "TANDEM_REMINDER_INTERVAL", bad)
	if c.ReminderInterval != 0 && (c.ReminderInterval < time.Minute || c.ReminderInterval > time.Hour) {
		bad("TANDEM_REMINDER_INTERVAL", "must be between 1m and 1h")
	}
	c.ErasureCoolingOff = parseDuration(get("TANDEM_ERASURE_COOLING_OFF", "336h"), "TANDEM_ERASURE_COOLING_OFF", bad)
	c.HistoryTrustedKeys = get("TANDEM_HISTORY_TRUSTED_KEYS", "")
	c.DailyInvitations = parseCount(get("TANDEM_DAILY_INVITATIONS", "50"), "TANDEM_DAILY_INVITATIONS", bad)
	c.DailyConsents = parseCount(get("TANDEM_DAILY_CONSENTS", "50"), "TANDEM_DAILY_CONSENTS", bad)
	if w, err := strconv.ParseBool(get("TANDEM_WORKERS", "true")); err != nil {
		bad("TANDEM_WORKERS", "must be true or false")
	} else {
		c.Workers = w
	}
	// The same parser Echo's body limit uses, so what passes here starts.
	if n, err := bytes.Parse(c.BodyLimit); err != nil || n <= 0 {
		bad("TANDEM_BODY_LIMIT", "must be a size such as 512K or 1M")
	}

	c.Stripe = loadStripe(getenv, get, bad)

	if c.Production() {
		problems = append(problems, productionProblems(c)...)
	}
	if len(problems) > 0 {
		return Config{}, errors.New("invalid configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return c, nil
}

// productionProblems names every setting production refuses to run without.
func productionProblems(c Config) []string {
	var p []string
	if !c.UsesPostgres() {
		p = append(p, "TANDEM_DATABASE_URL: required in production (a postgres:// URL; SQLite is for development and single-coach installs)")
	}
	if len(c.SigningKeys) == 0 && !c.signingKeysGiven {
		p = append(p, "TANDEM_JWT_SIGNING_KEYS: required in production (kid:base64-seed[,kid:base64-seed...]; see README)")
	}
	if len(c.NoteKeys) == 0 && !c.noteKeysGiven {
		p = append(p, "TANDEM_NOTE_KEYS: required in production (id:base64-32-bytes[,...]; keep every key that sealed a note)")
	}
	if c.SMTPURL == "" {
		p = append(p, "TANDEM_SMTP_URL: required in production (invitations must reach people)")
	}
	if !strings.HasPrefix(c.BaseURL, "https://") {
		p = append(p, "TANDEM_BASE_URL: must be the public https:// URL in production")
	}
	if len(c.TrustedProxies) == 0 {
		p = append(p, "TANDEM_TRUSTED_PROXIES: required in production (the TLS-terminating proxy's address or CIDR range)")
	}
	return p
}

func parseSigningKeys(raw string) ([]SigningKey, error) {
	var keys []SigningKey
	seen := map[string]bool{}
	for _, item := range splitList(raw) {
		id, seed, ok := strings.Cut(item, ":")
		if !ok || id == "" {
			return nil, errors.New("each key must be kid:base64-seed")
		}
		if seen[id] {
			return nil, fmt.Errorf("key id %q appears twice", id)
		}
		seen[id] = true
		if _, err := decodeSeed(seed); err != nil {
			return nil, fmt.Errorf("key %q: %v", id, err)
		}
		keys = append(keys, SigningKey{ID: id, Seed: Secret(seed)})
	}
	return keys, nil
}

func decodeSeed(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawURLEncoding.DecodeString(s)
	}
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, fmt.Errorf("must be the base64 of %d random bytes", ed25519.SeedSize)
	}
	return b, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func parseDuration(s, key string, bad func(string, string, ...any)) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		bad(key, "must be a positive duration such as 20s or 168h")
	}
	return d
}

// Bounds of TANDEM_REQUEST_TIMEOUT: below a second the database's own
// limits (half of it for SQLite's busy wait) leave no time to work; above
// 50 seconds the HTTP server's 60-second write timeout would cut the
// answer off.
const (
	minRequestTimeout = time.Second
	maxRequestTimeout = 50 * time.Second
)

func parseRequestTimeout(s string, bad func(string, string, ...any)) time.Duration {
	const key = "TANDEM_REQUEST_TIMEOUT"
	d, err := time.ParseDuration(s)
	if err != nil || d < minRequestTimeout || d > maxRequestTimeout {
		bad(key, "must be a duration from %v to %v, such as 10s", minRequestTimeout, maxRequestTimeout)
	}
	return d
}

func splitList(raw string) []string {
	var out []string
	for _, s := range strings.Split(raw, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseCount parses a positive whole number of at most a million.
func parseCount(raw, name string, bad func(string, string, ...any)) int {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 1_000_000 {
		bad(name, "must be a whole number from 1 to 1000000")
		return 0
	}
	return n
}
