package httpapi

import (
	"context"

	"github.com/oapi-codegen/nullable"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/privacy"
)

func toAPIExport(e privacy.Export) api.ExportJob {
	out := api.ExportJob{Id: e.ID, Scope: api.ExportJobScope(e.Scope), Status: api.ExportJobStatus(e.Status),
		SizeBytes: nullableOf(e.SizeBytes), CreatedAt: e.CreatedAt, ReadyAt: nullableOf(e.ReadyAt),
		DownloadedAt: nullableOf(e.DownloadedAt), ExpiresAt: e.ExpiresAt, StatusUrl: href("exports", e.ID),
		ClientId: nullable.NewNullNullable[api.ClientId]()}
	if e.ClientID != nil {
		out.ClientId = nullable.NewNullableWithValue(*e.ClientID)
	}
	return out
}

func toAPIErasure(r privacy.ErasureRequest) api.ErasureRequest {
	return api.ErasureRequest{Id: r.ID, ClientId: r.ClientID, Status: api.ErasureRequestStatus(r.Status),
		RequestedAt: r.RequestedAt, DueAt: r.DueAt}
}

// ExportMyData starts an export of the caller's own data.
func (s *Server) ExportMyData(ctx context.Context, _ api.ExportMyDataRequestObject) (api.ExportMyDataResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, token, err := s.privacy.RequestExport(ctx, actor, nil)
	if err != nil {
		return nil, err
	}
	body := toAPIExport(e)
	link := s.privacy.DownloadURL(token)
	body.DownloadUrl = &link
	return api.ExportMyData202JSONResponse{Body: body, Headers: api.ExportMyData202ResponseHeaders{Location: body.StatusUrl}}, nil
}

// ExportClientData starts an export of a client's record.
func (s *Server) ExportClientData(ctx context.Context, r api.ExportClientDataRequestObject) (api.ExportClientDataResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	id := r.ClientId
	e, token, err := s.privacy.RequestExport(ctx, actor, &id)
	if err != nil {
		return nil, err
	}
	body := toAPIExport(e)
	link := s.privacy.DownloadURL(token)
	body.DownloadUrl = &link
	return api.ExportClientData202JSONResponse{Body: body, Headers: api.ExportClientData202ResponseHeaders{Location: body.StatusUrl}}, nil
}

// GetExport returns the state of an export the caller asked for.
func (s *Server) GetExport(ctx context.Context, r api.GetExportRequestObject) (api.GetExportResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.privacy.ExportStatus(ctx, actor, r.ExportId)
	if err != nil {
		return nil, err
	}
	return api.GetExport200JSONResponse(toAPIExport(e)), nil
}

// DownloadExport streams a built export once.
func (s *Server) DownloadExport(ctx context.Context, r api.DownloadExportRequestObject) (api.DownloadExportResponseObject, error) {
	e, archive, err := s.privacy.Download(ctx, r.Token)
	if err != nil {
		return nil, err
	}
	size, err := archive.Size()
	if err != nil {
		return nil, err
	}
	disposition := `attachment; filename="tandem-export-` + e.ID.String() + `.zip"`
	return api.DownloadExport200ApplicationzipResponse{Body: archive, ContentLength: size,
		Headers: api.DownloadExport200ResponseHeaders{ContentDisposition: &disposition}}, nil
}

// RequestMyErasure records the calling client's request for erasure.
func (s *Server) RequestMyErasure(ctx context.Context, _ api.RequestMyErasureRequestObject) (api.RequestMyErasureResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	req, err := s.privacy.RequestErasure(ctx, actor, nil)
	if err != nil {
		return nil, err
	}
	return api.RequestMyErasure202JSONResponse(toAPIErasure(req)), nil
}

// CancelMyErasure cancels the calling client's pending erasure request.
func (s *Server) CancelMyErasure(ctx context.Context, _ api.CancelMyErasureRequestObject) (api.CancelMyErasureResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.privacy.CancelErasure(ctx, actor); err != nil {
		return nil, err
	}
	return api.CancelMyErasure204Response{}, nil
}

// RequestClientErasure records, for the owner, a client's request for erasure.
func (s *Server) RequestClientErasure(ctx context.Context, r api.RequestClientErasureRequestObject) (api.RequestClientErasureResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	id := r.ClientId
	req, err := s.privacy.RequestErasure(ctx, actor, &id)
	if err != nil {
		return nil, err
	}
	return api.RequestClientErasure202JSONResponse(toAPIErasure(req)), nil
}
