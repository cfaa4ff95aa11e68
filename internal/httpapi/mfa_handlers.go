package httpapi

import (
	"context"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/page"
)

// EnrolTotp starts TOTP enrolment.
func (s *Server) EnrolTotp(ctx context.Context, _ api.EnrolTotpRequestObject) (api.EnrolTotpResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.accounts.EnrolTOTP(ctx, actor)
	if err != nil {
		return nil, err
	}
	return api.EnrolTotp201JSONResponse{Body: api.TotpEnrolment{Secret: e.Secret, OtpauthUri: e.URI, QrPng: e.QRPNG},
		Headers: api.EnrolTotp201ResponseHeaders{Location: BasePath + "/me/mfa/totp"}}, nil
}

// ConfirmTotp turns TOTP on and answers the recovery codes.
func (s *Server) ConfirmTotp(ctx context.Context, r api.ConfirmTotpRequestObject) (api.ConfirmTotpResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	codes, err := s.accounts.ConfirmTOTP(ctx, actor, r.Body.Code)
	if err != nil {
		return nil, err
	}
	return api.ConfirmTotp200JSONResponse{RecoveryCodes: codes}, nil
}

// DisableTotp turns TOTP off.
func (s *Server) DisableTotp(ctx context.Context, _ api.DisableTotpRequestObject) (api.DisableTotpResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.accounts.DisableTOTP(ctx, actor); err != nil {
		return nil, err
	}
	return api.DisableTotp204Response{}, nil
}

// ListSignIns lists the caller's signed-in devices.
func (s *Server) ListSignIns(ctx context.Context, r api.ListSignInsRequestObject) (api.ListSignInsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.accounts.ListSignIns(ctx, actor, pr)
	if err != nil {
		return nil, err
	}
	out := api.SessionInfoList{Items: make([]api.SessionInfo, len(list)), NextCursor: nullableOf(next)}
	for i, si := range list {
		out.Items[i] = api.SessionInfo{Id: si.ID, CreatedAt: si.CreatedAt, LastUsedAt: si.LastUsedAt, Ip: si.IP,
			UserAgent: si.UserAgent, Current: si.Current}
	}
	return api.ListSignIns200JSONResponse(out), nil
}

// RevokeSignIn signs one of the caller's devices out.
func (s *Server) RevokeSignIn(ctx context.Context, r api.RevokeSignInRequestObject) (api.RevokeSignInResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.accounts.RevokeSignIn(ctx, actor, r.SessionId); err != nil {
		return nil, err
	}
	return api.RevokeSignIn204Response{}, nil
}

// RevokeOtherSignIns signs out every other device of the caller.
func (s *Server) RevokeOtherSignIns(ctx context.Context, _ api.RevokeOtherSignInsRequestObject) (api.RevokeOtherSignInsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.accounts.RevokeOtherSignIns(ctx, actor); err != nil {
		return nil, err
	}
	return api.RevokeOtherSignIns204Response{}, nil
}
