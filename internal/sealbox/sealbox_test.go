package sealbox

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func key(id string, b byte) Key { return Key{ID: id, Secret: bytes.Repeat([]byte{b}, 32)} }

func TestSealOpenRoundTripAndTamper(t *testing.T) {
	box, err := New([]Key{key("k1", 1)})
	if err != nil {
		t.Fatal(err)
	}
	kid, ct := box.Seal([]byte("the client spoke about their fear of failing"), []byte("session-1"))
	if kid != "k1" || bytes.Contains(ct, []byte("fear")) {
		t.Fatalf("kid %q, ciphertext leaks plaintext: %v", kid, bytes.Contains(ct, []byte("fear")))
	}
	pt, err := box.Open(kid, ct, []byte("session-1"))
	if err != nil || string(pt) != "the client spoke about their fear of failing" {
		t.Fatalf("open: %q, %v", pt, err)
	}
	if _, err := box.Open(kid, ct, []byte("session-2")); err == nil {
		t.Fatal("a ciphertext moved to another record opened")
	}
	ct[len(ct)-1] ^= 1
	if _, err := box.Open(kid, ct, []byte("session-1")); err == nil {
		t.Fatal("a tampered ciphertext opened")
	}
	_, again := box.Seal([]byte("same"), nil)
	_, again2 := box.Seal([]byte("same"), nil)
	if bytes.Equal(again, again2) {
		t.Fatal("two seals of the same text are identical (nonce reuse)")
	}
}

func TestRotation(t *testing.T) {
	old, _ := New([]Key{key("old", 1)})
	kid, ct := old.Seal([]byte("note"), nil)
	rotated, _ := New([]Key{key("new", 2), key("old", 1)})
	if pt, err := rotated.Open(kid, ct, nil); err != nil || string(pt) != "note" {
		t.Fatalf("the rotated box cannot open an old note: %v", err)
	}
	if kid, _ := rotated.Seal([]byte("x"), nil); kid != "new" {
		t.Fatalf("rotated box seals with %q", kid)
	}
	onlyNew, _ := New([]Key{key("new", 2)})
	if _, err := onlyNew.Open(kid, ct, nil); err != ErrUnknownKey {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
}

func TestParseKeys(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	keys, err := ParseKeys("a:" + good + ", b:" + good)
	if err != nil || len(keys) != 2 || keys[0].ID != "a" {
		t.Fatalf("keys %v err %v", keys, err)
	}
	for _, bad := range []string{"a", ":" + good, "a:short", "a:" + good + ",a:" + good} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
}

func TestDevKeyPersists(t *testing.T) {
	dir := t.TempDir()
	k1, created, err := LoadOrCreateDevKey(dir)
	if err != nil || !created {
		t.Fatal(err, created)
	}
	k2, created, err := LoadOrCreateDevKey(dir)
	if err != nil || created || k1.ID != k2.ID || !bytes.Equal(k1.Secret, k2.Secret) {
		t.Fatal("the development key changed between loads")
	}
	if !strings.HasPrefix(k1.ID, "dev-") {
		t.Fatalf("id %q", k1.ID)
	}
}
