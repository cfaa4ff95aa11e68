// Package account is identity and tenancy: practices, their owners and
// coaches, invitations, and sign-in sessions with rotating refresh tokens.
package account

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/limits"
	tmail "github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/ratelimit"
	"github.com/tandem-coach/tandem/internal/reqinfo"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// SessionLifetime is the absolute lifetime of a sign-in: refresh tokens
// rotate within it, and after it the user logs in again.
const SessionLifetime = 30 * 24 * time.Hour

// Config is what the account service needs.
type Config struct {
	Store  *store.Store
	Tokens *auth.Tokens
	// Mailer is unused: e-mail goes out through the job queue (package
	// jobs), whose workers hold the mailer.
	//
	// Deprecated: leave it out.
	Mailer        tmail.Mailer
	Clock         clock.Clock
	Log           *slog.Logger
	BaseURL       string // the public URL, for links in e-mails
	InvitationTTL time.Duration
	// Secrets seals TOTP secrets at rest (the note keys).
	Secrets *sealbox.Box
	// InvitationsPerDay caps the coach and portal invitations a practice
	// sends in 24 hours; zero means the default.
	InvitationsPerDay int
	// AccountBackoff slows failed sign-ins per account, from any address;
	// DeviceBackoff per account and address. Zero values mean the defaults.
	AccountBackoff, DeviceBackoff ratelimit.BackoffRule
	// Limits bounds the practice's coaches; nil: no limit.
	Limits limits.Checker
}

// Service runs the account operations. Every business operation is one
// transaction.
type Service struct {
	db            *store.Store
	tokens        *auth.Tokens
	clock         clock.Clock
	log           *slog.Logger
	baseURL       string
	invitationTTL time.Duration
	secrets       *sealbox.Box
	invitesPerDay int
	limits        limits.Checker
	// Failed sign-ins (passwords and second factors) back off per account
	// and per account and address; neither ever locks an account.
	// The back-offs are shared by every replica on PostgreSQL, and kept in
	// memory on SQLite (ratelimit.NewFailures).
	accountBackoff, deviceBackoff ratelimit.Failures
}

// DefaultInvitationsPerDay caps a practice's invitations in 24 hours.
const DefaultInvitationsPerDay = 50

// Default back-offs. A stranger's failures make the owner of an account wait
// at most AccountBackoff's ceiling, and only from an address the owner has
// not signed in from before; the stranger's own address backs off further.
var (
	DefaultAccountBackoff = ratelimit.BackoffRule{Free: 10, Base: time.Second, Ceiling: 30 * time.Second, Forget: time.Hour}
	DefaultDeviceBackoff  = ratelimit.BackoffRule{Free: 5, Base: time.Second, Ceiling: 15 * time.Minute, Forget: 24 * time.Hour}
)

// NewService returns the account service.
func NewService(c Config) *Service {
	if c.AccountBackoff.Ceiling == 0 {
		c.AccountBackoff = DefaultAccountBackoff
	}
	if c.DeviceBackoff.Ceiling == 0 {
		c.DeviceBackoff = DefaultDeviceBackoff
	}
	if c.InvitationsPerDay == 0 {
		c.InvitationsPerDay = DefaultInvitationsPerDay
	}
	return &Service{
		db: c.Store, tokens: c.Tokens, clock: c.Clock, log: c.Log,
		baseURL: c.BaseURL, invitationTTL: c.InvitationTTL, secrets: c.Secrets, invitesPerDay: c.InvitationsPerDay, limits: c.Limits,
		accountBackoff: ratelimit.NewFailures(c.Store, "sign-in-account", c.AccountBackoff, c.Clock),
		deviceBackoff:  ratelimit.NewFailures(c.Store, "sign-in-device", c.DeviceBackoff, c.Clock),
	}
}

// Wait returns at once: no e-mail is sent in the background any more (they
// are jobs, queued in the transaction of the change that causes them).
//
// Deprecated: wait for the job queue instead.
func (s *Service) Wait() {}

// enqueue queues e-mails in tx, the transaction of the change that causes
// them; the job queue's workers send them once it commits.
func (s *Service) enqueue(ctx context.Context, tx *gorm.DB, msgs ...jobs.Mail) error {
	return jobs.EnqueueMail(ctx, s.db, tx, msgs...)
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
// an access token for it. method is how the user just proved who they are;
// the session remembers it and when, for step-up.
func (s *Service) startSession(ctx context.Context, tx *gorm.DB, userID uuid.UUID, practiceID *uuid.UUID, method string) (TokenPair, error) {
	now := s.clock.Now()
	info := reqinfo.From(ctx)
	sess := sessionRow{ID: newID(), UserID: userID, PracticeID: practiceID, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime),
		LastUsedAt: now, IP: info.IP, UserAgent: info.UserAgent, AuthTime: now, AuthMethod: method}
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
