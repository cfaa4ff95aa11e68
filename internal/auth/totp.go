package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTPPeriod is how long one time-based code is valid (RFC 6238's default).
const TOTPPeriod = 30 * time.Second

// TOTP parameters: the authenticator-app defaults (6 digits, HMAC-SHA1), which
// many apps silently assume whatever the enrolment URI says.
const (
	totpDigits     = otp.DigitsSix
	totpAlgorithm  = otp.AlgorithmSHA1
	totpSecretSize = 20  // bytes: the 160 bits RFC 4226 recommends
	totpQRSize     = 256 // pixels, square
)

// minTOTPSecretSize is the shortest secret VerifyTOTP accepts (RFC 4226
// requires 128 bits). It stops an empty or truncated stored secret, with
// which anyone could compute the codes, from ever verifying.
const minTOTPSecretSize = 16

// TOTPEnrolment is what a person needs to add Tandem to an authenticator app.
type TOTPEnrolment struct {
	Secret string // base32, no padding: stored (sealed) and shown for manual entry
	URI    string // otpauth://totp/... key URI
	QRPNG  []byte // the URI as a 256x256 QR code in PNG
}

// NewTOTPEnrolment returns a new random TOTP secret for accountName at issuer,
// with its key URI and QR code.
func NewTOTPEnrolment(issuer, accountName string) (TOTPEnrolment, error) {
	// The key URI label is "issuer:account"; a colon in either is ambiguous.
	if strings.Contains(issuer, ":") || strings.Contains(accountName, ":") {
		return TOTPEnrolment{}, errors.New("totp enrolment: issuer and account name must not contain a colon")
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: accountName,
		Period:      uint(TOTPPeriod / time.Second),
		SecretSize:  totpSecretSize,
		Digits:      totpDigits,
		Algorithm:   totpAlgorithm,
	})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("totp enrolment: %w", err)
	}
	img, err := key.Image(totpQRSize, totpQRSize)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("totp enrolment QR code: %w", err)
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("totp enrolment QR code: %w", err)
	}
	return TOTPEnrolment{Secret: key.Secret(), URI: key.URL(), QRPNG: qr.Bytes()}, nil
}

// TOTPStep returns the RFC 6238 time step of t: Unix seconds over the period.
func TOTPStep(t time.Time) int64 {
	return t.Unix() / int64(TOTPPeriod/time.Second)
}

// VerifyTOTP reports whether code is the TOTP code of secret for the time
// step of now, or the step before or after it to allow for clock drift
// (RFC 6238 section 5.2), and returns the step that matched. Steps at or
// before lastUsedStep are refused, so that a code, or an older one, cannot be
// replayed once used; the caller stores the returned step as the new
// lastUsedStep (0 when no code has been used yet). White space in code, as in
// "123 456", is ignored; anything else but six ASCII digits is refused.
func VerifyTOTP(secret, code string, now time.Time, lastUsedStep int64) (step int64, ok bool) {
	code = strings.Join(strings.Fields(code), "")
	if !isTOTPCode(code) || !validTOTPSecret(secret) {
		return 0, false
	}
	current := TOTPStep(now)
	// Oldest first: the first step still unused whose code matches.
	for _, candidate := range []int64{current - 1, current, current + 1} {
		if candidate < 0 || candidate <= lastUsedStep {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(candidate), hotp.ValidateOpts{
			Digits:    totpDigits,
			Algorithm: totpAlgorithm,
		})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return candidate, true
		}
	}
	return 0, false
}

// isTOTPCode reports whether code is exactly six ASCII digits.
func isTOTPCode(code string) bool {
	if len(code) != totpDigits.Length() {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// validTOTPSecret reports whether secret is base32 (in either case, padded or
// not, as hotp accepts it) of at least minTOTPSecretSize bytes.
func validTOTPSecret(secret string) bool {
	s := strings.TrimRight(strings.ToUpper(strings.TrimSpace(secret)), "=")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	return err == nil && len(raw) >= minTOTPSecretSize
}

// recoveryAlphabet has 32 symbols, so each character carries 5 bits: lower
// case letters and digits without 0, o, 1 and l, which are read alike. Upper
// case O and I never appear because codes are shown in lower case.
const recoveryAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// recoveryCodeLength is the number of symbols in a recovery code: 50 bits.
const recoveryCodeLength = 10

// NewRecoveryCodes returns n distinct single-use recovery codes, formatted
// xxxxx-xxxxx for the person to keep, and their hashes for storage in the
// same order.
func NewRecoveryCodes(n int) (codes []string, hashes [][]byte, err error) {
	if n < 1 {
		return nil, nil, fmt.Errorf("recovery codes: n = %d, want at least 1", n)
	}
	seen := make(map[string]bool, n)
	for len(codes) < n {
		raw := make([]byte, recoveryCodeLength)
		_, _ = rand.Read(raw) // crypto/rand.Read never fails on supported platforms
		for i, b := range raw {
			raw[i] = recoveryAlphabet[b%byte(len(recoveryAlphabet))] // 256 is a multiple of 32: no bias
		}
		code := string(raw[:5]) + "-" + string(raw[5:])
		if seen[code] {
			continue
		}
		seen[code] = true
		codes = append(codes, code)
		hashes = append(hashes, HashRecoveryCode(code))
	}
	return codes, hashes, nil
}

// NormalizeRecoveryCode returns the canonical form of a recovery code as a
// person may type it: lower case, without spaces or dashes.
func NormalizeRecoveryCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(s))
}

// HashRecoveryCode returns the stored form of a recovery code, the SHA-256 of
// its normalised form. Unlike a password, a recovery code is random, with 50
// bits of entropy, so a fast hash is fine as long as attempts to use one are
// rate-limited: online guessing then never gets anywhere. Reversing a leaked
// hash offline takes GPU-days per code and only gets past the second factor,
// not the password.
func HashRecoveryCode(s string) []byte {
	return HashOpaqueToken(NormalizeRecoveryCode(s))
}

// LooksLikeRecoveryCode reports whether s, once normalised, has the shape of a
// recovery code (ten symbols of the recovery alphabet), so that a login can
// tell one from a TOTP code.
func LooksLikeRecoveryCode(s string) bool {
	s = NormalizeRecoveryCode(s)
	if len(s) != recoveryCodeLength {
		return false
	}
	for i := range len(s) {
		if strings.IndexByte(recoveryAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}
