// Package account is identity and tenancy: practices, their owners and
// coaches, invitations, and sign-in sessions with rotating refresh tokens.
package account

import (
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	tmail "github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/ratelimit"
	"github.com/tandem-coach/tandem/internal/store"
)

// SessionLifetime is the absolute lifetime of a sign-in: refresh tokens
// rotate within it, and after it the user logs in again.
const SessionLifetime = 30 * 24 * time.Hour

// Config is what the account service needs.
type Config struct {
	Store         *store.Store
	Tokens        *auth.Tokens
	Mailer        tmail.Mailer
	Clock         clock.Clock
	Log           *slog.Logger
	BaseURL       string // the public URL, for links in e-mails
	InvitationTTL time.Duration
	// AccountLimit limits login and refresh attempts per account.
	AccountLimit ratelimit.Rule
}

// Service runs the account operations. Every business operation is one
// transaction.
type Service struct {
	db            *store.Store
	tokens        *auth.Tokens
	mailer        tmail.Mailer
	clock         clock.Clock
	log           *slog.Logger
	baseURL       string
	invitationTTL time.Duration
	accountLimit  *ratelimit.Limiter
}

// NewService returns the account service.
func NewService(c Config) *Service {
	if c.AccountLimit.Burst == 0 {
		c.AccountLimit = ratelimit.Rule{Burst: 10, Per: 10 * time.Minute}
	}
	return &Service{
		db: c.Store, tokens: c.Tokens, mailer: c.Mailer, clock: c.Clock, log: c.Log,
		baseURL: c.BaseURL, invitationTTL: c.InvitationTTL,
		accountLimit: ratelimit.New(c.AccountLimit, c.Clock),
	}
}

// TokenPair is what a successful sign-in returns.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
}

var errBadCredentials = apperr.New(apperr.Unauthenticated, "The e-mail or password is wrong.")

func checkNewPassword(password string, fields *apperr.Fields) {
	if reason := auth.CheckPasswordPolicy(password); reason != "" {
		fields.Add("password", reason)
	}
}

// startSession creates a session and its first refresh token in tx and signs
// an access token for it.
func (s *Service) startSession(tx *gorm.DB, userID uuid.UUID, practiceID *uuid.UUID) (TokenPair, error) {
	now := s.clock.Now()
	sess := sessionRow{ID: newID(), UserID: userID, PracticeID: practiceID, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
	if err := tx.Create(&sess).Error; err != nil {
		return TokenPair{}, err
	}
	return s.issueRefresh(tx, sess, now)
}

func (s *Service) issueRefresh(tx *gorm.DB, sess sessionRow, now time.Time) (TokenPair, error) {
	token, hash := auth.NewOpaqueToken()
	rt := refreshTokenRow{ID: newID(), SessionID: sess.ID, TokenHash: hash, CreatedAt: now}
	if err := tx.Create(&rt).Error; err != nil {
		return TokenPair{}, err
	}
	access, err := s.tokens.Issue(sess.UserID, sess.ID)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: token, ExpiresIn: auth.AccessTokenTTL}, nil
}

// limitAccount spends one attempt of the account's login/refresh budget.
func (s *Service) limitAccount(key string) error {
	if ok, wait := s.accountLimit.Allow(key); !ok {
		return &apperr.Error{Code: apperr.TooManyRequests, Message: "Too many attempts for this account; try again later.", RetryAfter: wait}
	}
	return nil
}

func notFoundIfMissing(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.New(apperr.NotFound, what+" not found.")
	}
	return err
}

// requirePractice returns the actor's practice or 403 when the session has none.
func requirePractice(a auth.Actor) (uuid.UUID, error) {
	if a.PracticeID == uuid.Nil || !a.IsStaff() {
		return uuid.Nil, apperr.New(apperr.Forbidden, "This account is not a member of a practice.")
	}
	return a.PracticeID, nil
}
