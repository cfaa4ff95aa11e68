// Package sealbox encrypts sensitive text at rest — private session notes,
// coordination notes — with AES-256-GCM. Each ciphertext is stored beside
// the ID of the key that sealed it, so keys can rotate: the first key seals,
// every key opens.
package sealbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Key is one named 256-bit key.
type Key struct {
	ID     string
	Secret []byte
}

// Format prints the key's ID and never its secret, under every verb.
func (k Key) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "{ID:%s Secret:********}", k.ID) }

// LogValue logs the key's ID only.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.ID) }

// Box seals and opens.
type Box struct {
	sealing string
	aeads   map[string]cipher.AEAD
}

// New returns a box whose first key seals.
func New(keys []Key) (*Box, error) {
	if len(keys) == 0 {
		return nil, errors.New("sealbox: no key")
	}
	b := &Box{sealing: keys[0].ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if len(k.Secret) != 32 || k.ID == "" {
			return nil, fmt.Errorf("sealbox: key %q must be 32 bytes with an ID", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		b.aeads[k.ID] = aead
	}
	return b, nil
}

// Seal encrypts plaintext. The additional data binds the ciphertext to its
// record (e.g. the session ID), so it cannot be moved to another row.
func (b *Box) Seal(plaintext, additional []byte) (keyID string, ciphertext []byte) {
	aead := b.aeads[b.sealing]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return b.sealing, aead.Seal(nonce, nonce, plaintext, additional)
}

// ErrUnknownKey means a ciphertext was sealed with a key no longer configured.
var ErrUnknownKey = errors.New("sealbox: ciphertext sealed with an unknown key")

// Open decrypts a ciphertext sealed by Seal with the same additional data.
func (b *Box) Open(keyID string, ciphertext, additional []byte) ([]byte, error) {
	aead, ok := b.aeads[keyID]
	if !ok {
		return nil, ErrUnknownKey
	}
	if len(ciphertext) < aead.NonceSize() {
		return nil, errors.New("sealbox: ciphertext too short")
	}
	nonce, sealed := ciphertext[:aead.NonceSize()], ciphertext[aead.NonceSize():]
	return aead.Open(nil, nonce, sealed, additional)
}

// ParseKeys reads "id:base64-32-bytes[,id:base64...]".
func ParseKeys(raw string) ([]Key, error) {
	var keys []Key
	seen := map[string]bool{}
	for _, item := range strings.Split(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, enc, ok := strings.Cut(item, ":")
		if !ok || id == "" {
			return nil, errors.New("each key must be id:base64-key")
		}
		if seen[id] {
			return nil, fmt.Errorf("key id %q appears twice", id)
		}
		seen[id] = true
		secret, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(secret) != 32 {
			return nil, fmt.Errorf("key %q must be the base64 of 32 random bytes", id)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	return keys, nil
}

// DevKeyFile is the development note key's file in the data directory.
const DevKeyFile = "dev-note-key"

// LoadOrCreateDevKey returns the development key kept in dir, creating it on
// first use. Production refuses to start without configured keys.
func LoadOrCreateDevKey(dir string) (Key, bool, error) {
	path := filepath.Join(dir, DevKeyFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return Key{}, false, err
		}
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		// The ID is logged and stored beside every note: it is random,
		// never derived from the secret.
		id := make([]byte, 6)
		_, _ = rand.Read(id)
		k := Key{ID: "dev-" + base64.RawURLEncoding.EncodeToString(id), Secret: secret}
		line := k.ID + ":" + base64.StdEncoding.EncodeToString(secret) + "\n"
		return k, true, os.WriteFile(path, []byte(line), 0o600)
	}
	if err != nil {
		return Key{}, false, err
	}
	keys, err := ParseKeys(strings.TrimSpace(string(raw)))
	if err != nil || len(keys) != 1 {
		return Key{}, false, fmt.Errorf("%s is damaged; restore it from backup (notes sealed with it cannot be read without it)", path)
	}
	return keys[0], false, nil
}
