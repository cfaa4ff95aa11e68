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

func toAPIDashboardTotals(t dashboard.Totals) api.DashboardTotals {
	return api.DashboardTotals{
		Clients: t.Clients, OpenSteps: t.OpenSteps, OverdueSteps: t.OverdueSteps,
		ClientsWithOverdueSteps: t.ClientsWithOverdueSteps, CompletedSteps7d: t.CompletedStepsRecent,
	}
}

// GetDashboard returns one page of the caller's active clients, overdue
// first, with totals over all of them.
func (s *Server) GetDashboard(ctx context.Context, r api.GetDashboardRequestObject) (api.GetDashboardResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	req, err := dashboard.ParseRequest(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	d, err := s.dashboard.Build(ctx, actor, req)
	if err != nil {
		return nil, err
	}
	out := api.Dashboard{Clients: make([]api.DashboardClient, len(d.Clients)),
		NextCursor: nullableOf(d.NextCursor), Totals: toAPIDashboardTotals(d.Totals)}
	for i, c := range d.Clients {
		out.Clients[i] = toAPIDashboardClient(c)
	}
	return api.GetDashboard200JSONResponse(out), nil
}
