package httpapi

import (
	"context"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/apperr"
)

// PLACEHOLDER: replaced by the real handlers of this area.
var errPendingSessions = apperr.New(apperr.Unavailable, "This endpoint is being built.")

// ListClientSessions is pending.
func (s *Server) ListClientSessions(ctx context.Context, r api.ListClientSessionsRequestObject) (api.ListClientSessionsResponseObject, error) {
	return nil, errPendingSessions
}

// ScheduleSession is pending.
func (s *Server) ScheduleSession(ctx context.Context, r api.ScheduleSessionRequestObject) (api.ScheduleSessionResponseObject, error) {
	return nil, errPendingSessions
}

// ListMySessions is pending.
func (s *Server) ListMySessions(ctx context.Context, r api.ListMySessionsRequestObject) (api.ListMySessionsResponseObject, error) {
	return nil, errPendingSessions
}

// GetSession is pending.
func (s *Server) GetSession(ctx context.Context, r api.GetSessionRequestObject) (api.GetSessionResponseObject, error) {
	return nil, errPendingSessions
}

// UpdateSession is pending.
func (s *Server) UpdateSession(ctx context.Context, r api.UpdateSessionRequestObject) (api.UpdateSessionResponseObject, error) {
	return nil, errPendingSessions
}

// GetPrivateNote is pending.
func (s *Server) GetPrivateNote(ctx context.Context, r api.GetPrivateNoteRequestObject) (api.GetPrivateNoteResponseObject, error) {
	return nil, errPendingSessions
}

// PutPrivateNote is pending.
func (s *Server) PutPrivateNote(ctx context.Context, r api.PutPrivateNoteRequestObject) (api.PutPrivateNoteResponseObject, error) {
	return nil, errPendingSessions
}

// GetCalendarFeed is pending.
func (s *Server) GetCalendarFeed(ctx context.Context, r api.GetCalendarFeedRequestObject) (api.GetCalendarFeedResponseObject, error) {
	return nil, errPendingSessions
}

// RegenerateCalendarFeed is pending.
func (s *Server) RegenerateCalendarFeed(ctx context.Context, r api.RegenerateCalendarFeedRequestObject) (api.RegenerateCalendarFeedResponseObject, error) {
	return nil, errPendingSessions
}
