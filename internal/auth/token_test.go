package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
)

const (
	testIssuer   = "tandem"
	testAudience = "tandem-api"
	leeway       = 30 * time.Second
)

// epoch is a whole second, so JWT NumericDates (whole seconds) are exact.
var epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newKey(t *testing.T, id string) auth.SigningKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return auth.SigningKey{ID: id, Key: priv}
}

func newTokens(t *testing.T, clk clock.Clock, keys ...auth.SigningKey) *auth.Tokens {
	t.Helper()
	tokens, err := auth.NewTokens(keys, testIssuer, testAudience, clk)
	if err != nil {
		t.Fatalf("NewTokens: %v", err)
	}
	return tokens
}

// wantValid asserts that raw verifies and names user and session.
func wantValid(t *testing.T, tokens *auth.Tokens, raw string, user, session uuid.UUID) {
	t.Helper()
	gotUser, gotSession, err := tokens.Verify(raw)
	if err != nil {
		t.Fatalf("Verify = %v, want a valid token", err)
	}
	if gotUser != user || gotSession != session {
		t.Errorf("Verify = user %s, session %s; want %s, %s", gotUser, gotSession, user, session)
	}
}

// wantInvalid asserts that raw is refused with ErrInvalidToken and nil IDs.
func wantInvalid(t *testing.T, tokens *auth.Tokens, raw string) {
	t.Helper()
	user, session, err := tokens.Verify(raw)
	if !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("Verify(%.80q) error = %v, want ErrInvalidToken", raw, err)
	}
	if err != nil && err.Error() != auth.ErrInvalidToken.Error() {
		t.Errorf("Verify error %q tells more than ErrInvalidToken", err)
	}
	if user != uuid.Nil || session != uuid.Nil {
		t.Errorf("Verify returned user %s, session %s with an invalid token; want nil IDs", user, session)
	}
}

func TestIssueAndVerify(t *testing.T) {
	clk := clock.NewManual(epoch)
	key := newKey(t, "k1")
	tokens := newTokens(t, clk, key)
	user, session := uuid.New(), uuid.New()

	raw, err := tokens.Issue(user, session)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	wantValid(t, tokens, raw, user, session)

	// The token says what it is, by standard claims only.
	var claims auth.AccessClaims
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &claims)
	if err != nil {
		t.Fatalf("ParseUnverified: %v", err)
	}
	for name, want := range map[string]string{"alg": "EdDSA", "typ": "at+jwt", "kid": "k1"} {
		if got := tok.Header[name]; got != want {
			t.Errorf("header %s = %v, want %q", name, got, want)
		}
	}
	if claims.Issuer != testIssuer || claims.Subject != user.String() || claims.SessionID != session.String() {
		t.Errorf("iss, sub, sid = %q, %q, %q; want %q, %q, %q",
			claims.Issuer, claims.Subject, claims.SessionID, testIssuer, user, session)
	}
	if len(claims.Audience) != 1 || claims.Audience[0] != testAudience {
		t.Errorf("aud = %v, want [%s]", claims.Audience, testAudience)
	}
	for name, tc := range map[string]struct {
		got  *jwt.NumericDate
		want time.Time
	}{
		"iat": {claims.IssuedAt, epoch},
		"nbf": {claims.NotBefore, epoch},
		"exp": {claims.ExpiresAt, epoch.Add(auth.AccessTokenTTL)},
	} {
		if tc.got == nil || !tc.got.Equal(tc.want) {
			t.Errorf("%s = %v, want %v", name, tc.got, tc.want)
		}
	}
	if _, err := uuid.Parse(claims.ID); err != nil {
		t.Errorf("jti = %q, want a UUID", claims.ID)
	}

	again, err := tokens.Issue(user, session)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if again == raw {
		t.Error("two tokens issued at the same instant are identical; jti should differ")
	}
}

func TestVerifyExpiry(t *testing.T) {
	tests := []struct {
		after time.Duration
		valid bool
	}{
		{0, true},
		{auth.AccessTokenTTL, true},
		{auth.AccessTokenTTL + 10*time.Second, true},
		{auth.AccessTokenTTL + leeway - time.Second, true},
		{auth.AccessTokenTTL + leeway, false},
		{auth.AccessTokenTTL + leeway + time.Second, false},
		{24 * time.Hour, false},
	}
	// A token verified before is remembered; its window is checked all the same.
	for _, verifiedBefore := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%v/verified before %v", tt.after, verifiedBefore), func(t *testing.T) {
				clk := clock.NewManual(epoch)
				tokens := newTokens(t, clk, newKey(t, "k1"))
				user, session := uuid.New(), uuid.New()
				raw, err := tokens.Issue(user, session)
				if err != nil {
					t.Fatalf("Issue: %v", err)
				}
				if verifiedBefore {
					wantValid(t, tokens, raw, user, session)
				}
				clk.Advance(tt.after)
				if tt.valid {
					wantValid(t, tokens, raw, user, session)
				} else {
					wantInvalid(t, tokens, raw)
				}
			})
		}
	}
}

