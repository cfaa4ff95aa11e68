package auth_test

import (
	"bytes"
	"encoding/base32"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/tandem-coach/tandem/internal/auth"
)

// rfcSecret is the RFC 6238 Appendix B SHA1 key "12345678901234567890" in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// rfcVectors are the RFC 6238 Appendix B SHA1 codes, truncated to 6 digits.
var rfcVectors = []struct {
	unix int64
	step int64
	code string
}{
	{59, 1, "287082"},
	{1111111109, 37037036, "081804"},
	{1111111111, 37037037, "050471"},
	{1234567890, 41152263, "005924"},
	{2000000000, 66666666, "279037"},
	{20000000000, 666666666, "353130"},
}

func TestTOTPStep(t *testing.T) {
	for _, v := range rfcVectors {
		if got := auth.TOTPStep(time.Unix(v.unix, 0)); got != v.step {
			t.Errorf("TOTPStep(%d) = %d, want %d", v.unix, got, v.step)
		}
	}
	// The step changes on the period boundary, whatever the time zone.
	boundary := time.Unix(1111111110, 0).In(time.FixedZone("UTC+5", 5*3600))
	if a, b := auth.TOTPStep(boundary.Add(-time.Nanosecond)), auth.TOTPStep(boundary); a != 37037036 || b != 37037037 {
		t.Errorf("TOTPStep around 1111111110 = %d, %d; want 37037036, 37037037", a, b)
	}
}

func TestVerifyTOTPRFCVectors(t *testing.T) {
	for _, v := range rfcVectors {
		now := time.Unix(v.unix, 0)
		step, ok := auth.VerifyTOTP(rfcSecret, v.code, now, 0)
		if !ok || step != v.step {
			t.Errorf("VerifyTOTP(%s at T=%d) = %d, %v; want %d, true", v.code, v.unix, step, ok, v.step)
		}
		// The library agrees with the RFC, so codes generated in the other
		// tests are the right ones.
		if got, err := totp.GenerateCode(rfcSecret, now); err != nil || got != v.code {
			t.Errorf("totp.GenerateCode(T=%d) = %q, %v; want %q", v.unix, got, err, v.code)
		}
	}
}

func TestVerifyTOTPWindow(t *testing.T) {
	const code = "081804" // T=1111111109, step 37037036
	const step = 37037036
	codeTime := time.Unix(1111111109, 0)
	tests := []struct {
		name   string
		now    time.Time
		wantOK bool
	}{
		{"same step", codeTime, true},
		{"same step, last second", time.Unix(37037036*30+29, 0), true},
		{"next step (client clock behind)", codeTime.Add(auth.TOTPPeriod), true},
		{"previous step (client clock ahead)", codeTime.Add(-auth.TOTPPeriod), true},
		{"two steps later", codeTime.Add(2 * auth.TOTPPeriod), false},
		{"two steps earlier", codeTime.Add(-2 * auth.TOTPPeriod), false},
		{"first second two steps later", time.Unix(37037038*30, 0), false},
		{"last second two steps earlier", time.Unix(37037034*30+29, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := auth.VerifyTOTP(rfcSecret, code, tt.now, 0)
			if ok != tt.wantOK {
				t.Fatalf("VerifyTOTP at step %d: ok = %v, want %v", auth.TOTPStep(tt.now), ok, tt.wantOK)
			}
			if ok && got != step {
				t.Errorf("matched step = %d, want the code's step %d", got, step)
			}
		})
	}
}

func TestVerifyTOTPReplay(t *testing.T) {
	now := time.Unix(1111111109, 0) // step 37037036
	const current = 37037036
	codeAt := func(step int64) string {
		t.Helper()
		c, err := totp.GenerateCode(rfcSecret, time.Unix(step*30, 0))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name         string
		codeStep     int64
		lastUsedStep int64
		wantOK       bool
	}{
		{"never used", current, 0, true},
		{"previous step used, current code", current, current - 1, true},
		{"current code replayed", current, current, false},
		{"older code after the current one was used", current - 1, current, false},
		{"current code after the next one was used", current, current + 1, false},
		{"next code replayed", current + 1, current + 1, false},
		{"next code after the current one was used", current + 1, current, true},
		{"previous code after an older one was used", current - 1, current - 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := auth.VerifyTOTP(rfcSecret, codeAt(tt.codeStep), now, tt.lastUsedStep)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if ok && step != tt.codeStep {
				t.Errorf("step = %d, want %d", step, tt.codeStep)
			}
		})
	}
}

