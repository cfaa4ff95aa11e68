package auth_test

import (
	"bufio"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"os"
	"sort"
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
		// Breach-list entries checked to be in common_passwords.txt.gz.
		{"breached trustno1", "TrustNo1", common},
		{"breached iloveyou1", "iloveyou1", common},
		{"breached sunshine", "SUNSHINE", common},
		{"breached football1", "Football1", common},
		{"breached qwerty123", "qWeRtY123", common},
		// Lookup is exact: one more character makes a password not on the list.
		{"listed plus one character", "trustno1!", ""},
		{"listed plus one letter", "football1x", ""},
		{"listed plus one digit, itself listed", "password1234", common},
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

func TestCheckPasswordPolicyAcceptsRandomPassphrase(t *testing.T) {
	for range 20 {
		// 52 random base32 characters, 260 bits: on no list.
		passphrase := rand.Text() + rand.Text()
		if got := auth.CheckPasswordPolicy(passphrase); got != "" {
			t.Errorf("CheckPasswordPolicy(%q) = %q, want \"\"", passphrase, got)
		}
	}
}

// TestCommonPasswordList checks the file that password.go embeds: large
// enough, in the form the binary search relies on, and every entry refused.
func TestCommonPasswordList(t *testing.T) {
	list := readCommonPasswordList(t)
	if len(list) < 100_000 {
		t.Fatalf("the list holds %d entries, want at least 100,000", len(list))
	}
	for i, pw := range list {
		if i > 0 && list[i-1] >= pw {
			t.Fatalf("entries %d and %d (%q, %q) are not strictly sorted", i-1, i, list[i-1], pw)
		}
		if !isPrintableASCII(pw) || strings.ToLower(pw) != pw ||
			len(pw) < auth.MinPasswordLength || len(pw) > auth.MaxPasswordLength {
			t.Fatalf("entry %d (%q) is not lower-case printable ASCII of 8 to 128 characters", i, pw)
		}
	}
	const common = "is one of the most common passwords; choose another"
	for i, pw := range list {
		if got := auth.CheckPasswordPolicy(pw); got != common {
			t.Fatalf("CheckPasswordPolicy(%q) = %q, want %q", pw, got, common)
		}
		// Upper-casing every entry would double the test's time for little gain.
		if i%97 == 0 {
			if got := auth.CheckPasswordPolicy(strings.ToUpper(pw)); got != common {
				t.Fatalf("CheckPasswordPolicy(%q) = %q, want %q", strings.ToUpper(pw), got, common)
			}
		}
	}
}

// TestCommonPasswordLookupIsExact checks that near neighbours of listed
// passwords are refused only when they are themselves listed.
func TestCommonPasswordLookupIsExact(t *testing.T) {
	list := readCommonPasswordList(t)
	listed := func(pw string) bool {
		i := sort.SearchStrings(list, pw)
		return i < len(list) && list[i] == pw
	}
	var checked, refused int
	for i := 0; i < len(list); i += 101 {
		pw := list[i]
		for _, near := range []string{pw + "x", pw + "!", "1" + pw, pw[:len(pw)-1] + "~"} {
			if len(near) > auth.MaxPasswordLength {
				continue
			}
			got := auth.CheckPasswordPolicy(near) != ""
			if got != listed(near) {
				t.Errorf("CheckPasswordPolicy(%q) refused = %v, want %v (listed neighbour %q)", near, got, listed(near), pw)
			}
			checked++
			if got {
				refused++
			}
		}
	}
	t.Logf("checked %d neighbours of listed passwords, %d of them listed themselves", checked, refused)
}

func BenchmarkCheckPasswordPolicy(b *testing.B) {
	auth.CheckPasswordPolicy("warm-up loads the list") // the first call decompresses it
	for _, bb := range []struct{ name, password string }{
		{"listed", "Password123"},
		{"unlisted", "correct horse battery staple"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				auth.CheckPasswordPolicy(bb.password)
			}
		})
	}
}

// readCommonPasswordList reads the list that password.go embeds.
func readCommonPasswordList(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("common_passwords.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		list = append(list, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return list
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
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
