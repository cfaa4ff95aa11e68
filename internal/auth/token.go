package auth

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/clock"
)

// AccessTokenTTL is how long an access token is valid.
const AccessTokenTTL = 15 * time.Minute

// maxTokenLength refuses absurd tokens before any parsing work.
const maxTokenLength = 4096

// tokenType marks Tandem access tokens (RFC 9068), so that no other JWT the
// keys might ever sign is accepted as one.
const tokenType = "at+jwt"

// ErrInvalidToken is returned for every token that does not verify. The
// reason is deliberately not told to the caller.
var ErrInvalidToken = errors.New("invalid access token")

// SigningKey is one named Ed25519 key.
type SigningKey struct {
	ID  string
	Key ed25519.PrivateKey
}

// Tokens issues and verifies access tokens. The first key signs; every key
// verifies, looked up by the token's kid in this allowlist only, so keys can
// be rotated by adding a new first key and later dropping the old one.
type Tokens struct {
	signing  SigningKey
	verify   map[string]ed25519.PublicKey
	issuer   string
	audience string
	clock    clock.Clock
	verified verifiedCache
}

// NewTokens returns a token issuer and verifier.
func NewTokens(keys []SigningKey, issuer, audience string, clk clock.Clock) (*Tokens, error) {
	if len(keys) == 0 {
		return nil, errors.New("no signing key")
	}
	t := &Tokens{signing: keys[0], verify: map[string]ed25519.PublicKey{}, issuer: issuer, audience: audience, clock: clk,
		verified: verifiedCache{entries: map[[sha256.Size]byte]verifiedToken{}}}
	for _, k := range keys {
		if len(k.Key) != ed25519.PrivateKeySize || k.ID == "" {
			return nil, fmt.Errorf("signing key %q is not a valid Ed25519 key", k.ID)
		}
		t.verify[k.ID] = k.Key.Public().(ed25519.PublicKey)
	}
	return t, nil
}

// AccessClaims are the claims of a Tandem access token. The subject is the
// user; sid names the sign-in session, which must still be live.
type AccessClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
}

// Issue returns a signed access token for the user's session.
func (t *Tokens) Issue(userID, sessionID uuid.UUID) (string, error) {
	now := t.clock.Now()
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   userID.String(),
			Audience:  jwt.ClaimStrings{t.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(AccessTokenTTL)),
			ID:        uuid.NewString(),
		},
		SessionID: sessionID.String(),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = t.signing.ID
	tok.Header["typ"] = tokenType
	return tok.SignedString(t.signing.Key)
}

// Verify checks an access token completely: size, algorithm (EdDSA only),
// key ID, signature, type, issuer, audience, expiry (required), not-before
// and issued-at with at most 30 seconds of leeway. It returns the user and
// session IDs.
//
// A token that verified once is remembered (by its SHA-256, never the token
// itself) with its validity window, so its next requests skip the parsing
// and the Ed25519 check: what a token says can never change, only whether
// it is still within its window, which is checked on every call. Whether
// its session is still live is not the token's to say: the caller checks
// that on every request.
func (t *Tokens) Verify(raw string) (userID, sessionID uuid.UUID, err error) {
	if raw == "" || len(raw) > maxTokenLength {
		return uuid.Nil, uuid.Nil, ErrInvalidToken
	}
	key := sha256.Sum256([]byte(raw))
	if v, ok := t.verified.get(key); ok {
		if !v.validAt(t.clock.Now()) {
			return uuid.Nil, uuid.Nil, ErrInvalidToken
		}
		return v.userID, v.sessionID, nil
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithLeeway(tokenLeeway),
		jwt.WithTimeFunc(t.clock.Now),
		jwt.WithStrictDecoding(),
	)
	var claims AccessClaims
	_, err = parser.ParseWithClaims(raw, &claims, func(tok *jwt.Token) (any, error) {
		if typ, _ := tok.Header["typ"].(string); typ != tokenType {
			return nil, errors.New("wrong token type")
		}
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.verify[kid]
		if !ok {
			return nil, errors.New("unknown key id")
		}
		return key, nil
	})
	if err != nil {
		return uuid.Nil, uuid.Nil, ErrInvalidToken
	}
	if userID, err = uuid.Parse(claims.Subject); err != nil {
		return uuid.Nil, uuid.Nil, ErrInvalidToken
	}
	if sessionID, err = uuid.Parse(claims.SessionID); err != nil {
		return uuid.Nil, uuid.Nil, ErrInvalidToken
	}
	v := verifiedToken{userID: userID, sessionID: sessionID, expires: claims.ExpiresAt.Time}
	if claims.NotBefore != nil {
		v.notBefore = claims.NotBefore.Time
	}
	if claims.IssuedAt != nil && claims.IssuedAt.After(v.notBefore) {
		v.notBefore = claims.IssuedAt.Time // a token is not used before it was issued either
	}
	t.verified.put(key, v)
	return userID, sessionID, nil
}

// tokenLeeway is the clock skew Verify tolerates at both ends of a token's
// validity.
const tokenLeeway = 30 * time.Second

// verifiedToken is what a verified access token says, and when it may be used.
type verifiedToken struct {
	userID, sessionID  uuid.UUID
	notBefore, expires time.Time
}

// validAt applies the parser's time checks: not before nbf or iat, not at
// or after exp, each with the leeway.
func (v verifiedToken) validAt(now time.Time) bool {
	return !now.Add(tokenLeeway).Before(v.notBefore) && now.Add(-tokenLeeway).Before(v.expires)
}

// maxVerifiedTokens bounds the cache: each entry is about 100 bytes, and a
// token lives 15 minutes.
const maxVerifiedTokens = 16384

// verifiedCache remembers verified tokens by their SHA-256.
type verifiedCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedToken
}

func (c *verifiedCache) get(key [sha256.Size]byte) (verifiedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.entries[key]
	return v, ok
}

func (c *verifiedCache) put(key [sha256.Size]byte, v verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxVerifiedTokens {
		clear(c.entries) // simpler than LRU; refilling costs one verification per live token
	}
	c.entries[key] = v
}
