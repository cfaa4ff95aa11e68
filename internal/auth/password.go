// Package auth holds Tandem's credentials machinery: password hashing, access
// tokens, opaque secrets (refresh and invitation tokens) and the Actor that
// authentication puts in a request's context. It knows nothing of the database.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits, counted in characters. No composition rules.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// Argon2id key and salt sizes.
const (
	argonKeyLen  = 32
	argonSaltLen = 16
)

// argonCost is the work of each new hash: the OWASP minimum (m=19 MiB, t=2,
// p=1). Only LowerPasswordCostForTests changes it.
var argonCost = struct {
	time, memory uint32
	threads      uint8
}{time: 2, memory: 19 * 1024, threads: 1}

// LowerPasswordCostForTests makes new hashes cheap (m=64 KiB, t=1). Call it
// from a test package's TestMain, before any test runs, where tests sign
// people in by the hundred: under the race detector one hash at the real
// cost takes about a second. Hashes keep their parameters, so verifying is
// unchanged; this package's own tests keep the real cost. Never call it
// outside tests.
func LowerPasswordCostForTests() {
	argonCost.time, argonCost.memory = 1, 64
}

// The shortest salt and key VerifyPassword accepts. The salt minimum is the
// Argon2 reference implementation's; a key shorter than half of ours would
// let a wrong password match by chance far too easily.
const (
	minArgonSaltLen = 8
	minArgonKeyLen  = 16
)

// CheckPasswordPolicy returns a caller-safe reason when password is not
// acceptable as a new password, or "" when it is.
func CheckPasswordPolicy(password string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return "must be valid UTF-8 text"
	case n < MinPasswordLength:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLength)
	case n > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLength)
	}
	if isCommonPassword(password) {
		return "is one of the most common passwords; choose another"
	}
	return ""
}

// HashPassword returns the argon2id hash of password in PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	c := argonCost
	key := argon2.IDKey([]byte(password), salt, c.time, c.memory, c.threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.memory, c.time, c.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC-format hash.
func VerifyPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unsupported password hash format")
	}
	var version int
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("unsupported argon2 version")
	}
	// argon2.IDKey panics on zero time or threads.
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil || time < 1 || threads < 1 {
		return false, errors.New("malformed argon2 parameters")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < minArgonSaltLen {
		return false, errors.New("malformed argon2 salt")
	}
	// An empty key makes argon2.IDKey panic; a short one is easy to match.
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) < minArgonKeyLen {
		return false, errors.New("malformed argon2 key")
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when the account does not exist, so an
// unknown e-mail costs the same time as a wrong password. It is made on
// first use, at the cost new hashes have.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("tandem-timing-equaliser")
	if err != nil {
		panic(err)
	}
	return h
})

// VerifyPasswordOrDummy verifies password against hash, or, when hash is
// empty (no such account), against a dummy hash, and then reports false.
func VerifyPasswordOrDummy(hash, password string) bool {
	if hash == "" {
		_, _ = VerifyPassword(dummyHash(), password)
		return false
	}
	ok, err := VerifyPassword(hash, password)
	return err == nil && ok
}
