package auth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/tandem-coach/tandem/internal/auth"
)

func TestNewOpaqueToken(t *testing.T) {
	const n = 1000
	seenTokens := make(map[string]bool, n)
	seenHashes := make(map[string]bool, n)
	for range n {
		token, hash := auth.NewOpaqueToken()
		if len(token) != 43 {
			t.Fatalf("token %q has %d characters, want 43", token, len(token))
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q: decoded %d bytes, err %v; want 32 bytes of unpadded base64url", token, len(raw), err)
		}
		if want := auth.HashOpaqueToken(token); !bytes.Equal(hash, want) {
			t.Fatalf("hash = %x, want HashOpaqueToken(token) = %x", hash, want)
		}
		if seenTokens[token] {
			t.Fatalf("token %q issued twice", token)
		}
		seenTokens[token] = true
		seenHashes[string(hash)] = true
	}
	if len(seenHashes) != n {
		t.Errorf("%d distinct hashes for %d distinct tokens", len(seenHashes), n)
	}
}

func TestHashOpaqueToken(t *testing.T) {
	sum := sha256.Sum256([]byte("abc"))
	if got := auth.HashOpaqueToken("abc"); !bytes.Equal(got, sum[:]) {
		t.Errorf("HashOpaqueToken(abc) = %x, want SHA-256 %x", got, sum)
	}
	if bytes.Equal(auth.HashOpaqueToken("abc"), auth.HashOpaqueToken("abd")) {
		t.Error("different tokens hash alike")
	}
}
