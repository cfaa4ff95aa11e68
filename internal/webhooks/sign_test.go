package webhooks

import "testing"

// TestSignMatchesTheStandardWebhooksVector: the signature of the Standard
// Webhooks spec's published example, which its reference libraries
// reproduce, so that a receiver's library verifies what Tandem sends.
func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
		[]byte(`{"test": 2432232314}`))
	if err != nil || got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("Sign = %q, %v", got, err)
	}
	if _, err := Sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, nil); err == nil {
		t.Fatal("a secret without whsec_ signs")
	}
}

// TestNewSecret: whsec_ and the base64 of 32 random bytes, never twice the same.
func TestNewSecret(t *testing.T) {
	a, b := newSecret(), newSecret()
	key, err := secretKey(a)
	if err != nil || len(key) != secretBytes || a == b {
		t.Fatalf("newSecret = %q (%d bytes, %v), then %q", a, len(key), err, b)
	}
}