func TestVerifyTOTPInput(t *testing.T) {
	now := time.Unix(59, 0) // code 287082
	tests := []struct {
		name   string
		secret string
		code   string
		wantOK bool
	}{
		{"plain", rfcSecret, "287082", true},
		{"grouped with a space", rfcSecret, "287 082", true},
		{"surrounding spaces", rfcSecret, " 287082 ", true},
		{"lower-case secret", strings.ToLower(rfcSecret), "287082", true},
		{"wrong code", rfcSecret, "287083", false},
		{"empty", rfcSecret, "", false},
		{"spaces only", rfcSecret, "      ", false},
		{"five digits", rfcSecret, "12345", false},
		{"seven digits", rfcSecret, "1234567", false},
		{"right code with a seventh digit", rfcSecret, "2870820", false},
		{"letter", rfcSecret, "12a456", false},
		{"dash", rfcSecret, "287-082", false},
		{"sign", rfcSecret, "+87082", false},
		{"full-width digits", rfcSecret, "２８７０８２", false},
		{"secret not base32", "not base32!", "287082", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := auth.VerifyTOTP(tt.secret, tt.code, now, 0); ok != tt.wantOK {
				t.Errorf("VerifyTOTP(%q, %q) ok = %v, want %v", tt.secret, tt.code, ok, tt.wantOK)
			}
		})
	}
}

func TestVerifyTOTPSecretLength(t *testing.T) {
	// With an empty or short stored secret, anyone could compute the codes:
	// even the right code for such a secret is refused.
	tests := []struct {
		name   string
		secret string
		wantOK bool
	}{
		{"empty", "", false},
		{"10 bytes", "GEZDGNBVGY3TQOJQ", false},
		{"15 bytes", "GEZDGNBVGY3TQOJQGEZDGNBV", false},
		{"16 bytes", "GEZDGNBVGY3TQOJQGEZDGNBVGY", true},
		{"16 bytes, padded", "GEZDGNBVGY3TQOJQGEZDGNBVGY======", true},
	}
	now := time.Unix(1234567890, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := totp.GenerateCode(tt.secret, now)
			if err != nil {
				t.Fatalf("totp.GenerateCode(%q): %v", tt.secret, err)
			}
			if _, ok := auth.VerifyTOTP(tt.secret, code, now, 0); ok != tt.wantOK {
				t.Errorf("VerifyTOTP with secret %q: ok = %v, want %v", tt.secret, ok, tt.wantOK)
			}
		})
	}
}

