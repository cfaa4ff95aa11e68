package config_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/config"
)

// Secrets used in the complete configuration; tests check they never leak.
const (
	dbPassword   = "db-pa55-Zq81"
	smtpPassword = "smtp-pa55-Xk42"
)

var (
	seed1 = bytes.Repeat([]byte{1}, ed25519.SeedSize)
	seed2 = bytes.Repeat([]byte{0xfb}, ed25519.SeedSize) // encodes with + and / in std base64
	// seed1Std and seed2URL are the secrets as written in the environment.
	seed1Std = base64.StdEncoding.EncodeToString(seed1)
	seed2URL = base64.RawURLEncoding.EncodeToString(seed2)
	// noteKey seals private notes; its bytes must not print in any form.
	noteKey    = bytes.Repeat([]byte{0x5a}, 32)
	noteKeyStd = base64.StdEncoding.EncodeToString(noteKey)
)

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// production returns a complete production environment, with overrides
// applied; an empty override value removes the variable.
func production(overrides map[string]string) map[string]string {
	m := map[string]string{
		"TANDEM_ENV":              "production",
		"TANDEM_LISTEN_ADDR":      "0.0.0.0:8080",
		"TANDEM_BASE_URL":         "https://coach.example.com/",
		"TANDEM_DATABASE_URL":     "postgres://tandem:" + dbPassword + "@db.internal:5432/tandem?sslmode=require",
		"TANDEM_JWT_SIGNING_KEYS": "k2:" + seed2URL + ", k1:" + seed1Std,
		"TANDEM_NOTE_KEYS":        "n1:" + noteKeyStd,
		"TANDEM_SMTP_URL":         "smtps://mailer:" + smtpPassword + "@smtp.example.com:465",
		"TANDEM_TRUSTED_PROXIES":  "10.0.0.0/8, 192.168.1.7",
	}
	for k, v := range overrides {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// problems splits Load's error into its problem lines.
func problems(t *testing.T, err error) []string {
	t.Helper()
	const head = "invalid configuration:\n  "
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, head) {
		t.Fatalf("error %q does not start with %q", msg, head)
	}
	return strings.Split(strings.TrimPrefix(msg, head), "\n  ")
}

// vars returns the variable each problem line names, in order.
func vars(lines []string) []string {
	var out []string
	for _, l := range lines {
		name, _, _ := strings.Cut(l, ":")
		out = append(out, name)
	}
	return out
}

func TestLoadDefaults(t *testing.T) {
	c, err := config.Load(getenv(nil))
	if err != nil {
		t.Fatalf("Load(empty environment): %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Env", c.Env, "development"},
		{"Production", c.Production(), false},
		{"ListenAddr", c.ListenAddr, "127.0.0.1:8080"},
		{"DataDir", c.DataDir, "./data"},
		{"DatabaseURL", c.DatabaseURL.Reveal(), ""},
		{"UsesPostgres", c.UsesPostgres(), false},
		{"SQLitePath", c.SQLitePath(), "data/tandem.db"},
		{"BaseURL", c.BaseURL, "http://127.0.0.1:8080"},
		{"JWTIssuer", c.JWTIssuer, "tandem"},
		{"JWTAudience", c.JWTAudience, "tandem-api"},
		{"SigningKeys", len(c.SigningKeys), 0},
		{"SMTPURL", c.SMTPURL.Reveal(), ""},
		{"MailFrom", c.MailFrom, "Tandem <no-reply@tandem.localhost>"},
		{"TrustedProxies", len(c.TrustedProxies), 0},
		{"LogLevel", c.LogLevel, slog.LevelInfo},
		{"BodyLimit", c.BodyLimit, "1M"},
		{"ShutdownTimeout", c.ShutdownTimeout, 20 * time.Second},
		{"RequestTimeout", c.RequestTimeout, 10 * time.Second},
		{"InvitationTTL", c.InvitationTTL, 168 * time.Hour},
		{"DailyInvitations", c.DailyInvitations, 50},
		{"DailyConsents", c.DailyConsents, 50},
		{"Workers", c.Workers, true},
		{"JobRescueAfter", c.JobRescueAfter, time.Duration(0)},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestLoadDevelopmentSettings(t *testing.T) {
	c, err := config.Load(getenv(map[string]string{
		"TANDEM_LISTEN_ADDR":       " :9000 ", // surrounding space is ignored
		"TANDEM_BASE_URL":          "http://coach.internal:9000/",
		"TANDEM_DATA_DIR":          "/var/lib/tandem",
		"TANDEM_DATABASE_URL":      "postgresql://localhost/tandem",
		"TANDEM_JWT_SIGNING_KEYS":  "a:" + seed1Std + ",,b:" + seed2URL + ",",
		"TANDEM_SMTP_URL":          "smtp://localhost:1025",
		"TANDEM_TRUSTED_PROXIES":   "127.0.0.1, ::1 ,fd00::/8",
		"TANDEM_LOG_LEVEL":         "DEBUG",
		"TANDEM_SHUTDOWN_TIMEOUT":  "1m30s",
		"TANDEM_REQUEST_TIMEOUT":   "2500ms",
		"TANDEM_INVITATION_TTL":    "48h",
		"TANDEM_BODY_LIMIT":        "512K",
		"TANDEM_DAILY_INVITATIONS": "5",
		"TANDEM_DAILY_CONSENTS":    "1000",
		"TANDEM_WORKERS":           "false",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ListenAddr", c.ListenAddr, ":9000"},
		{"BaseURL", c.BaseURL, "http://coach.internal:9000"},
		{"SQLitePath", c.SQLitePath(), "/var/lib/tandem/tandem.db"},
		{"UsesPostgres", c.UsesPostgres(), true},
		{"LogLevel", c.LogLevel, slog.LevelDebug},
		{"ShutdownTimeout", c.ShutdownTimeout, 90 * time.Second},
		{"RequestTimeout", c.RequestTimeout, 2500 * time.Millisecond},
		{"InvitationTTL", c.InvitationTTL, 48 * time.Hour},
		{"BodyLimit", c.BodyLimit, "512K"},
		{"DailyInvitations", c.DailyInvitations, 5},
		{"DailyConsents", c.DailyConsents, 1000},
		{"Workers", c.Workers, false},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	wantProxies := []netip.Prefix{
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("fd00::/8"),
	}
	if !slices.Equal(c.TrustedProxies, wantProxies) {
		t.Errorf("TrustedProxies = %v, want %v", c.TrustedProxies, wantProxies)
	}
	if len(c.SigningKeys) != 2 || c.SigningKeys[0].ID != "a" || c.SigningKeys[1].ID != "b" {
		t.Fatalf("SigningKeys = %v, want a then b", c.SigningKeys)
	}
	// Both standard and URL-safe base64 seeds decode to the key they name.
	for i, seed := range [][]byte{seed1, seed2} {
		if got, want := c.SigningKeys[i].PrivateKey(), ed25519.NewKeyFromSeed(seed); !got.Equal(want) {
			t.Errorf("SigningKeys[%d].PrivateKey() is not the key of its seed", i)
		}
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name  string
		key   string
		value string
	}{
		{"unknown env", "TANDEM_ENV", "staging"},
		{"env in capitals", "TANDEM_ENV", "Production"},
		{"listen addr without port", "TANDEM_LISTEN_ADDR", "127.0.0.1"},
		{"listen addr not an address", "TANDEM_LISTEN_ADDR", "everywhere"},
		{"listen port out of range", "TANDEM_LISTEN_ADDR", "127.0.0.1:70000"},
		{"base URL ftp", "TANDEM_BASE_URL", "ftp://coach.example.com"},
		{"base URL without scheme", "TANDEM_BASE_URL", "coach.example.com"},
		{"base URL without host", "TANDEM_BASE_URL", "https://"},
		{"base URL relative", "TANDEM_BASE_URL", "/tandem"},
		{"database mysql", "TANDEM_DATABASE_URL", "mysql://tandem:pw@db/tandem"},
		{"database sqlite", "TANDEM_DATABASE_URL", "sqlite:///var/lib/tandem.db"},
		{"database unparsable", "TANDEM_DATABASE_URL", "postgres://[::1"},
		{"key without colon", "TANDEM_JWT_SIGNING_KEYS", "k1" + seed1Std},
		{"key without kid", "TANDEM_JWT_SIGNING_KEYS", ":" + seed1Std},
		{"key seed not base64", "TANDEM_JWT_SIGNING_KEYS", "k1:%%%%"},
		{"key seed short", "TANDEM_JWT_SIGNING_KEYS", "k1:" + short},
		{"key seed empty", "TANDEM_JWT_SIGNING_KEYS", "k1:"},
		{"key kid twice", "TANDEM_JWT_SIGNING_KEYS", "k1:" + seed1Std + ",k1:" + seed2URL},
		{"smtp http scheme", "TANDEM_SMTP_URL", "http://smtp.example.com"},
		{"smtp without host", "TANDEM_SMTP_URL", "smtp://"},
		{"smtp bare host", "TANDEM_SMTP_URL", "smtp.example.com:587"},
		{"proxy not an address", "TANDEM_TRUSTED_PROXIES", "proxy.internal"},
		{"proxy prefix too long", "TANDEM_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"one bad proxy among good ones", "TANDEM_TRUSTED_PROXIES", "10.0.0.1, nope, 10.0.0.2"},
		{"log level", "TANDEM_LOG_LEVEL", "verbose"},
		{"shutdown timeout not a duration", "TANDEM_SHUTDOWN_TIMEOUT", "soon"},
		{"shutdown timeout without unit", "TANDEM_SHUTDOWN_TIMEOUT", "20"},
		{"shutdown timeout zero", "TANDEM_SHUTDOWN_TIMEOUT", "0s"},
		{"shutdown timeout negative", "TANDEM_SHUTDOWN_TIMEOUT", "-5s"},
		{"invitation TTL in days", "TANDEM_INVITATION_TTL", "7d"},
		{"request timeout not a duration", "TANDEM_REQUEST_TIMEOUT", "ten seconds"},
		{"request timeout without unit", "TANDEM_REQUEST_TIMEOUT", "10"},
		{"request timeout zero", "TANDEM_REQUEST_TIMEOUT", "0s"},
		{"request timeout negative", "TANDEM_REQUEST_TIMEOUT", "-10s"},
		{"request timeout too short for the database", "TANDEM_REQUEST_TIMEOUT", "500ms"},
		{"request timeout past the write timeout", "TANDEM_REQUEST_TIMEOUT", "2m"},
		{"body limit", "TANDEM_BODY_LIMIT", "big"},
		{"daily invitations zero", "TANDEM_DAILY_INVITATIONS", "0"},
		{"daily invitations not a number", "TANDEM_DAILY_INVITATIONS", "many"},
		{"daily consents negative", "TANDEM_DAILY_CONSENTS", "-1"},
		{"workers not a boolean", "TANDEM_WORKERS", "sometimes"},
		{"replica without a primary", "TANDEM_DATABASE_REPLICA_URL", "postgres://replica.internal/tandem"},
		{"replica lag not a duration", "TANDEM_DATABASE_REPLICA_MAX_LAG", "a little"},
		{"reminder interval too short", "TANDEM_REMINDER_INTERVAL", "10s"},
		{"reminder interval too long", "TANDEM_REMINDER_INTERVAL", "2h"},
		{"job rescue too soon", "TANDEM_JOB_RESCUE_AFTER", "30s"},
		{"job rescue too late", "TANDEM_JOB_RESCUE_AFTER", "25h"},
		{"job rescue not a duration", "TANDEM_JOB_RESCUE_AFTER", "soon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(getenv(map[string]string{tt.key: tt.value}))
			lines := problems(t, err)
			if got := vars(lines); !slices.Equal(got, []string{tt.key}) {
				t.Errorf("problems name %v, want exactly [%s]; error:\n%v", got, tt.key, err)
			}
			if c.Env != "" || c.ListenAddr != "" {
				t.Errorf("Load returned a partly filled config with its error: %+v", c)
			}
		})
	}
}

func TestLoadListsEveryProblem(t *testing.T) {
	_, err := config.Load(getenv(map[string]string{
		"TANDEM_ENV":       "qa",
		"TANDEM_LOG_LEVEL": "loud",
		"TANDEM_SMTP_URL":  "mail",
	}))
	want := []string{"TANDEM_ENV", "TANDEM_SMTP_URL", "TANDEM_LOG_LEVEL"}
	if got := vars(problems(t, err)); !slices.Equal(got, want) {
		t.Errorf("problems name %v, want %v", got, want)
	}
}

// TestLoadErrorsKeepSecrets: a rejected value may still be a real secret, so
// the error (which is printed) must not repeat it.
func TestLoadErrorsKeepSecrets(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 16))
	env := map[string]string{
		"TANDEM_DATABASE_URL":     "mysql://tandem:" + dbPassword + "@db/tandem",
		"TANDEM_JWT_SIGNING_KEYS": "k1:" + seed1Std + ",k2:" + short + ",k1:" + seed2URL,
		"TANDEM_SMTP_URL":         "http://mailer:" + smtpPassword + "@smtp.example.com",
	}
	_, err := config.Load(getenv(env))
	if got, want := vars(problems(t, err)), []string{"TANDEM_DATABASE_URL", "TANDEM_JWT_SIGNING_KEYS", "TANDEM_SMTP_URL"}; !slices.Equal(got, want) {
		t.Errorf("problems name %v, want %v", got, want)
	}
	for _, secret := range []string{dbPassword, smtpPassword, seed1Std, seed2URL, short} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error reveals secret %q:\n%v", secret, err)
		}
	}
}

func TestLoadProductionRefusesDevelopmentDefaults(t *testing.T) {
	_, err := config.Load(getenv(map[string]string{"TANDEM_ENV": "production"}))
	want := []string{
		"TANDEM_DATABASE_URL",
		"TANDEM_JWT_SIGNING_KEYS",
		"TANDEM_NOTE_KEYS",
		"TANDEM_SMTP_URL",
		"TANDEM_BASE_URL",
		"TANDEM_TRUSTED_PROXIES",
	}
	lines := problems(t, err)
	if got := vars(lines); !slices.Equal(got, want) {
		t.Errorf("production with nothing set: problems name %v, want %v", got, want)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "TANDEM_BASE_URL") && !strings.Contains(l, "https://") {
			t.Errorf("base URL problem %q should ask for https://", l)
		}
	}
}

func TestLoadProductionNamesTheMissingSetting(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]string
		want      string
	}{
		{"no database", map[string]string{"TANDEM_DATABASE_URL": ""}, "TANDEM_DATABASE_URL"},
		{"no signing keys", map[string]string{"TANDEM_JWT_SIGNING_KEYS": ""}, "TANDEM_JWT_SIGNING_KEYS"},
		{"no note keys", map[string]string{"TANDEM_NOTE_KEYS": ""}, "TANDEM_NOTE_KEYS"},
		{"malformed note key", map[string]string{"TANDEM_NOTE_KEYS": "n1:short"}, "TANDEM_NOTE_KEYS"},
		{"signing keys only commas", map[string]string{"TANDEM_JWT_SIGNING_KEYS": " , "}, "TANDEM_JWT_SIGNING_KEYS"},
		{"no SMTP", map[string]string{"TANDEM_SMTP_URL": ""}, "TANDEM_SMTP_URL"},
		{"no base URL", map[string]string{"TANDEM_BASE_URL": ""}, "TANDEM_BASE_URL"},
		{"http base URL", map[string]string{"TANDEM_BASE_URL": "http://coach.example.com"}, "TANDEM_BASE_URL"},
		{"no trusted proxies", map[string]string{"TANDEM_TRUSTED_PROXIES": ""}, "TANDEM_TRUSTED_PROXIES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(getenv(production(tt.overrides)))
			if got := vars(problems(t, err)); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("problems name %v, want exactly [%s]", got, tt.want)
			}
		})
	}
}

