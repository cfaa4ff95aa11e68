package auth

import (
	"crypto/ed25519"
	"errors"
	"fmt"
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
}

// NewTokens returns a token issuer and verifier.
func NewTokens(keys []SigningKey, issuer, audience string, clk clock.Clock) (*Tokens, error) {
	if len(keys) == 0 {
		return nil, errors.New("no signing key")
	}
	t := &Tokens{signing: keys[0], verify: map[string]ed25519.PublicKey{}, issuer: issuer, audience: audience, clock: clk}
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
func (t *Tokens) Verify(raw string) (userID, sessionID uuid.UUID, err error) {
	if raw == "" || len(raw) > maxTokenLength {
		return uuid.Nil, uuid.Nil, ErrInvalidToken
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithLeeway(30*time.Second),
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
	return userID, sessionID, nil
}
