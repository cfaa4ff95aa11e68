package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/patch"
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
	out := api.ErasureRequest{Id: r.ID, ClientId: r.ClientID, Status: api.ErasureRequestStatus(r.Status),
		RequestedAt: r.RequestedAt, RequestedBy: api.ErasureRequestRequestedByOwner, DueAt: r.DueAt,
		CancellableBy: []api.ErasureRequestCancellableBy{api.ErasureRequestCancellableByOwner}}
	if r.ByClient {
		out.RequestedBy = api.ErasureRequestRequestedByClient
	}
	if r.ClientHasAccount {
		out.CancellableBy = []api.ErasureRequestCancellableBy{api.ErasureRequestCancellableByClient, api.ErasureRequestCancellableByOwner}
	}
	return out
}

// GetMyErasure returns the calling client's pending erasure request.
func (s *Server) GetMyErasure(ctx context.Context, _ api.GetMyErasureRequestObject) (api.GetMyErasureResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	req, err := s.privacy.PendingErasure(ctx, actor, nil)
	if err != nil {
		return nil, err
	}
	return api.GetMyErasure200JSONResponse(toAPIErasure(req)), nil
}

// GetClientErasure returns a client's pending erasure request, for staff who see the client.
func (s *Server) GetClientErasure(ctx context.Context, r api.GetClientErasureRequestObject) (api.GetClientErasureResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	id := r.ClientId
	req, err := s.privacy.PendingErasure(ctx, actor, &id)
	if err != nil {
		return nil, err
	}
	return api.GetClientErasure200JSONResponse(toAPIErasure(req)), nil
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
	e, archive, err := s.privacy.Download(ctx, r.Download)
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
	if err := s.privacy.CancelErasure(ctx, actor, nil); err != nil {
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

// retentionRun is the API's shape of a retention run's counts.
type retentionRun = struct {
	AuditEventsDeleted int64 `json:"audit_events_deleted"`
	ClientsErased      int64 `json:"clients_erased"`
	DisclosuresDeleted int64 `json:"disclosures_deleted"`
	InvitationsPurged  int64 `json:"invitations_purged"`
}

func toAPIRetention(r privacy.Retention) api.Retention {
	out := api.Retention{ArchivedClientYears: nullableOf(r.ArchivedClientYears), LogYears: r.LogYears,
		UpdatedAt: nullableOf(r.UpdatedAt), LastRunAt: nullableOf(r.LastRunAt), LastRun: nullable.NewNullNullable[retentionRun]()}
	if r.LastRun != nil {
		out.LastRun = nullable.NewNullableWithValue(retentionRun{AuditEventsDeleted: r.LastRun.AuditEventsDeleted,
			ClientsErased: r.LastRun.ClientsErased, DisclosuresDeleted: r.LastRun.DisclosuresDeleted,
			InvitationsPurged: r.LastRun.InvitationsPurged})
	}
	return out
}

// GetRetention returns the practice's retention settings.
func (s *Server) GetRetention(ctx context.Context, _ api.GetRetentionRequestObject) (api.GetRetentionResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.privacy.RetentionSettings(ctx, actor)
	if err != nil {
		return nil, err
	}
	etag := r.ETag()
	return api.GetRetention200JSONResponse{Body: toAPIRetention(r), Headers: api.GetRetention200ResponseHeaders{ETag: &etag}}, nil
}

// UpdateRetention changes the practice's retention settings.
func (s *Server) UpdateRetention(ctx context.Context, r api.UpdateRetentionRequestObject) (api.UpdateRetentionResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	out, err := s.privacy.UpdateRetention(ctx, actor, privacy.RetentionChange{
		ArchivedClientYears: patch.FromNullable(r.Body.ArchivedClientYears), LogYears: patch.FromPtr(r.Body.LogYears),
		IfMatch: &r.Params.IfMatch})
	if err != nil {
		return nil, err
	}
	etag := out.ETag()
	return api.UpdateRetention200JSONResponse{Body: toAPIRetention(out), Headers: api.UpdateRetention200ResponseHeaders{ETag: &etag}}, nil
}

// WellKnownKeysPath is where the history bundle keys are published.
const WellKnownKeysPath = "/.well-known/tandem-keys.json"

// registerWellKnownKeys serves the public keys history bundles are signed
// with, outside the API's base path (RFC 8615).
func (s *Server) registerWellKnownKeys(e *echo.Echo) {
	s.rules[http.MethodGet+" "+WellKnownKeysPath] = RulePublic
	e.GET(WellKnownKeysPath, func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		return c.JSON(http.StatusOK, s.privacy.PublicKeys())
	})
}

func toAPIBundle(b privacy.Bundle) api.HistoryBundle {
	return api.HistoryBundle{Format: api.HistoryBundleFormat(b.Format), Issuer: b.Issuer, KeyId: b.KeyID, Payload: b.Payload,
		Signature: b.Signature}
}

func toAPIHistoryImport(h privacy.HistoryImport) api.HistoryImport {
	out := api.HistoryImport{Id: h.ID, ClientId: h.ClientID, Issuer: h.Issuer, KeyId: h.KeyID, IssuedAt: h.History.IssuedAt,
		Verified: true, ImportedAt: h.ImportedAt, Goals: []api.HistoryGoal{}, ActionSteps: []api.HistoryStep{}, Sessions: []api.HistorySession{}}
	if h.History.PracticeName != "" {
		out.PracticeName = &h.History.PracticeName
	}
	for _, g := range h.History.Goals {
		out.Goals = append(out.Goals, api.HistoryGoal{Title: g.Title, Why: g.Why, Status: g.Status, TargetDate: nullableOf(g.TargetDate)})
	}
	for _, st := range h.History.Steps {
		out.ActionSteps = append(out.ActionSteps, api.HistoryStep{Title: st.Title, Status: st.Status, DueDate: nullableOf(st.DueDate),
			CompletedAt: nullableOf(st.CompletedAt), Reflection: nullableOf(st.Reflection)})
	}
	for _, se := range h.History.Sessions {
		out.Sessions = append(out.Sessions, api.HistorySession{StartsAt: se.StartsAt, DurationMinutes: se.DurationMinutes,
			Status: se.Status, Summary: nullableOf(se.Summary)})
	}
	return out
}

// GetHistoryBundle returns the calling client's signed history.
func (s *Server) GetHistoryBundle(ctx context.Context, _ api.GetHistoryBundleRequestObject) (api.GetHistoryBundleResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	b, err := s.privacy.HistoryBundle(ctx, actor)
	if err != nil {
		return nil, err
	}
	return api.GetHistoryBundle200JSONResponse(toAPIBundle(b)), nil
}

// ImportHistory stores a signed history in the calling client's record.
func (s *Server) ImportHistory(ctx context.Context, r api.ImportHistoryRequestObject) (api.ImportHistoryResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	b := r.Body
	h, err := s.privacy.ImportHistory(ctx, actor, r.ClientId, privacy.Bundle{Format: string(b.Format), Issuer: b.Issuer,
		KeyID: b.KeyId, Payload: b.Payload, Signature: b.Signature})
	if err != nil {
		return nil, err
	}
	return api.ImportHistory201JSONResponse{Body: toAPIHistoryImport(h),
		Headers: api.ImportHistory201ResponseHeaders{Location: BasePath + "/clients/" + h.ClientID.String() + "/history-imports/" + h.ID.String()}}, nil
}

// ListHistoryImports lists a client's imported histories.
func (s *Server) ListHistoryImports(ctx context.Context, r api.ListHistoryImportsRequestObject) (api.ListHistoryImportsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	list, err := s.privacy.HistoryImports(ctx, actor, r.ClientId)
	if err != nil {
		return nil, err
	}
	out := api.ListHistoryImports200JSONResponse{Items: make([]api.HistoryImport, 0, len(list))}
	for _, h := range list {
		out.Items = append(out.Items, toAPIHistoryImport(h))
	}
	return out, nil
}

// DeleteHistoryImport removes an imported history (the client only).
func (s *Server) DeleteHistoryImport(ctx context.Context, r api.DeleteHistoryImportRequestObject) (api.DeleteHistoryImportResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.privacy.DeleteHistoryImport(ctx, actor, r.ClientId, r.ImportId); err != nil {
		return nil, err
	}
	return api.DeleteHistoryImport204Response{}, nil
}

// CancelClientErasure cancels, for the owner, a client's pending erasure request.
func (s *Server) CancelClientErasure(ctx context.Context, r api.CancelClientErasureRequestObject) (api.CancelClientErasureResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	id := r.ClientId
	if err := s.privacy.CancelErasure(ctx, actor, &id); err != nil {
		return nil, err
	}
	return api.CancelClientErasure204Response{}, nil
}