// claims returns the claims of a good access token issued at now, as a map
// so that a test can change or drop any of them.
func claims(now time.Time, user, session uuid.UUID) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer,
		"sub": user.String(),
		"aud": testAudience,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(auth.AccessTokenTTL).Unix(),
		"jti": uuid.NewString(),
		"sid": session.String(),
	}
}

// sign signs c with method and key, with the given kid and typ headers
// (omitted when nil).
func sign(t *testing.T, method jwt.SigningMethod, key any, kid, typ any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	delete(tok.Header, "typ")
	if kid != nil {
		tok.Header["kid"] = kid
	}
	if typ != nil {
		tok.Header["typ"] = typ
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign with %s: %v", method.Alg(), err)
	}
	return raw
}

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// nonCanonical returns seg (unpadded base64url of a length that leaves spare
// bits in its last character) with those spare bits set: lenient decoders read
// it as the same bytes, strict ones refuse it.
func nonCanonical(t *testing.T, seg string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 != 2 {
		t.Fatalf("segment length %d leaves no spare bits to set", len(seg))
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	out := seg[:len(seg)-1] + string(alphabet[last|0x0f])
	lenient, err := base64.RawURLEncoding.DecodeString(out)
	orig, _ := base64.RawURLEncoding.DecodeString(seg)
	if err != nil || string(lenient) != string(orig) || out == seg {
		t.Fatalf("could not make a non-canonical spelling of %q", seg)
	}
	return out
}

func with(c jwt.MapClaims, key string, value any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	if value == nil {
		delete(out, key)
	} else {
		out[key] = value
	}
	return out
}

// TestVerifyAttacks runs forged and malformed tokens against Verify. The
// first case is a hand-built token that must verify, which shows that the
// forging helpers make tokens Verify would accept but for the one flaw each
// other case introduces.
func TestVerifyAttacks(t *testing.T) {
	clk := clock.NewManual(epoch)
	key := newKey(t, "k1")
	tokens := newTokens(t, clk, key)
	pub := key.Key.Public().(ed25519.PublicKey)
	user, session := uuid.New(), uuid.New()
	good := claims(epoch, user, session)
	eddsa := jwt.SigningMethodEdDSA

	issued, err := tokens.Issue(user, session)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	issuedParts := strings.Split(issued, ".")
	otherKey := newKey(t, "k1") // same kid, different key
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	opaque, _ := auth.NewOpaqueToken()

	noneJWT := func(alg string) string {
		header := map[string]any{"alg": alg, "typ": "at+jwt", "kid": "k1"}
		return b64JSON(t, header) + "." + b64JSON(t, good) + "."
	}
	libNone := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, good)
		tok.Header["kid"] = "k1"
		tok.Header["typ"] = "at+jwt"
		raw, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	padded := with(good, "pad", strings.Repeat("x", 10*1024))

	tests := []struct {
		name  string
		raw   string
		valid bool
	}{
		{"control: hand-built good token", sign(t, eddsa, key.Key, "k1", "at+jwt", good), true},
		{"control: 1 kB of extra claims", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "pad", strings.Repeat("x", 1024))), true},
		{"control: nbf within leeway", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "nbf", epoch.Add(20*time.Second).Unix())), true},
		{"control: iat within leeway", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "iat", epoch.Add(20*time.Second).Unix())), true},
		{"control: no nbf", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "nbf", nil)), true},

		{"alg none via the library", libNone(), false},
		{"alg none", noneJWT("none"), false},
		{"alg None", noneJWT("None"), false},
		{"alg NONE", noneJWT("NONE"), false},
		{"alg nOnE", noneJWT("nOnE"), false},
		{"alg none with the real signature", b64JSON(t, map[string]any{"alg": "none", "typ": "at+jwt", "kid": "k1"}) +
			"." + issuedParts[1] + "." + issuedParts[2], false},
		{"no alg", b64JSON(t, map[string]any{"typ": "at+jwt", "kid": "k1"}) + "." + issuedParts[1] + "." + issuedParts[2], false},
		{"HS256 with another secret", sign(t, jwt.SigningMethodHS256, []byte("some-other-secret-of-32-bytes!!!"), "k1", "at+jwt", good), false},
		{"HS256 with the public key as secret", sign(t, jwt.SigningMethodHS256, []byte(pub), "k1", "at+jwt", good), false},
		{"HS512 with the public key as secret", sign(t, jwt.SigningMethodHS512, []byte(pub), "k1", "at+jwt", good), false},
		{"RS256", sign(t, jwt.SigningMethodRS256, rsaKey, "k1", "at+jwt", good), false},
		{"different Ed25519 key, same kid", sign(t, eddsa, otherKey.Key, "k1", "at+jwt", good), false},
		{"payload swapped under a real signature", issuedParts[0] + "." +
			b64JSON(t, with(good, "sub", uuid.NewString())) + "." + issuedParts[2], false},
		{"signature removed", issuedParts[0] + "." + issuedParts[1] + ".", false},
		// The same signature bytes, spelled with non-zero padding bits.
		{"signature in non-canonical base64", issuedParts[0] + "." + issuedParts[1] + "." + nonCanonical(t, issuedParts[2]), false},

		{"missing exp", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "exp", nil)), false},
		{"exp as a string", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "exp", "tomorrow")), false},
		{"expired", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "exp", epoch.Add(-leeway-time.Second).Unix())), false},
		{"wrong iss", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "iss", "someone-else")), false},
		{"missing iss", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "iss", nil)), false},
		{"wrong aud", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "aud", "another-api")), false},
		{"missing aud", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "aud", nil)), false},
		{"nbf beyond leeway", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "nbf", epoch.Add(leeway+time.Second).Unix())), false},
		{"nbf an hour ahead", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "nbf", epoch.Add(time.Hour).Unix())), false},
		{"iat beyond leeway", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "iat", epoch.Add(leeway+time.Second).Unix())), false},
		{"iat an hour ahead", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "iat", epoch.Add(time.Hour).Unix())), false},

		{"unknown kid", sign(t, eddsa, key.Key, "k2", "at+jwt", good), false},
		{"missing kid", sign(t, eddsa, key.Key, nil, "at+jwt", good), false},
		{"empty kid", sign(t, eddsa, key.Key, "", "at+jwt", good), false},
		{"kid not a string", sign(t, eddsa, key.Key, 1, "at+jwt", good), false},
		{"missing typ", sign(t, eddsa, key.Key, "k1", nil, good), false},
		{"typ JWT", sign(t, eddsa, key.Key, "k1", "JWT", good), false},
		{"typ refresh", sign(t, eddsa, key.Key, "k1", "refresh+jwt", good), false},

		{"sub not a UUID", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "sub", "alice")), false},
		{"missing sub", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "sub", nil)), false},
		{"sid not a UUID", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "sid", "1")), false},
		{"missing sid", sign(t, eddsa, key.Key, "k1", "at+jwt", with(good, "sid", nil)), false},

		{"10 kB token", sign(t, eddsa, key.Key, "k1", "at+jwt", padded), false},
		{"empty string", "", false},
		{"garbage", "not a token at all", false},
		{"three dots", "...", false},
		{"two empty segments", "..", false},
		{"opaque refresh token", opaque, false},
		{"issued token with trailing dot", issued + ".", false},
		{"issued token with padding", issued + "=", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.valid {
				wantValid(t, tokens, tt.raw, user, session)
			} else {
				wantInvalid(t, tokens, tt.raw)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	clk := clock.NewManual(epoch)
	oldKey, nextKey := newKey(t, "old"), newKey(t, "new")
	before := newTokens(t, clk, oldKey)          // before rotation
	during := newTokens(t, clk, nextKey, oldKey) // new key signs, old still verifies
	after := newTokens(t, clk, nextKey)          // old key dropped
	user, session := uuid.New(), uuid.New()

	oldToken, err := before.Issue(user, session)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	newToken, err := during.Issue(user, session)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(newToken, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if kid := tok.Header["kid"]; kid != "new" {
		t.Errorf("during rotation, tokens are signed with kid %v, want the first key, new", kid)
	}

	wantValid(t, during, oldToken, user, session)
	wantValid(t, during, newToken, user, session)
	wantValid(t, after, newToken, user, session)
	wantInvalid(t, after, oldToken)
	wantInvalid(t, before, newToken)
}

func TestNewTokensRejectsBadKeys(t *testing.T) {
	good := newKey(t, "k1")
	tests := []struct {
		name string
		keys []auth.SigningKey
	}{
		{"no keys", nil},
		{"empty kid", []auth.SigningKey{{ID: "", Key: good.Key}}},
		{"short key", []auth.SigningKey{{ID: "k1", Key: good.Key[:32]}}},
		{"nil key", []auth.SigningKey{{ID: "k1"}}},
		{"bad second key", []auth.SigningKey{good, {ID: "k2", Key: good.Key[:10]}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, err := auth.NewTokens(tt.keys, testIssuer, testAudience, clock.NewManual(epoch))
			if err == nil || tokens != nil {
				t.Errorf("NewTokens = %v, %v; want nil and an error", tokens, err)
			}
		})
	}
}
