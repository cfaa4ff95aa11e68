package httpapi

import (
	"context"
	"errors"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/account"
)

func toAPITokens(p account.TokenPair) api.TokenResponse {
	return api.TokenResponse{
		AccessToken:  p.AccessToken,
		RefreshToken: p.RefreshToken,
		TokenType:    api.Bearer,
		ExpiresIn:    int(p.ExpiresIn.Seconds()),
	}
}

// Register creates a practice and its owner.
func (s *Server) Register(ctx context.Context, r api.RegisterRequestObject) (api.RegisterResponseObject, error) {
	pair, err := s.accounts.Register(ctx, account.Registration{
		PracticeName: r.Body.PracticeName, Name: r.Body.Name, Email: string(r.Body.Email), Password: r.Body.Password,
	})
	if err != nil {
		return nil, err
	}
	return api.Register201JSONResponse(toAPITokens(pair)), nil
}

// Login signs a user in.
func (s *Server) Login(ctx context.Context, r api.LoginRequestObject) (api.LoginResponseObject, error) {
	pair, err := s.accounts.Login(ctx, r.Body.Email, r.Body.Password)
	if err != nil {
		return nil, err
	}
	return api.Login200JSONResponse(toAPITokens(pair)), nil
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

// AcceptInvitation spends an invitation and signs the invitee in.
func (s *Server) AcceptInvitation(ctx context.Context, r api.AcceptInvitationRequestObject) (api.AcceptInvitationResponseObject, error) {
	in := account.Acceptance{Token: r.Token, Name: r.Body.Name, Password: r.Body.Password}
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
	return api.AcceptInvitation201JSONResponse(toAPITokens(pair)), nil
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
	out := api.Me{Id: me.UserID, Name: me.Name, Email: me.Email, Roles: make([]api.Role, 0, len(me.Roles))}
	for _, r := range me.Roles {
		out.Roles = append(out.Roles, api.Role(r))
	}
	if me.Practice != nil {
		out.Practice = &api.PracticeRef{Id: me.Practice.ID, Name: me.Practice.Name}
	}
	return api.GetMe200JSONResponse(out), nil
}
