package httpapi

import (
	"context"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/apperr"
)

// PLACEHOLDER: replaced by the real handlers of this area.
var errPendingShared = apperr.New(apperr.Unavailable, "This endpoint is being built.")

// ListDisclosures is pending.
func (s *Server) ListDisclosures(ctx context.Context, r api.ListDisclosuresRequestObject) (api.ListDisclosuresResponseObject, error) {
	return nil, errPendingShared
}

// ListSharedClients is pending.
func (s *Server) ListSharedClients(ctx context.Context, r api.ListSharedClientsRequestObject) (api.ListSharedClientsResponseObject, error) {
	return nil, errPendingShared
}

// GetSharedClient is pending.
func (s *Server) GetSharedClient(ctx context.Context, r api.GetSharedClientRequestObject) (api.GetSharedClientResponseObject, error) {
	return nil, errPendingShared
}

// ListCoordinationNotes is pending.
func (s *Server) ListCoordinationNotes(ctx context.Context, r api.ListCoordinationNotesRequestObject) (api.ListCoordinationNotesResponseObject, error) {
	return nil, errPendingShared
}

// PostCoordinationNote is pending.
func (s *Server) PostCoordinationNote(ctx context.Context, r api.PostCoordinationNoteRequestObject) (api.PostCoordinationNoteResponseObject, error) {
	return nil, errPendingShared
}
