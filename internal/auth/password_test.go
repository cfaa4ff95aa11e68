package auth_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tandem-coach/tandem/internal/auth"
)

func TestCheckPasswordPolicy(t *testing.T) {
	const (
		tooShort = "must be at least 8 characters"
		tooLong  = "must be at most 128 characters"
		badUTF8  = "must be valid UTF-8 text"
		common   = "is one of the most common passwords; choose another"
	)
	tests := []struct {
		name     string
		password string
		want     string
	}{
		{"empty", "", tooShort},
		{"7 ascii", "abcdefg", tooShort},
		{"8 ascii", "tandem-x", ""},
		{"128 ascii", strings.Repeat("ab", 64), ""},
		{"129 ascii", strings.Repeat("a", 129), tooLong},
		// Multi-byte characters count once: 7 runes are 14 bytes, still too short.
		{"7 two-byte runes", strings.Repeat("é", 7), tooShort},
		{"8 two-byte runes", strings.Repeat("é", 8), ""},
		{"8 four-byte runes", strings.Repeat("🙂", 8), ""},
		{"128 two-byte runes", strings.Repeat("é", 128), ""},
		{"129 two-byte runes", strings.Repeat("é", 129), tooLong},
		// 100 four-byte runes are 400 bytes: length is counted in runes, not bytes.
		{"100 four-byte runes", strings.Repeat("🙂", 100), ""},
		{"invalid UTF-8", "abcdefgh\xff", badUTF8},
		{"invalid UTF-8 and short", "\xff\xfe", badUTF8},
		{"common lower case", "password123", common},
		{"common mixed case", "Password123", common},
		{"common upper case", "PASSWORD", common},
		{"common digits", "12345678", common},
		{"common qwerty", "QwertyUiop", common},
		{"passphrase", "correct horse battery staple", ""},
		{"common word inside a passphrase", "my password is long", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.CheckPasswordPolicy(tt.password); got != tt.want {
				t.Errorf("CheckPasswordPolicy(%q) = %q, want %q", tt.password, got, tt.want)
			}
		})
	}
}

func TestHashPasswordFormat(t *testing.T) {
	hash, err := auth.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(hash, prefix) {
		t.Fatalf("hash = %q, want prefix %q", hash, prefix)
	}
	saltAndKey := strings.Split(strings.TrimPrefix(hash, prefix), "$")
	if len(saltAndKey) != 2 {
		t.Fatalf("hash = %q, want salt$key after the parameters", hash)
	}
	salt, err := base64.RawStdEncoding.DecodeString(saltAndKey[0])
	if err != nil || len(salt) != 16 {
		t.Errorf("salt %q: %d bytes, err %v; want 16 bytes of unpadded base64", saltAndKey[0], len(salt), err)
	}
	key, err := base64.RawStdEncoding.DecodeString(saltAndKey[1])
	if err != nil || len(key) != 32 {
		t.Errorf("key %q: %d bytes, err %v; want 32 bytes of unpadded base64", saltAndKey[1], len(key), err)
	}
}

func TestHashPasswordVerifies(t *testing.T) {
	const password = "correct horse battery staple"
	h1, err := auth.HashPassword(password)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	h2, err := auth.HashPassword(password)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	if h1 == h2 {
		t.Errorf("two hashes of the same password are equal (%q): the salt is not random", h1)
	}
	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
	}{
		{"first hash, right password", h1, password, true},
		{"second hash, right password", h2, password, true},
		{"wrong password", h1, "correct horse battery stapler", false},
		{"case differs", h1, "Correct horse battery staple", false},
		{"empty password", h1, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.VerifyPassword(tt.hash, tt.password)
			if err != nil || got != tt.want {
				t.Errorf("VerifyPassword = %v, %v; want %v, nil", got, err, tt.want)
			}
			if got := auth.VerifyPasswordOrDummy(tt.hash, tt.password); got != tt.want {
				t.Errorf("VerifyPasswordOrDummy = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestVerifyPasswordReferenceVector checks interoperability with the Argon2
// reference implementation (phc-winner-argon2, src/test.c), so hashes made
// elsewhere verify here and ours are standard PHC strings.
func TestVerifyPasswordReferenceVector(t *testing.T) {
	const ref = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	for _, tt := range []struct {
		password string
		want     bool
	}{
		{"password", true},
		{"passwore", false},
	} {
		got, err := auth.VerifyPassword(ref, tt.password)
		if err != nil || got != tt.want {
			t.Errorf("VerifyPassword(reference, %q) = %v, %v; want %v, nil", tt.password, got, err, tt.want)
		}
	}
}

func TestVerifyPasswordMalformedHash(t *testing.T) {
	const (
		salt = "c29tZXNhbHRzb21lc2FsdA" // 16 bytes
		key  = "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	)
	tests := []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"plain text", "hunter22"},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ012"},
		{"argon2i", "$argon2i$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"too few parts", "$argon2id$v=19$m=256,t=2,p=1$" + salt},
		{"too many parts", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key + "$"},
		{"old version", "$argon2id$v=16$m=256,t=2,p=1$" + salt + "$" + key},
		{"version not a number", "$argon2id$v=x$m=256,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$$m=256,t=2,p=1$" + salt + "$" + key},
		{"parameters not numbers", "$argon2id$v=19$m=a,t=b,p=c$" + salt + "$" + key},
		{"parameters missing", "$argon2id$v=19$$" + salt + "$" + key},
		{"negative time", "$argon2id$v=19$m=256,t=-1,p=1$" + salt + "$" + key},
		{"threads overflow", "$argon2id$v=19$m=256,t=2,p=256$" + salt + "$" + key},
		{"memory overflow", "$argon2id$v=19$m=4294967296,t=2,p=1$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=256,t=0,p=1$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=256,t=2,p=0$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=256,t=2,p=1$!!!!$" + key},
		{"key not base64", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$!!!!"},
		{"padded key", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key + "="},
		// An empty key would compare equal to the empty key computed for
		// any password.
		{"empty key", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$"},
		// A truncated key makes guessing a matching password cheap.
		{"one-byte key", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$AA"},
		{"empty salt", "$argon2id$v=19$m=256,t=2,p=1$$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("VerifyPassword(%q) panicked: %v", tt.hash, r)
				}
			}()
			// "password" is the reference vector's password, so a check that
			// ignored a malformed part could still report a match.
			for _, pw := range []string{"password", ""} {
				ok, err := auth.VerifyPassword(tt.hash, pw)
				if ok || err == nil {
					t.Errorf("VerifyPassword(%q, %q) = %v, %v; want false and an error", tt.hash, pw, ok, err)
				}
				if auth.VerifyPasswordOrDummy(tt.hash, pw) {
					t.Errorf("VerifyPasswordOrDummy(%q, %q) = true, want false", tt.hash, pw)
				}
			}
		})
	}
}

func TestVerifyPasswordOrDummyWithoutAccount(t *testing.T) {
	// The dummy hash's own password must not let anyone in either.
	for _, pw := range []string{"", "correct horse battery staple", "tandem-timing-equaliser"} {
		if auth.VerifyPasswordOrDummy("", pw) {
			t.Errorf("VerifyPasswordOrDummy(\"\", %q) = true, want false", pw)
		}
	}
}
