package httpapi

import (
	"context"
	"time"

	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/patch"
)

func toAPIDate(d date.Date) openapi_types.Date { return openapi_types.Date{Time: d.Time(time.UTC)} }

func toDomainDate(d openapi_types.Date) date.Date { return date.Of(d.Time) }

// toDomainDatePtr converts an optional API date.
func toDomainDatePtr(d *openapi_types.Date) *date.Date {
	if d == nil {
		return nil
	}
	v := toDomainDate(*d)
	return &v
}

// nullableDate turns an optional date into an explicit JSON date or null.
func nullableDate(d *date.Date) nullable.Nullable[openapi_types.Date] {
	if d == nil {
		return nullable.NewNullNullable[openapi_types.Date]()
	}
	return nullable.NewNullableWithValue(toAPIDate(*d))
}

// mapField converts the value of a patch field, keeping absent and cleared.
func mapField[A, B any](f patch.Field[A], conv func(A) B) patch.Field[B] {
	if f.Value == nil {
		return patch.Field[B]{Set: f.Set}
	}
	return patch.Of(conv(*f.Value))
}

func toDomainMetric(m api.Metric) goals.Metric {
	return goals.Metric{Unit: m.Unit, Baseline: m.Baseline, Target: m.Target}
}

func toAPIGoal(g goals.Goal) api.Goal {
	out := api.Goal{
		Id: g.ID, ClientId: g.ClientID, Title: g.Title, Description: nullableOf(g.Description), Why: g.Why,
		TargetDate: nullableDate(g.TargetDate), Status: api.GoalStatus(g.Status),
		Metric: nullable.NewNullNullable[api.Metric](), CurrentValue: nullableOf(g.CurrentValue),
		ProgressPercent: g.ProgressPercent, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt,
	}
	if g.Metric != nil {
		out.Metric = nullable.NewNullableWithValue(api.Metric{Unit: g.Metric.Unit, Baseline: g.Metric.Baseline, Target: g.Metric.Target})
	}
	return out
}

func toAPIProgressEntry(e goals.ProgressEntry) api.ProgressEntry {
	return api.ProgressEntry{Id: e.ID, GoalId: e.GoalID, RecordedOn: toAPIDate(e.RecordedOn), Value: e.Value,
		Note: nullableOf(e.Note), CreatedAt: e.CreatedAt}
}

