package httpapi_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// unverifiedClaims reads a token's claims without checking anything, the
// way an attacker can read any token they hold.
func unverifiedClaims(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatalf("parse %q: %v", token, err)
	}
	return claims
}

// forger builds access tokens for one real user and session.
type forger struct {
	t        *testing.T
	key      ed25519.PrivateKey
	sub, sid string
	now      time.Time
}

// claims are correct access token claims; each attack changes some.
func (f forger) claims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": "tandem",
		"aud": []string{"tandem-api"},
		"sub": f.sub,
		"sid": f.sid,
		"iat": f.now.Unix(),
		"nbf": f.now.Unix(),
		"exp": f.now.Add(10 * time.Minute).Unix(),
		"jti": uuid.NewString(),
	}
}

// sign signs claims with method and key under the right kid and typ, after
// applying header changes (a nil value deletes the header).
func (f forger) sign(method jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	f.t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = "test-1"
	tok.Header["typ"] = "at+jwt"
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		f.t.Fatalf("sign: %v", err)
	}
	return s
}

func (f forger) edDSA(claims jwt.MapClaims, header map[string]any) string {
	return f.sign(jwt.SigningMethodEdDSA, f.key, claims, header)
}

// unsigned builds header.claims. with no signature, for alg "none" in any spelling.
func (f forger) unsigned(alg string) string {
	f.t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			f.t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": alg, "typ": "at+jwt", "kid": "test-1"}) + "." + enc(f.claims()) + "."
}

func without(c jwt.MapClaims, names ...string) jwt.MapClaims {
	for _, n := range names {
		delete(c, n)
	}
	return c
}

func with(c jwt.MapClaims, name string, v any) jwt.MapClaims {
	c[name] = v
	return c
}

func TestAccessTokenAttacks(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	victim := env.register("ada@example.com")
	other := env.register("ben@example.com")
	claims := unverifiedClaims(t, victim.AccessToken)
	f := forger{t: t, key: env.key.Key, sub: claims["sub"].(string), sid: claims["sid"].(string), now: env.clock.Now()}

	// A valid token of a session that was logged out since.
	ended := env.login("ada@example.com", goodPassword).tokens(t, http.StatusOK)
	env.logout(ended.RefreshToken).want(t, http.StatusNoContent)

	public := env.key.Key.Public().(ed25519.PublicKey)
	pkix, err := x509.MarshalPKIXPublicKey(public)
	if err != nil {
		t.Fatal(err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	strangerKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	forged := f.edDSA(f.claims(), nil)
	parts := strings.Split(forged, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(
		[]byte(`{"iss":"tandem","aud":["tandem-api"],"sub":"`+unverifiedClaims(t, other.AccessToken)["sub"].(string)+`","sid":"`+f.sid+`"}`)) + "." + parts[2]

	// The control case: a token forged correctly with the real key works, so
	// every refusal below is down to the one thing each case changes.
	env.do(request{method: "GET", path: "/api/v1/me", token: forged}).want(t, http.StatusOK)

	attacks := []struct {
		name          string
		authorization string
	}{
		{"alg none", "Bearer " + f.unsigned("none")},
		{"alg None", "Bearer " + f.unsigned("None")},
		{"alg NONE", "Bearer " + f.unsigned("NONE")},
		{"alg nOnE", "Bearer " + f.unsigned("nOnE")},
		{"alg none with the real signature", "Bearer " + strings.Join([]string{
			base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt","kid":"test-1"}`)), parts[1], parts[2]}, ".")},
		{"HS256 with another key", "Bearer " + f.sign(jwt.SigningMethodHS256, []byte("a shared secret nobody should trust"), f.claims(), nil)},
		{"HS256 keyed with the Ed25519 public key", "Bearer " + f.sign(jwt.SigningMethodHS256, []byte(public), f.claims(), nil)},
		{"HS256 keyed with the public key PEM", "Bearer " + f.sign(jwt.SigningMethodHS256, publicPEM, f.claims(), nil)},
		{"EdDSA with a stranger's key", "Bearer " + f.sign(jwt.SigningMethodEdDSA, strangerKey, f.claims(), nil)},
		{"payload tampered after signing", "Bearer " + tampered},
		{"missing exp", "Bearer " + f.edDSA(without(f.claims(), "exp"), nil)},
		{"expired exp", "Bearer " + f.edDSA(with(f.claims(), "exp", f.now.Add(-time.Minute).Unix()), nil)},
		{"wrong aud", "Bearer " + f.edDSA(with(f.claims(), "aud", []string{"tandem-admin"}), nil)},
		{"missing aud", "Bearer " + f.edDSA(without(f.claims(), "aud"), nil)},
		{"wrong iss", "Bearer " + f.edDSA(with(f.claims(), "iss", "evil"), nil)},
		{"missing iss", "Bearer " + f.edDSA(without(f.claims(), "iss"), nil)},
		{"future nbf", "Bearer " + f.edDSA(with(f.claims(), "nbf", f.now.Add(5*time.Minute).Unix()), nil)},
		{"future iat", "Bearer " + f.edDSA(with(f.claims(), "iat", f.now.Add(5*time.Minute).Unix()), nil)},
		{"unknown kid", "Bearer " + f.edDSA(f.claims(), map[string]any{"kid": "test-2"})},
		{"no kid", "Bearer " + f.edDSA(f.claims(), map[string]any{"kid": nil})},
		{"typ JWT", "Bearer " + f.edDSA(f.claims(), map[string]any{"typ": "JWT"})},
		{"no typ", "Bearer " + f.edDSA(f.claims(), map[string]any{"typ": nil})},
		{"unknown session", "Bearer " + f.edDSA(with(f.claims(), "sid", uuid.Must(uuid.NewV7()).String()), nil)},
		{"no session", "Bearer " + f.edDSA(without(f.claims(), "sid"), nil)},
		{"session of another user", "Bearer " + f.edDSA(with(f.claims(), "sub", unverifiedClaims(t, other.AccessToken)["sub"]), nil)},
		{"subject not a UUID", "Bearer " + f.edDSA(with(f.claims(), "sub", "admin"), nil)},
		{"refresh token as access token", "Bearer " + victim.RefreshToken},
		{"10 kB token", "Bearer " + f.edDSA(with(f.claims(), "pad", strings.Repeat("x", 10<<10)), nil)},
		{"garbage", "Bearer not.a.jwt"},
		{"Bearer with empty token", "Bearer "},
		{"Bearer alone", "Bearer"},
		{"wrong scheme Basic", "Basic " + base64.StdEncoding.EncodeToString([]byte("ada@example.com:"+goodPassword))},
		{"valid token under scheme Basic", "Basic " + victim.AccessToken},
		{"valid token without scheme", victim.AccessToken},
		{"no Authorization header", ""},
		{"token of a logged-out session", "Bearer " + ended.AccessToken},
	}
	for _, tt := range attacks {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(request{method: "GET", path: "/api/v1/me", headers: map[string]string{"Authorization": tt.authorization}})
			r.problem(t, http.StatusUnauthorized)
			if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") {
				t.Fatalf("WWW-Authenticate = %q, want a Bearer challenge", h)
			}
		})
	}

	// The victim's own tokens still work: no attack disturbed the session.
	env.me(victim.AccessToken).want(t, http.StatusOK)
	env.do(request{method: "GET", path: "/api/v1/me", token: forged}).want(t, http.StatusOK)
}
