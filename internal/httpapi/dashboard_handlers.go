package httpapi

import (
	"context"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/apperr"
)

// PLACEHOLDER: replaced by the real handlers of this area.
var errPendingDashboard = apperr.New(apperr.Unavailable, "This endpoint is being built.")

// GetDashboard is pending.
func (s *Server) GetDashboard(ctx context.Context, r api.GetDashboardRequestObject) (api.GetDashboardResponseObject, error) {
	return nil, errPendingDashboard
}