func toAPIStep(s goals.Step) api.ActionStep {
	return api.ActionStep{
		Id: s.ID, GoalId: s.GoalID, ClientId: s.ClientID, Title: s.Title, Details: nullableOf(s.Details),
		DueDate: nullableDate(s.DueDate), Recurrence: api.Recurrence(s.Recurrence), Status: api.ActionStepStatus(s.Status),
		Overdue: s.Overdue, CompletedAt: nullableOf(s.CompletedAt), Reflection: nullableOf(s.Reflection),
		NextOccurrenceId: nullableOf(s.NextOccurrenceID), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

// stringOf converts an optional enum of the API into an optional string.
func stringOf[T ~string](p *T) *string {
	if p == nil {
		return nil
	}
	s := string(*p)
	return &s
}

// ListGoals lists a client's goals.
func (s *Server) ListGoals(ctx context.Context, r api.ListGoalsRequestObject) (api.ListGoalsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.goals.ListGoals(ctx, actor, r.ClientId, stringOf(r.Params.Status), pr)
	if err != nil {
		return nil, err
	}
	out := api.GoalList{Items: make([]api.Goal, len(list)), NextCursor: nullableOf(next)}
	for i, g := range list {
		out.Items[i] = toAPIGoal(g)
	}
	return api.ListGoals200JSONResponse(out), nil
}

// CreateGoal sets a goal for a client.
func (s *Server) CreateGoal(ctx context.Context, r api.CreateGoalRequestObject) (api.CreateGoalResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	in := goals.NewGoal{Title: r.Body.Title, Description: r.Body.Description, Why: r.Body.Why,
		TargetDate: toDomainDatePtr(r.Body.TargetDate), Status: stringOf(r.Body.Status)}
	if r.Body.Metric != nil {
		m := toDomainMetric(*r.Body.Metric)
		in.Metric = &m
	}
	g, err := s.goals.CreateGoal(ctx, actor, r.ClientId, in)
	if err != nil {
		return nil, err
	}
	etag := g.ETag()
	return api.CreateGoal201JSONResponse{Body: toAPIGoal(g), Headers: api.CreateGoal201ResponseHeaders{ETag: &etag, Location: href("goals", g.ID)}}, nil
}

// GetGoal returns one goal with its progress.
func (s *Server) GetGoal(ctx context.Context, r api.GetGoalRequestObject) (api.GetGoalResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	g, err := s.goals.GetGoal(ctx, actor, r.GoalId)
	if err != nil {
		return nil, err
	}
	etag := g.ETag()
	return api.GetGoal200JSONResponse{Body: toAPIGoal(g), Headers: api.GetGoal200ResponseHeaders{ETag: &etag}}, nil
}

// UpdateGoal changes a goal.
func (s *Server) UpdateGoal(ctx context.Context, r api.UpdateGoalRequestObject) (api.UpdateGoalResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	change := goals.GoalChange{
		Title:       patch.FromPtr(r.Body.Title),
		Description: patch.FromNullable(r.Body.Description),
		Why:         patch.FromPtr(r.Body.Why),
		TargetDate:  mapField(patch.FromNullable(r.Body.TargetDate), toDomainDate),
		Status:      patch.FromPtr(stringOf(r.Body.Status)),
		Metric:      mapField(patch.FromNullable(r.Body.Metric), toDomainMetric),
		IfMatch:     &r.Params.IfMatch,
	}
	g, err := s.goals.UpdateGoal(ctx, actor, r.GoalId, change)
	if err != nil {
		return nil, err
	}
	etag := g.ETag()
	return api.UpdateGoal200JSONResponse{Body: toAPIGoal(g), Headers: api.UpdateGoal200ResponseHeaders{ETag: &etag}}, nil
}

// DeleteGoal deletes a goal with its steps and progress entries.
func (s *Server) DeleteGoal(ctx context.Context, r api.DeleteGoalRequestObject) (api.DeleteGoalResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.goals.DeleteGoal(ctx, actor, r.GoalId, &r.Params.IfMatch); err != nil {
		return nil, err
	}
	return api.DeleteGoal204Response{}, nil
}

// RecordProgress records a dated value of a goal's metric.
func (s *Server) RecordProgress(ctx context.Context, r api.RecordProgressRequestObject) (api.RecordProgressResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.goals.RecordProgress(ctx, actor, r.GoalId, goals.NewProgress{
		RecordedOn: toDomainDatePtr(r.Body.RecordedOn), Value: r.Body.Value, Note: r.Body.Note,
	})
	if err != nil {
		return nil, err
	}
	return api.RecordProgress201JSONResponse(toAPIProgressEntry(e)), nil
}

// ListGoalActionSteps lists a goal's action steps.
func (s *Server) ListGoalActionSteps(ctx context.Context, r api.ListGoalActionStepsRequestObject) (api.ListGoalActionStepsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.goals.ListGoalSteps(ctx, actor, r.GoalId, pr)
	if err != nil {
		return nil, err
	}
	return stepListResponse{steps: list, next: next}, nil
}

// CreateActionStep adds a step to a goal.
func (s *Server) CreateActionStep(ctx context.Context, r api.CreateActionStepRequestObject) (api.CreateActionStepResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.goals.CreateStep(ctx, actor, r.GoalId, goals.NewStep{
		Title: r.Body.Title, Details: r.Body.Details, DueDate: toDomainDatePtr(r.Body.DueDate), Recurrence: stringOf(r.Body.Recurrence),
	})
	if err != nil {
		return nil, err
	}
	etag := st.ETag()
	return api.CreateActionStep201JSONResponse{Body: toAPIStep(st), Headers: api.CreateActionStep201ResponseHeaders{ETag: &etag, Location: href("action-steps", st.ID)}}, nil
}

// ListClientActionSteps lists a client's steps across goals.
func (s *Server) ListClientActionSteps(ctx context.Context, r api.ListClientActionStepsRequestObject) (api.ListClientActionStepsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	filter := goals.StepFilter{Status: stringOf(r.Params.Status), DueBefore: toDomainDatePtr(r.Params.DueBefore)}
	list, next, err := s.goals.ListClientSteps(ctx, actor, r.ClientId, filter, pr)
	if err != nil {
		return nil, err
	}
	return stepListResponse{steps: list, next: next}, nil
}

// GetActionStep returns one step.
func (s *Server) GetActionStep(ctx context.Context, r api.GetActionStepRequestObject) (api.GetActionStepResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.goals.GetStep(ctx, actor, r.StepId)
	if err != nil {
		return nil, err
	}
	etag := st.ETag()
	return api.GetActionStep200JSONResponse{Body: toAPIStep(st), Headers: api.GetActionStep200ResponseHeaders{ETag: &etag}}, nil
}

// UpdateActionStep changes a step.
func (s *Server) UpdateActionStep(ctx context.Context, r api.UpdateActionStepRequestObject) (api.UpdateActionStepResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	change := goals.StepChange{
		Title:      patch.FromPtr(r.Body.Title),
		Details:    patch.FromNullable(r.Body.Details),
		DueDate:    mapField(patch.FromNullable(r.Body.DueDate), toDomainDate),
		Recurrence: patch.FromPtr(stringOf(r.Body.Recurrence)),
		Status:     patch.FromPtr(stringOf(r.Body.Status)),
		IfMatch:    &r.Params.IfMatch,
	}
	st, err := s.goals.UpdateStep(ctx, actor, r.StepId, change)
	if err != nil {
		return nil, err
	}
	etag := st.ETag()
	return api.UpdateActionStep200JSONResponse{Body: toAPIStep(st), Headers: api.UpdateActionStep200ResponseHeaders{ETag: &etag}}, nil
}

// DeleteActionStep deletes a step.
func (s *Server) DeleteActionStep(ctx context.Context, r api.DeleteActionStepRequestObject) (api.DeleteActionStepResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.goals.DeleteStep(ctx, actor, r.StepId, &r.Params.IfMatch); err != nil {
		return nil, err
	}
	return api.DeleteActionStep204Response{}, nil
}

// CompleteActionStep marks a step done with the client's reflection.
func (s *Server) CompleteActionStep(ctx context.Context, r api.CompleteActionStepRequestObject) (api.CompleteActionStepResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	var note *string
	if r.Body != nil { // the body is optional
		note = r.Body.Note
	}
	st, err := s.goals.CompleteStep(ctx, actor, r.StepId, note)
	if err != nil {
		return nil, err
	}
	etag := st.ETag()
	return api.CompleteActionStep200JSONResponse{Body: toAPIStep(st), Headers: api.CompleteActionStep200ResponseHeaders{ETag: &etag}}, nil
}

// ReopenActionStep sets a done or skipped step back to open.
func (s *Server) ReopenActionStep(ctx context.Context, r api.ReopenActionStepRequestObject) (api.ReopenActionStepResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.goals.ReopenStep(ctx, actor, r.StepId)
	if err != nil {
		return nil, err
	}
	etag := st.ETag()
	return api.ReopenActionStep200JSONResponse{Body: toAPIStep(st), Headers: api.ReopenActionStep200ResponseHeaders{ETag: &etag}}, nil
}

// ListProgress lists a goal's progress entries, oldest first.
func (s *Server) ListProgress(ctx context.Context, r api.ListProgressRequestObject) (api.ListProgressResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.ParseTimed(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.goals.ListProgress(ctx, actor, r.GoalId, pr)
	if err != nil {
		return nil, err
	}
	out := api.ProgressEntryList{Items: make([]api.ProgressEntry, len(list)), NextCursor: nullableOf(next)}
	for i, e := range list {
		out.Items[i] = toAPIProgressEntry(e)
	}
	return api.ListProgress200JSONResponse(out), nil
}
