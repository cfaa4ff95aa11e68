package httpapi

import (
	"context"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/dashboard"
)

func toAPIDashboardClient(c dashboard.Client) api.DashboardClient {
	active := make([]api.DashboardGoal, len(c.ActiveGoals))
	for i, g := range c.ActiveGoals {
		active[i] = api.DashboardGoal{Id: g.ID, Title: g.Title, ProgressPercent: g.ProgressPercent}
	}
	return api.DashboardClient{
		ClientId: c.ID, Name: c.Name, Status: api.ClientStatus(c.Status),
		OpenSteps: c.OpenSteps, OverdueSteps: c.OverdueSteps, CompletedSteps7d: c.CompletedStepsRecent,
		ActiveGoals:   active,
		LastSessionAt: nullableOf(c.LastSessionAt), NextSessionAt: nullableOf(c.NextSessionAt),
	}
}

// GetDashboard returns the caller's active clients at a glance.
func (s *Server) GetDashboard(ctx context.Context, _ api.GetDashboardRequestObject) (api.GetDashboardResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.dashboard.Build(ctx, actor)
	if err != nil {
		return nil, err
	}
	out := api.Dashboard{Clients: make([]api.DashboardClient, len(d.Clients))}
	for i, c := range d.Clients {
		out.Clients[i] = toAPIDashboardClient(c)
	}
	return api.GetDashboard200JSONResponse(out), nil
}
