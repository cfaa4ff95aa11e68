package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DevKeyFile is the name of the development signing key in the data directory.
const DevKeyFile = "dev-signing-key"

// LoadOrCreateDevKey returns the development signing key kept in dir,
// creating it on first use. It is for development and single-coach installs
// only: production refuses to start without configured keys.
func LoadOrCreateDevKey(dir string) (key SigningKey, created bool, err error) {
	path := filepath.Join(dir, DevKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return SigningKey{}, false, err
		}
		seed := make([]byte, ed25519.SeedSize)
		_, _ = rand.Read(seed)
		priv := ed25519.NewKeyFromSeed(seed)
		// The key ID is public (every token header carries it), so it is
		// derived from the public key, never from the seed.
		sum := sha256.Sum256(priv.Public().(ed25519.PublicKey))
		id := "dev-" + base64.RawURLEncoding.EncodeToString(sum[:6])
		line := id + ":" + base64.StdEncoding.EncodeToString(seed) + "\n"
		if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
			return SigningKey{}, false, err
		}
		return SigningKey{ID: id, Key: priv}, true, nil
	}
	if err != nil {
		return SigningKey{}, false, err
	}
	id, enc, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
	seed, decErr := base64.StdEncoding.DecodeString(enc)
	if !ok || id == "" || decErr != nil || len(seed) != ed25519.SeedSize {
		return SigningKey{}, false, fmt.Errorf("%s is damaged; delete it to create a new key", path)
	}
	return SigningKey{ID: id, Key: ed25519.NewKeyFromSeed(seed)}, false, nil
}
