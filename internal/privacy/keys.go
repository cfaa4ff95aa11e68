package privacy

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// BundleKey signs history bundles. It is derived from a token signing key
// (HKDF-SHA256 over its seed, with a label of its own), so that operators
// manage one set of keys, while no signature made for one purpose can pass
// for the other: a bundle signature covers a message with a newline, which
// a JWT's signing input never holds, and the keys differ anyway.
type BundleKey struct {
	ID      string
	Private ed25519.PrivateKey
}

// bundleKeyLabel separates derived bundle keys from everything else.
const bundleKeyLabel = "tandem history bundle signing key v1"

// DeriveBundleKey derives the bundle key of a token signing key.
func DeriveBundleKey(signingKeyID string, signingKey ed25519.PrivateKey) (BundleKey, error) {
	seed, err := hkdf.Key(sha256.New, signingKey.Seed(), nil, bundleKeyLabel, ed25519.SeedSize)
	if err != nil {
		return BundleKey{}, err
	}
	return BundleKey{ID: "hb-" + signingKeyID, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

// TrustedKey is a public key whose bundles this instance accepts.
type TrustedKey struct {
	ID     string
	Public ed25519.PublicKey
}

// ParseTrustedKeys reads TANDEM_HISTORY_TRUSTED_KEYS: comma-separated
// key_id:x pairs, x being the key's "x" in the issuing instance's
// /.well-known/tandem-keys.json (base64url).
func ParseTrustedKeys(raw string) ([]TrustedKey, error) {
	var out []TrustedKey
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, x, ok := strings.Cut(part, ":")
		if !ok || id == "" {
			return nil, fmt.Errorf("TANDEM_HISTORY_TRUSTED_KEYS: want key_id:x, got %q", part)
		}
		pub, err := base64.RawURLEncoding.DecodeString(x)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("TANDEM_HISTORY_TRUSTED_KEYS: key %q is not a base64url Ed25519 public key", id)
		}
		out = append(out, TrustedKey{ID: id, Public: pub})
	}
	return out, nil
}

// JWK is one public key as /.well-known/tandem-keys.json publishes it.
type JWK struct {
	KeyID string `json:"kid"`
	Type  string `json:"kty"`
	Curve string `json:"crv"`
	X     string `json:"x"`
	Use   string `json:"use"`
	Alg   string `json:"alg"`
}

// KeySet is /.well-known/tandem-keys.json.
type KeySet struct {
	Issuer string `json:"issuer"`
	Keys   []JWK  `json:"keys"`
}

// PublicKeys returns the keys this instance signs history bundles with.
func (s *Service) PublicKeys() KeySet {
	set := KeySet{Issuer: s.c.BaseURL, Keys: []JWK{}}
	for _, k := range s.c.BundleKeys {
		set.Keys = append(set.Keys, JWK{KeyID: k.ID, Type: "OKP", Curve: "Ed25519", Use: "tandem-history-bundle", Alg: "EdDSA",
			X: base64.RawURLEncoding.EncodeToString(k.Private.Public().(ed25519.PublicKey))})
	}
	return set
}