func TestLoadProduction(t *testing.T) {
	c, err := config.Load(getenv(production(nil)))
	if err != nil {
		t.Fatalf("Load(complete production config): %v", err)
	}
	if !c.Production() || !c.UsesPostgres() {
		t.Errorf("Production() = %v, UsesPostgres() = %v; want both true", c.Production(), c.UsesPostgres())
	}
	if c.BaseURL != "https://coach.example.com" {
		t.Errorf("BaseURL = %q, want the trailing slash trimmed", c.BaseURL)
	}
	if got := c.DatabaseURL.Reveal(); !strings.Contains(got, dbPassword) {
		t.Errorf("DatabaseURL.Reveal() = %q, want the configured URL", got)
	}
	if len(c.SigningKeys) != 2 || c.SigningKeys[0].ID != "k2" || c.SigningKeys[1].ID != "k1" {
		t.Errorf("SigningKeys = %v, want k2 (signing) then k1", c.SigningKeys)
	}
	if len(c.TrustedProxies) != 2 {
		t.Errorf("TrustedProxies = %v, want 2", c.TrustedProxies)
	}
}

func TestSecret(t *testing.T) {
	const value = "s3cret-Value"
	s := config.Secret(value)
	if s.Reveal() != value {
		t.Errorf("Reveal() = %q, want %q", s.Reveal(), value)
	}
	if got := config.Secret("").String(); got != "" {
		t.Errorf("empty secret prints %q, want nothing", got)
	}
	for _, format := range []string{"%v", "%s", "%+v", "%#v", "%q", "%x", "%d", "%10s", "%-v"} {
		out := fmt.Sprintf(format, s)
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Errorf("fmt %s of a Secret prints %q", format, out)
		}
	}
	for _, tt := range []struct{ format, want string }{
		{"%v", "********"},
		{"%s", "********"},
		{"%10s", "  ********"}, // flags apply to the mask
		{"%q", `"********"`},
	} {
		if got := fmt.Sprintf(tt.format, s); got != tt.want {
			t.Errorf("fmt %s of a Secret = %q, want %q", tt.format, got, tt.want)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", slog.Any("secret", s), "plain", s)
	if strings.Contains(buf.String(), value) || strings.Count(buf.String(), "********") != 2 {
		t.Errorf("slog output %q should show the secret masked twice", buf.String())
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	c, err := config.Load(getenv(production(nil)))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{dbPassword, smtpPassword, seed1Std, seed2URL, noteKeyStd,
		strings.Trim(fmt.Sprint(noteKey), "[]"), fmt.Sprintf("%x", noteKey), string(noteKey)}

	var jsonOut bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonOut, nil)).Info("starting", slog.Any("config", c), slog.Any("config_ptr", &c))
	var textOut bytes.Buffer
	slog.New(slog.NewTextHandler(&textOut, nil)).Info("starting", slog.Any("config", c))
	outputs := map[string]string{
		"slog JSON": jsonOut.String(),
		"slog text": textOut.String(),
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		outputs["fmt "+format+" config"] = fmt.Sprintf(format, c)
		outputs["fmt "+format+" database URL"] = fmt.Sprintf(format, c.DatabaseURL)
		outputs["fmt "+format+" SMTP URL"] = fmt.Sprintf(format, c.SMTPURL)
		outputs["fmt "+format+" signing keys"] = fmt.Sprintf(format, c.SigningKeys)
	}
	for name, out := range outputs {
		for _, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Errorf("%s reveals %q:\n%s", name, secret, out)
			}
		}
	}

	// The log still says what the configuration is.
	var entry struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(jsonOut.String(), "\n", 2)[0]), &entry); err != nil {
		t.Fatalf("slog JSON: %v", err)
	}
	want := map[string]any{
		"env":             "production",
		"listen_addr":     "0.0.0.0:8080",
		"database":        "postgres://db.internal:5432/tandem",
		"base_url":        "https://coach.example.com",
		"signing_key_ids": "k2,k1",
		"smtp":            true,
		"trusted_proxies": float64(2),
	}
	for k, v := range want {
		if entry.Config[k] != v {
			t.Errorf("logged config %s = %v, want %v", k, entry.Config[k], v)
		}
	}
}

// TestLoadNeedsBaseURLOnAllInterfaces: links built from 0.0.0.0 or an empty
// host would be unusable, so such a listen address needs TANDEM_BASE_URL.
func TestLoadNeedsBaseURLOnAllInterfaces(t *testing.T) {
	for _, addr := range []string{":9000", "0.0.0.0:8080", "[::]:8080"} {
		_, err := config.Load(getenv(map[string]string{"TANDEM_LISTEN_ADDR": addr}))
		if got := vars(problems(t, err)); !slices.Equal(got, []string{"TANDEM_BASE_URL"}) {
			t.Errorf("listen %s without a base URL: problems name %v, want [TANDEM_BASE_URL]", addr, got)
		}
	}
	c, err := config.Load(getenv(map[string]string{"TANDEM_LISTEN_ADDR": "127.0.0.1:9001"}))
	if err != nil || c.BaseURL != "http://127.0.0.1:9001" {
		t.Fatalf("base URL from a named listen host = %q, %v", c.BaseURL, err)
	}
}
