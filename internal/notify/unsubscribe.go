package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// Every e-mail a person may do without carries an RFC 8058 one-click
// unsubscribe: a List-Unsubscribe URL holding a token signed with HMAC
// (who, which kind), which turns that kind off without signing in. Mail
// that the law or safety needs (consent changes, password reset,
// invitations) carries none.

// Kind is a kind of e-mail a person can turn off.
type Kind string

// The kinds of e-mail a person can turn off, as the preferences name them.
const (
	KindDailyDigest      Kind = "daily_digest"
	KindSessionReminders Kind = "session_reminders"
	KindConsentReminders Kind = "consent_reminders"
	KindWeeklySummary    Kind = "weekly_summary"
)

// kindTitles says what each kind is, for the pages that confirm it is off.
var kindTitles = map[Kind]string{
	KindDailyDigest:      "the morning digest of your action steps",
	KindSessionReminders: "session reminders",
	KindConsentReminders: "reminders before a consent ends",
	KindWeeklySummary:    "the weekly summary of your practice",
}

// Title says in words what the kind of e-mail is.
func (k Kind) Title() string { return kindTitles[k] }

// UnsubscribePath is the page and one-click endpoint of the links.
const UnsubscribePath = "/unsubscribe"

// tokenKey is a key that signs unsubscribe tokens, derived from a sealing
// key so that no key serves two purposes.
type tokenKey struct {
	id     string
	secret []byte
}

func deriveTokenKeys(keys []sealbox.Key) []tokenKey {
	out := make([]tokenKey, len(keys))
	for i, k := range keys {
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte("tandem unsubscribe token v1"))
		out[i] = tokenKey{id: k.ID, secret: m.Sum(nil)}
	}
	return out
}

func (k tokenKey) sign(payload string) []byte {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

var b64 = base64.RawURLEncoding

// UnsubscribeToken returns the token that turns kind off for userID, and
// false when the service has no key to sign it.
func (s *Service) UnsubscribeToken(userID uuid.UUID, kind Kind) (string, bool) {
	if len(s.keys) == 0 {
		return "", false
	}
	k := s.keys[0]
	payload := string(kind) + ":" + userID.String() + ":" + k.id
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(k.sign(payload)), true
}

// errBadToken answers a token that is malformed, forged or of a key no
// longer configured: all look alike to the caller.
var errBadToken = apperr.Validation(apperr.FieldError{Field: "token",
	Message: "is not a valid unsubscribe link; open the link of a Tandem e-mail, or change your notification preferences after signing in"})

// parseToken checks a token's signature and returns what it turns off.
func (s *Service) parseToken(token string) (uuid.UUID, Kind, error) {
	rawPayload, rawMAC, ok := strings.Cut(token, ".")
	if !ok || len(token) > 300 {
		return uuid.Nil, "", errBadToken
	}
	payload, err1 := b64.DecodeString(rawPayload)
	mac, err2 := b64.DecodeString(rawMAC)
	if err1 != nil || err2 != nil {
		return uuid.Nil, "", errBadToken
	}
	parts := strings.SplitN(string(payload), ":", 3)
	if len(parts) != 3 {
		return uuid.Nil, "", errBadToken
	}
	for _, k := range s.keys {
		if k.id != parts[2] {
			continue
		}
		if !hmac.Equal(mac, k.sign(string(payload))) {
			return uuid.Nil, "", errBadToken
		}
		kind := Kind(parts[0])
		userID, err := uuid.Parse(parts[1])
		if _, known := kindTitles[kind]; !known || err != nil {
			return uuid.Nil, "", errBadToken
		}
		return userID, kind, nil
	}
	return uuid.Nil, "", errBadToken
}

// UnsubscribeHeaders are the RFC 8058 header fields of an e-mail of kind to
// userID (RFC 2369 List-Unsubscribe, with one-click POST), and the URL of
// the page that does the same, for the e-mail's footer. Without a key they
// are empty.
func (s *Service) UnsubscribeHeaders(userID uuid.UUID, kind Kind) (map[string]string, string) {
	tok, ok := s.UnsubscribeToken(userID, kind)
	if !ok {
		return nil, ""
	}
	link := s.c.BaseURL + UnsubscribePath + "?token=" + url.QueryEscape(tok)
	return map[string]string{
		"List-Unsubscribe":      "<" + link + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}, link
}

// Unsubscribe turns off the kind of e-mail a token names, for the person it
// names, in one transaction, and returns the kind. Using a link again, once
// the kind is off, changes nothing and answers the same.
func (s *Service) Unsubscribe(ctx context.Context, token string) (Kind, error) {
	userID, kind, err := s.parseToken(token)
	if err != nil {
		return "", err
	}
	// A change of the person's own at the same moment makes this one
	// stale: it is simply made again on what is current.
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.unsubscribe(ctx, userID, kind); !errors.Is(err, store.ErrStale) {
			break
		}
	}
	if err != nil {
		return "", err
	}
	s.c.Log.InfoContext(ctx, "unsubscribed by link", "kind", string(kind)) // never the token
	return kind, nil
}

// unsubscribe turns kind off for userID in one transaction.
func (s *Service) unsubscribe(ctx context.Context, userID uuid.UUID, kind Kind) error {
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		var users int64
		if err := tx.Table("users").Where("id = ?", userID).Count(&users).Error; err != nil {
			return err
		}
		if users == 0 {
			return errBadToken // the account is gone
		}
		cur, err := loadPreferences(tx, userID)
		if err != nil {
			return err
		}
		next := cur
		switch kind {
		case KindDailyDigest:
			next.DailyDigest = false
		case KindSessionReminders:
			next.SessionReminders = false
		case KindConsentReminders:
			next.ConsentReminders = false
		case KindWeeklySummary:
			next.WeeklySummary = false
		}
		if next == cur {
			return nil
		}
		return s.savePreferences(tx, userID, cur, next)
	})
}
