package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// SecretPrefix starts every signing secret, as the Standard Webhooks spec
// writes them: whsec_ and the base64 of the key.
const SecretPrefix = "whsec_"

// secretBytes is the key's length: 32 random bytes (the spec asks for 24 to 64).
const secretBytes = 32

// newSecret returns a new signing secret, whsec_ and base64.
func newSecret() string {
	key := make([]byte, secretBytes)
	_, _ = rand.Read(key)
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// secretKey decodes the key of a whsec_ secret.
func secretKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errors.New("webhook secret lacks its whsec_ prefix")
	}
	return base64.StdEncoding.DecodeString(raw)
}

// Sign returns the webhook-signature header of one message per the Standard
// Webhooks spec: "v1," and the base64 HMAC-SHA256, keyed by the secret's
// key, of "<webhook-id>.<webhook-timestamp>.<body>".
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
