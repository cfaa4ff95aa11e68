package httpapi

import (
	"context"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/apperr"
)

// PLACEHOLDER: replaced by the real handlers of this area.
var errPendingGoals = apperr.New(apperr.Unavailable, "This endpoint is being built.")

// ListGoals is pending.
func (s *Server) ListGoals(ctx context.Context, r api.ListGoalsRequestObject) (api.ListGoalsResponseObject, error) {
	return nil, errPendingGoals
}

// CreateGoal is pending.
func (s *Server) CreateGoal(ctx context.Context, r api.CreateGoalRequestObject) (api.CreateGoalResponseObject, error) {
	return nil, errPendingGoals
}

// GetGoal is pending.
func (s *Server) GetGoal(ctx context.Context, r api.GetGoalRequestObject) (api.GetGoalResponseObject, error) {
	return nil, errPendingGoals
}

// UpdateGoal is pending.
func (s *Server) UpdateGoal(ctx context.Context, r api.UpdateGoalRequestObject) (api.UpdateGoalResponseObject, error) {
	return nil, errPendingGoals
}

// DeleteGoal is pending.
func (s *Server) DeleteGoal(ctx context.Context, r api.DeleteGoalRequestObject) (api.DeleteGoalResponseObject, error) {
	return nil, errPendingGoals
}

// RecordProgress is pending.
func (s *Server) RecordProgress(ctx context.Context, r api.RecordProgressRequestObject) (api.RecordProgressResponseObject, error) {
	return nil, errPendingGoals
}

// ListGoalActionSteps is pending.
func (s *Server) ListGoalActionSteps(ctx context.Context, r api.ListGoalActionStepsRequestObject) (api.ListGoalActionStepsResponseObject, error) {
	return nil, errPendingGoals
}

// CreateActionStep is pending.
func (s *Server) CreateActionStep(ctx context.Context, r api.CreateActionStepRequestObject) (api.CreateActionStepResponseObject, error) {
	return nil, errPendingGoals
}

// ListClientActionSteps is pending.
func (s *Server) ListClientActionSteps(ctx context.Context, r api.ListClientActionStepsRequestObject) (api.ListClientActionStepsResponseObject, error) {
	return nil, errPendingGoals
}

// GetActionStep is pending.
func (s *Server) GetActionStep(ctx context.Context, r api.GetActionStepRequestObject) (api.GetActionStepResponseObject, error) {
	return nil, errPendingGoals
}

// UpdateActionStep is pending.
func (s *Server) UpdateActionStep(ctx context.Context, r api.UpdateActionStepRequestObject) (api.UpdateActionStepResponseObject, error) {
	return nil, errPendingGoals
}

// DeleteActionStep is pending.
func (s *Server) DeleteActionStep(ctx context.Context, r api.DeleteActionStepRequestObject) (api.DeleteActionStepResponseObject, error) {
	return nil, errPendingGoals
}

// CompleteActionStep is pending.
func (s *Server) CompleteActionStep(ctx context.Context, r api.CompleteActionStepRequestObject) (api.CompleteActionStepResponseObject, error) {
	return nil, errPendingGoals
}

// ReopenActionStep is pending.
func (s *Server) ReopenActionStep(ctx context.Context, r api.ReopenActionStepRequestObject) (api.ReopenActionStepResponseObject, error) {
	return nil, errPendingGoals
}
