package auth_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/auth"
)

func TestActorRoles(t *testing.T) {
	tests := []struct {
		name      string
		roles     []auth.Role
		wantOwner bool
		wantCoach bool
		wantStaff bool
	}{
		{"no roles", nil, false, false, false},
		{"owner", []auth.Role{auth.RoleOwner}, true, false, true},
		{"coach", []auth.Role{auth.RoleCoach}, false, true, true},
		{"owner and coach", []auth.Role{auth.RoleCoach, auth.RoleOwner}, true, true, true},
		{"unknown role", []auth.Role{"client"}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := auth.Actor{Roles: tt.roles}
			if got := a.Has(auth.RoleOwner); got != tt.wantOwner {
				t.Errorf("Has(owner) = %v, want %v", got, tt.wantOwner)
			}
			if got := a.Has(auth.RoleCoach); got != tt.wantCoach {
				t.Errorf("Has(coach) = %v, want %v", got, tt.wantCoach)
			}
			if got := a.IsStaff(); got != tt.wantStaff {
				t.Errorf("IsStaff() = %v, want %v", got, tt.wantStaff)
			}
		})
	}
}

func TestActorContext(t *testing.T) {
	if a, ok := auth.ActorFrom(context.Background()); ok {
		t.Errorf("ActorFrom(empty context) = %+v, true; want false", a)
	}
	want := auth.Actor{UserID: uuid.New(), SessionID: uuid.New(), PracticeID: uuid.New(), Roles: []auth.Role{auth.RoleOwner}}
	got, ok := auth.ActorFrom(auth.WithActor(context.Background(), want))
	if !ok {
		t.Fatal("ActorFrom(WithActor(ctx, a)) found no actor")
	}
	if got.UserID != want.UserID || got.SessionID != want.SessionID || got.PracticeID != want.PracticeID ||
		len(got.Roles) != 1 || got.Roles[0] != auth.RoleOwner {
		t.Errorf("ActorFrom = %+v, want %+v", got, want)
	}
}
