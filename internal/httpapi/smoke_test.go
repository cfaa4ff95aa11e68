package httpapi_test

import (
	"net/http"
	"testing"
)

func TestRegisterThenMe(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tp := env.register("ada@example.com")
	var me struct {
		Email    string   `json:"email"`
		Roles    []string `json:"roles"`
		Practice struct {
			Name string `json:"name"`
		} `json:"practice"`
	}
	env.do(request{method: "GET", path: "/api/v1/me", token: tp.AccessToken}).want(t, http.StatusOK).decode(t, &me)
	if me.Email != "ada@example.com" || len(me.Roles) != 1 || me.Roles[0] != "owner" || me.Practice.Name != "Practice of ada@example.com" {
		t.Fatalf("me = %+v", me)
	}
	coach := env.addCoach(tp.AccessToken, "ben@example.com")
	env.do(request{method: "GET", path: "/api/v1/practice/members", token: coach.AccessToken}).want(t, http.StatusOK)
}
