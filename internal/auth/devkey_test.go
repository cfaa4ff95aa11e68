package auth_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
)

func TestLoadOrCreateDevKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet
	first, created, err := auth.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatalf("first LoadOrCreateDevKey: %v", err)
	}
	if !created {
		t.Error("first call: created = false, want true")
	}
	if len(first.Key) != ed25519.PrivateKeySize || !strings.HasPrefix(first.ID, "dev-") {
		t.Errorf("key: ID %q, %d-byte key; want a dev- ID and an Ed25519 key", first.ID, len(first.Key))
	}

	path := filepath.Join(dir, auth.DevKeyFile)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %o, want 600", perm)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("data dir: %v, err %v; want mode 700", info.Mode().Perm(), err)
	}

	second, created, err := auth.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatalf("second LoadOrCreateDevKey: %v", err)
	}
	if created {
		t.Error("second call: created = true, want false")
	}
	if second.ID != first.ID || !bytes.Equal(second.Key, first.Key) {
		t.Errorf("second call returned key %q, want the first key %q again", second.ID, first.ID)
	}

	// A token signed with the created key verifies with the loaded one.
	clk := clock.NewManual(epoch)
	user, session := uuid.New(), uuid.New()
	raw, err := newTokens(t, clk, first).Issue(user, session)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	wantValid(t, newTokens(t, clk, second), raw, user, session)
}

// TestDevKeyIDRevealsNoSeed: the key ID is public (every token header carries
// it, and the start-up log prints it), so it must not be cut from the seed.
func TestDevKeyIDRevealsNoSeed(t *testing.T) {
	dir := t.TempDir()
	key, _, err := auth.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	seed := key.Key.Seed()
	id := strings.TrimPrefix(key.ID, "dev-")
	for n := 6; n <= len(seed); n += 3 { // 6 bytes make 8 base64 characters
		for i := 0; i+n <= len(seed); i++ {
			for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
				if part := enc.EncodeToString(seed[i : i+n]); strings.Contains(id, part) {
					t.Fatalf("key ID %q contains seed bytes %d..%d (%q)", key.ID, i, i+n, part)
				}
			}
		}
	}
}

func TestLoadOrCreateDevKeyDamaged(t *testing.T) {
	seed := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	tests := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"no colon", "garbage"},
		{"seed not base64", "dev-x:!!!!"},
		{"short seed", "dev-x:" + base64.StdEncoding.EncodeToString(make([]byte, 16))},
		{"long seed", "dev-x:" + base64.StdEncoding.EncodeToString(make([]byte, 64))},
		{"empty kid", ":" + seed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, auth.DevKeyFile)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			key, created, err := auth.LoadOrCreateDevKey(dir)
			if err == nil {
				t.Fatalf("LoadOrCreateDevKey = %q, created %v; want an error", key.ID, created)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "damaged") {
				t.Errorf("error %q should name %s and say it is damaged", err, path)
			}
			// A damaged key is reported, never silently replaced.
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Errorf("key file rewritten to %q", b)
			}
		})
	}

	// A good file, for contrast, loads with surrounding whitespace.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, auth.DevKeyFile), []byte("dev-abc:"+seed+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, created, err := auth.LoadOrCreateDevKey(dir)
	if err != nil || created || key.ID != "dev-abc" {
		t.Fatalf("LoadOrCreateDevKey = %q, created %v, %v; want dev-abc, false, nil", key.ID, created, err)
	}
	if want := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)); !bytes.Equal(key.Key, want) {
		t.Error("loaded key is not the one from the seed in the file")
	}
}

func TestLoadOrCreateDevKeyUnusableDir(t *testing.T) {
	// The data directory path is a regular file, so nothing can be made in it.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if key, _, err := auth.LoadOrCreateDevKey(file); err == nil {
		t.Errorf("LoadOrCreateDevKey(a file) = %q, want an error", key.ID)
	}
}
