package httpapi

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/apperr"
)

func toAPITokens(p account.TokenPair) api.TokenResponse {
	return api.TokenResponse{
		AccessToken:  p.AccessToken,
		RefreshToken: p.RefreshToken,
		TokenType:    api.TokenResponseTokenTypeBearer,
		ExpiresIn:    int(p.ExpiresIn.Seconds()),
	}
}

// The answers that must not tell whether an address has an account.
const (
	registeredNotice = "Check your mailbox: we sent a link to confirm the address. " +
		"If you already have an account, the e-mail says so instead."
	resetNotice  = "If the address has an account, a link to reset its password is on its way; it works for 30 minutes."
	changeNotice = "Check the new address's mailbox for a link that confirms the change; your current address has been told."
)

// Register creates a practice and its owner.
func (s *Server) Register(ctx context.Context, r api.RegisterRequestObject) (api.RegisterResponseObject, error) {
	err := s.accounts.Register(ctx, account.Registration{
		PracticeName: r.Body.PracticeName, Name: r.Body.Name, Email: string(r.Body.Email), Password: r.Body.Password,
	})
	if err != nil {
		return nil, err
	}
	return api.Register202JSONResponse{Message: registeredNotice}, nil
}

// Login signs a user in, or asks for their second factor.
func (s *Server) Login(ctx context.Context, r api.LoginRequestObject) (api.LoginResponseObject, error) {
	in, err := s.accounts.Login(ctx, r.Body.Email, r.Body.Password, r.Body.TotpCode)
	if err != nil {
		return nil, err
	}
	if in.Challenge != nil {
		return api.Login202JSONResponse{MfaToken: in.Challenge.Token, ExpiresIn: int(in.Challenge.ExpiresIn.Seconds())}, nil
	}
	return api.Login200JSONResponse(toAPITokens(*in.Tokens)), nil
}

// LoginMfa completes a sign-in with a second factor.
func (s *Server) LoginMfa(ctx context.Context, r api.LoginMfaRequestObject) (api.LoginMfaResponseObject, error) {
	pair, err := s.accounts.LoginMFA(ctx, r.Body.MfaToken, r.Body.Code)
	if err != nil {
		return nil, err
	}
	return api.LoginMfa200JSONResponse(toAPITokens(pair)), nil
}

// Reauthenticate refreshes the session's authentication time (step-up).
func (s *Server) Reauthenticate(ctx context.Context, r api.ReauthenticateRequestObject) (api.ReauthenticateResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.accounts.Reauthenticate(ctx, actor, r.Body.Password, r.Body.TotpCode); err != nil {
		return nil, err
	}
	return api.Reauthenticate204Response{}, nil
}

// Refresh rotates a refresh token.
func (s *Server) Refresh(ctx context.Context, r api.RefreshRequestObject) (api.RefreshResponseObject, error) {
	pair, err := s.accounts.Refresh(ctx, r.Body.RefreshToken)
	if err != nil {
		return nil, err
	}
	return api.Refresh200JSONResponse(toAPITokens(pair)), nil
}

// Logout ends a session.
func (s *Server) Logout(ctx context.Context, r api.LogoutRequestObject) (api.LogoutResponseObject, error) {
	if err := s.accounts.Logout(ctx, r.Body.RefreshToken); err != nil {
		return nil, err
	}
	return api.Logout204Response{}, nil
}

// VerifyEmail uses an e-mailed link that proves an address.
func (s *Server) VerifyEmail(ctx context.Context, r api.VerifyEmailRequestObject) (api.VerifyEmailResponseObject, error) {
	email, err := s.accounts.VerifyEmail(ctx, r.Body.Token)
	if err != nil {
		return nil, err
	}
	return api.VerifyEmail200JSONResponse{Email: email}, nil
}

// ResendVerification sends a new verification link to the caller.
func (s *Server) ResendVerification(ctx context.Context, _ api.ResendVerificationRequestObject) (api.ResendVerificationResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.accounts.ResendVerification(ctx, actor); err != nil {
		return nil, err
	}
	return api.ResendVerification202JSONResponse{Message: "If your address is not confirmed yet, a new link is on its way."}, nil
}

// RequestPasswordReset e-mails a reset link, if the address has an account.
func (s *Server) RequestPasswordReset(ctx context.Context, r api.RequestPasswordResetRequestObject) (api.RequestPasswordResetResponseObject, error) {
	if err := s.accounts.RequestPasswordReset(ctx, string(r.Body.Email)); err != nil {
		return nil, err
	}
	return api.RequestPasswordReset202JSONResponse{Message: resetNotice}, nil
}

