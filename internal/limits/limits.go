// Package limits names what a practice's plan bounds, and the check the
// services that create those things run inside their own transaction. The
// billing module implements the check; the services below it know only this
// interface, so nothing points back up.
package limits

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Kind is one thing a plan bounds.
type Kind string

// The bounded kinds.
const (
	ActiveClients        Kind = "active_clients"
	Coaches              Kind = "coaches"
	TherapistConnections Kind = "therapist_connections"
)

// Checker refuses the creation of one more kind for a practice when its plan
// or its billing state does not allow it. It runs in tx, the transaction of
// the creation, and locks what it counts so that concurrent creations cannot
// both pass.
type Checker interface {
	Allow(ctx context.Context, tx *gorm.DB, practiceID uuid.UUID, kind Kind) error
}

// Allow runs c, or allows everything when there is no checker (billing off).
func Allow(ctx context.Context, c Checker, tx *gorm.DB, practiceID uuid.UUID, kind Kind) error {
	if c == nil {
		return nil
	}
	return c.Allow(ctx, tx, practiceID, kind)
}
