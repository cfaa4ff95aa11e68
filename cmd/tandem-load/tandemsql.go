package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/store"
)

// tandemStepsSQL returns the statements Tandem's service sends for the
// portal client's first page of open steps, as it is built into this
// binary: it runs goals.ListClientSteps in-process on the seeded database
// and records every statement GORM sends. The reference should send the
// same ones; when the service's queries change, this tells.
func tandemStepsSQL(ctx context.Context, opts store.Options, practiceID uuid.UUID, p portal) ([]string, error) {
	st, err := store.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var (
		mu    sync.Mutex
		stmts []string
	)
	record := func(db *gorm.DB) {
		mu.Lock()
		defer mu.Unlock()
		stmts = append(stmts, db.Statement.SQL.String())
	}
	// Find and Take run the query callbacks, Rows the row callbacks.
	if err := st.DB.Callback().Query().After("gorm:query").Register("tandem-load:record", record); err != nil {
		return nil, err
	}
	if err := st.DB.Callback().Row().After("gorm:row").Register("tandem-load:record", record); err != nil {
		return nil, err
	}
	svc := goals.NewService(goals.Config{Store: st, Clock: clock.System{}, Log: slog.New(slog.DiscardHandler)})
	a := auth.Actor{UserID: p.ID, PracticeID: practiceID, Roles: []auth.Role{auth.RoleClient}, ClientID: p.ClientID,
		EmailVerified: true}
	status := goals.StepOpen
	if _, _, err := svc.ListClientSteps(ctx, a, p.ClientID, goals.StepFilter{Status: &status}, page.Request{Limit: stepsLimit}); err != nil {
		return nil, err
	}
	return stmts, nil
}

// sameSQL reports whether two lists of statements are the same, whatever
// their whitespace.
func sameSQL(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(strings.Fields(a[i]), " ") != strings.Join(strings.Fields(b[i]), " ") {
			return false
		}
	}
	return true
}