// ConfirmPasswordReset sets a new password with a reset link's token.
func (s *Server) ConfirmPasswordReset(ctx context.Context, r api.ConfirmPasswordResetRequestObject) (api.ConfirmPasswordResetResponseObject, error) {
	if err := s.accounts.ConfirmPasswordReset(ctx, r.Body.Token, r.Body.Password); err != nil {
		return nil, err
	}
	return api.ConfirmPasswordReset204Response{}, nil
}

// ChangePassword changes the caller's password.
func (s *Server) ChangePassword(ctx context.Context, r api.ChangePasswordRequestObject) (api.ChangePasswordResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.accounts.ChangePassword(ctx, actor, r.Body.CurrentPassword, r.Body.NewPassword); err != nil {
		return nil, err
	}
	return api.ChangePassword204Response{}, nil
}

// ChangeEmail starts a change of the caller's address.
func (s *Server) ChangeEmail(ctx context.Context, r api.ChangeEmailRequestObject) (api.ChangeEmailResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.accounts.ChangeEmail(ctx, actor, string(r.Body.Email)); err != nil {
		return nil, err
	}
	return api.ChangeEmail202JSONResponse{Message: changeNotice}, nil
}

// AcceptInvitation spends an invitation and signs the invitee in.
func (s *Server) AcceptInvitation(ctx context.Context, r api.AcceptInvitationRequestObject) (api.AcceptInvitationResponseObject, error) {
	in := account.Acceptance{Token: r.Body.Token, Name: r.Body.Name, Password: r.Body.Password, TOTPCode: r.Body.TotpCode}
	pair, err := s.accounts.AcceptInvitation(ctx, in)
	if errors.Is(err, account.ErrNoSuchInvitation) {
		// Not a coach invitation: perhaps a client's portal invitation.
		pair, err = s.clients.AcceptInvitation(ctx, in)
	}
	if errors.Is(err, account.ErrNoSuchInvitation) {
		// Nor a client's: perhaps a therapist's invitation to a consent.
		pair, err = s.consent.AcceptInvitation(ctx, in)
	}
	if err != nil {
		return nil, err
	}
	return api.AcceptInvitation201JSONResponse{Body: toAPITokens(pair), Headers: api.AcceptInvitation201ResponseHeaders{Location: BasePath + "/me"}}, nil
}

// errNotDeclinable answers a decline of a coach or portal invitation: no
// one waits on its answer, and unused it simply expires.
var errNotDeclinable = &apperr.Error{Code: apperr.Conflict, Reason: "invitation_not_declinable",
	Message: "Only a therapist's invitation to a client's consent can be declined. This invitation expires on its own if you do not use it."}

// DeclineInvitation lets the therapist a consent names decline it from the
// e-mailed link, without an account.
func (s *Server) DeclineInvitation(ctx context.Context, r api.DeclineInvitationRequestObject) (api.DeclineInvitationResponseObject, error) {
	err := s.consent.DeclineInvitation(ctx, r.Body.Token)
	if errors.Is(err, account.ErrNoSuchInvitation) {
		// A coach or portal invitation answers as accepting it would when
		// spent or expired, and otherwise cannot be declined.
		if err = s.accounts.CheckInvitation(ctx, r.Body.Token); errors.Is(err, account.ErrNoSuchInvitation) {
			err = s.clients.CheckInvitation(ctx, r.Body.Token)
		}
		if err == nil {
			err = errNotDeclinable
		}
	}
	if err != nil {
		return nil, err
	}
	return api.DeclineInvitation204Response{}, nil
}

// GetMe returns the caller.
func (s *Server) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	me, err := s.accounts.Me(ctx, actor)
	if err != nil {
		return nil, err
	}
	return api.GetMe200JSONResponse(toMe(me)), nil
}

func toMe(me account.Me) api.Me {
	out := api.Me{Id: me.UserID, Name: me.Name, Email: me.Email, EmailVerified: me.EmailVerified, MfaEnabled: me.MFAEnabled,
		MfaEnrolmentRequired: me.MFAEnrolmentRequired, Roles: make([]api.Role, 0, len(me.Roles))}
	for _, r := range me.Roles {
		out.Roles = append(out.Roles, api.Role(r))
	}
	if me.ClientID != uuid.Nil {
		out.ClientId = &me.ClientID
	}
	if me.Practice != nil {
		out.Practice = &api.PracticeRef{Id: me.Practice.ID, Name: me.Practice.Name}
	}
	return out
}