func TestNewTOTPEnrolment(t *testing.T) {
	e, err := auth.NewTOTPEnrolment("Tandem", "ada@example.org")
	if err != nil {
		t.Fatalf("NewTOTPEnrolment: %v", err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if err != nil || len(raw) != 20 {
		t.Errorf("secret %q: %d bytes, err %v; want 20 bytes of unpadded base32", e.Secret, len(raw), err)
	}

	u, err := url.Parse(e.URI)
	if err != nil {
		t.Fatalf("URI %q: %v", e.URI, err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Tandem:ada@example.org" {
		t.Errorf("URI %q: scheme %q, host %q, path %q; want otpauth, totp, /Tandem:ada@example.org", e.URI, u.Scheme, u.Host, u.Path)
	}
	q := u.Query()
	for param, want := range map[string]string{
		"issuer": "Tandem", "secret": e.Secret, "period": "30", "digits": "6", "algorithm": "SHA1",
	} {
		if got := q.Get(param); got != want {
			t.Errorf("URI %s = %q, want %q", param, got, want)
		}
	}

	img, err := png.Decode(bytes.NewReader(e.QRPNG))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Errorf("QR code is %dx%d, want 256x256", b.Dx(), b.Dy())
	}

	// What the app will compute from the secret verifies.
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	code, err := totp.GenerateCode(e.Secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if step, ok := auth.VerifyTOTP(e.Secret, code, now, 0); !ok || step != auth.TOTPStep(now) {
		t.Errorf("VerifyTOTP of the enrolled secret's code = %d, %v; want %d, true", step, ok, auth.TOTPStep(now))
	}

	other, err := auth.NewTOTPEnrolment("Tandem", "ada@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if other.Secret == e.Secret {
		t.Error("two enrolments got the same secret")
	}
}

func TestNewTOTPEnrolmentRefuses(t *testing.T) {
	tests := []struct{ name, issuer, account string }{
		{"no issuer", "", "ada@example.org"},
		{"no account", "Tandem", ""},
		{"colon in issuer", "Tandem:EU", "ada@example.org"},
		{"colon in account", "Tandem", "ada:lovelace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := auth.NewTOTPEnrolment(tt.issuer, tt.account); err == nil {
				t.Errorf("NewTOTPEnrolment(%q, %q) succeeded, want an error", tt.issuer, tt.account)
			}
		})
	}
}

const recoveryAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

func TestNewRecoveryCodes(t *testing.T) {
	const n = 200
	codes, hashes, err := auth.NewRecoveryCodes(n)
	if err != nil {
		t.Fatalf("NewRecoveryCodes: %v", err)
	}
	if len(codes) != n || len(hashes) != n {
		t.Fatalf("got %d codes and %d hashes, want %d of each", len(codes), len(hashes), n)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 11 || c[5] != '-' {
			t.Errorf("code %q is not formatted xxxxx-xxxxx", c)
		}
		for _, r := range strings.Replace(c, "-", "", 1) {
			if !strings.ContainsRune(recoveryAlphabet, r) {
				t.Errorf("code %q has %q, outside the alphabet", c, r)
			}
		}
		if strings.ContainsAny(c, "0O1lI") {
			t.Errorf("code %q has an ambiguous character", c)
		}
		if seen[c] {
			t.Errorf("code %q issued twice", c)
		}
		seen[c] = true
		if !bytes.Equal(hashes[i], auth.HashRecoveryCode(c)) {
			t.Errorf("hash %d is not HashRecoveryCode(%q)", i, c)
		}
		if !auth.LooksLikeRecoveryCode(c) {
			t.Errorf("LooksLikeRecoveryCode(%q) = false for an issued code", c)
		}
	}
	// Every symbol turns up across 2000 draws (each is missed with odds of about 1e-28).
	for _, r := range recoveryAlphabet {
		if !strings.ContainsRune(strings.Join(codes, ""), r) {
			t.Errorf("symbol %q never drawn", r)
		}
	}

	for _, bad := range []int{0, -1} {
		if _, _, err := auth.NewRecoveryCodes(bad); err == nil {
			t.Errorf("NewRecoveryCodes(%d) succeeded, want an error", bad)
		}
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abcde-fghij", "abcdefghij"},
		{"ABCDE-fghij", "abcdefghij"},
		{" abcde fghij ", "abcdefghij"},
		{"ab-cd-ef-gh-ij", "abcdefghij"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := auth.NormalizeRecoveryCode(tt.in); got != tt.want {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHashRecoveryCode(t *testing.T) {
	if !bytes.Equal(auth.HashRecoveryCode("ABCDE-fghij"), auth.HashRecoveryCode("abcdefghij")) {
		t.Error("HashRecoveryCode differs between ABCDE-fghij and abcdefghij")
	}
	if !bytes.Equal(auth.HashRecoveryCode("abcdefghij"), auth.HashOpaqueToken("abcdefghij")) {
		t.Error("HashRecoveryCode(abcdefghij) is not the SHA-256 of the normalised code")
	}
	if bytes.Equal(auth.HashRecoveryCode("abcde-fghij"), auth.HashRecoveryCode("abcde-fghik")) {
		t.Error("different codes hash alike")
	}
}

func TestLooksLikeRecoveryCode(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"ABCDE-fghij", true},
		{"abcdefghij", true},
		{"xyz23 45678", true},
		{"123456", false},
		{"287 082", false},
		{"", false},
		{"abcde-fghi", false},
		{"abcde-fghijk", false},
		{"abcde-fgh0j", false}, // 0, o, 1 and l are not in the alphabet
		{"abcde-fghoj", false},
		{"abcde-fgh1j", false},
		{"abcde-fghlj", false},
		{"abcde_fghij", false},
		{"abcdé-fghij", false},
	}
	for _, tt := range tests {
		if got := auth.LooksLikeRecoveryCode(tt.in); got != tt.want {
			t.Errorf("LooksLikeRecoveryCode(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
