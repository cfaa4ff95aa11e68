package auth

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Role is what a user is to a practice.
type Role string

// The roles a user can hold in a practice. Which records a role reaches is
// decided per record by the domain services, not here.
const (
	RoleOwner  Role = "owner"
	RoleCoach  Role = "coach"
	RoleClient Role = "client" // a portal account linked to one client record
)

// Actor is the authenticated caller of a request: who they are, the sign-in
// session the request belongs to, and their roles in that session's practice.
// It is loaded from the database on every request, so a revoked session or a
// removed membership takes effect immediately.
type Actor struct {
	UserID     uuid.UUID
	SessionID  uuid.UUID
	PracticeID uuid.UUID // uuid.Nil when the user belongs to no practice
	Roles      []Role
	// ClientID is the client record a RoleClient actor is linked to.
	ClientID uuid.UUID
	// ClientArchived is set when that client record is archived: the client
	// keeps control of their consents, and nothing else.
	ClientArchived bool

	// EmailVerified reports whether the user proved their e-mail address.
	EmailVerified bool
	// MFAEnrolmentRequired is set when the practice requires MFA of its
	// owners and coaches and this one has not enabled it.
	MFAEnrolmentRequired bool
	// AuthTime is when the session last proved who the user is (sign-in or
	// step-up), and AuthMethod how.
	AuthTime   time.Time
	AuthMethod string
}

// StepUpWindow is how recent an authentication must be for the acts that
// matter: signing a consent, changing e-mail, turning MFA off.
const StepUpWindow = 5 * time.Minute

// FreshlyAuthenticated reports whether the actor proved who they are within
// StepUpWindow of now.
func (a Actor) FreshlyAuthenticated(now time.Time) bool {
	return !a.AuthTime.IsZero() && now.Sub(a.AuthTime) <= StepUpWindow
}

// Authentication methods, as sessions and consent signatures record them.
const (
	MethodPassword             = "password"
	MethodPasswordTOTP         = "password+totp"
	MethodPasswordRecoveryCode = "password+recovery_code"
	MethodEmailLink            = "password+email_link" // a password set with an e-mailed invitation
)

// Has reports whether the actor holds role in their practice.
func (a Actor) Has(role Role) bool { return slices.Contains(a.Roles, role) }

// IsClient reports whether the actor is a client with a portal account in
// their practice.
func (a Actor) IsClient() bool { return a.Has(RoleClient) && a.ClientID != uuid.Nil }

// IsStaff reports whether the actor is an owner or coach of their practice.
func (a Actor) IsStaff() bool { return a.Has(RoleOwner) || a.Has(RoleCoach) }

type actorKey struct{}

// WithActor returns ctx carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx and whether there is one.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
