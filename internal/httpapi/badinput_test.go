package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/ratelimit"
)

// fieldKind says which bad values make sense for a field.
type fieldKind int

const (
	opaque    fieldKind = iota // any string is acceptable input: passwords, tokens
	text                       // a name: control characters are refused
	email                      // an e-mail address
	defaulted                  // optional with a default, which also replaces null
)

// jsonEndpoint is one operation that takes a JSON body, with a body it
// accepts and the kind of each field.
type jsonEndpoint struct {
	method, path, token string
	valid               map[string]any
	fields              map[string]fieldKind
}

// badRawBodies are not JSON objects of any use.
var badRawBodies = map[string]string{
	"empty":            "",
	"null":             "null",
	"array":            "[]",
	"array of object":  `[{"email":"ada@example.com"}]`,
	"number":           "123",
	"string":           `"hello"`,
	"true":             "true",
	"empty object":     "{}",
	"open brace":       "{",
	"unfinished":       `{"a":`,
	"trailing garbage": `{"a":1} {"b":2}`,
	"trailing data":    `{"a":1}x`,
	"repeated key":     `{"a":1,"a":2}`,
	"unknown field":    `{"a":1}`,
	"not UTF-8":        "\xff\xfe{\x00}",
	"deep nesting":     strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	"deep object":      strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000),
}

// badValues are wrong for every field.
var badValues = map[string]any{
	"10k characters": strings.Repeat("a", 10_000),
	"integer":        123,
	"float":          1.5,
	"true":           true,
	"null":           nil,
	"array":          []string{"x"},
	"empty array":    []any{},
	"object":         map[string]any{"x": 1},
}

var badTextValues = map[string]any{
	"empty":           "",
	"only spaces":     "   ",
	"NUL":             "\u0000",
	"embedded NUL":    "Ada\u0000Lovelace",
	"bell":            "Ada\u0007",
	"escape sequence": "\u001b[31mAda\u001b[0m",
	"line break":      "Ada\r\nBcc: eve@example.com",
	"DEL":             "Ada\u007f",
	"C1 control":      "Ada\u0085Lovelace",
	"201 characters":  strings.Repeat("é", 201),
}

var badEmailValues = map[string]any{
	"empty":             "",
	"no @":              "ada.example.com",
	"two @":             "ada@@example.com",
	"only @":            "@",
	"no domain":         "ada@",
	"no local part":     "@example.com",
	"display name":      "Ada <ada@example.com>",
	"space":             "ada lovelace@example.com",
	"NUL":               "ada\u0000@example.com",
	"line break":        "ada@example.com\r\nBcc: eve@example.com",
	"control character": "ada\u0007@example.com",
	"255 characters":    strings.Repeat("a", 243) + "@example.com",
}

func TestBadInputIsAlways4xx(t *testing.T) {
	t.Parallel()
	generous := ratelimit.Rule{Burst: 1_000_000, Per: time.Minute}
	env := newEnv(t, envOptions{ipLimit: generous})
	owner := env.register("ada@example.com")
	inv := env.invite(owner.AccessToken, "ben@example.com")
	mails := len(env.mailbox.Messages())

	endpoints := map[string]jsonEndpoint{
		"register": {method: "POST", path: "/api/v1/auth/register",
			valid:  map[string]any{"practice_name": "Fresh", "name": "Zoe", "email": "zoe@example.com", "password": goodPassword},
			fields: map[string]fieldKind{"practice_name": text, "name": text, "email": email, "password": opaque}},
		"login": {method: "POST", path: "/api/v1/auth/login",
			valid:  map[string]any{"email": "ada@example.com", "password": goodPassword},
			fields: map[string]fieldKind{"email": email, "password": opaque}},
		"refresh": {method: "POST", path: "/api/v1/auth/refresh",
			valid:  map[string]any{"refresh_token": owner.RefreshToken},
			fields: map[string]fieldKind{"refresh_token": opaque}},
		"logout": {method: "POST", path: "/api/v1/auth/logout",
			valid:  map[string]any{"refresh_token": owner.RefreshToken},
			fields: map[string]fieldKind{"refresh_token": opaque}},
		"accept invitation": {method: "POST", path: "/api/v1/invitations/accept",
			valid:  map[string]any{"token": inv.token(t), "name": "Ben", "password": goodPassword},
			fields: map[string]fieldKind{"token": opaque, "name": text, "password": opaque}},
		"decline invitation": {method: "POST", path: "/api/v1/invitations/decline",
			valid:  map[string]any{"token": inv.token(t)},
			fields: map[string]fieldKind{"token": opaque}},
		"login with a second factor": {method: "POST", path: "/api/v1/auth/login/mfa",
			valid:  map[string]any{"mfa_token": "a-challenge", "code": "123456"},
			fields: map[string]fieldKind{"mfa_token": opaque, "code": opaque}},
		"reauthenticate": {method: "POST", path: "/api/v1/auth/reauth", token: owner.AccessToken,
			valid:  map[string]any{"password": goodPassword},
			fields: map[string]fieldKind{"password": opaque}},
		"verify e-mail": {method: "POST", path: "/api/v1/auth/verify-email",
			valid:  map[string]any{"token": "a-link-token"},
			fields: map[string]fieldKind{"token": opaque}},
		"request password reset": {method: "POST", path: "/api/v1/auth/password-reset",
			valid:  map[string]any{"email": "ada@example.com"},
			fields: map[string]fieldKind{"email": email}},
		"confirm password reset": {method: "POST", path: "/api/v1/auth/password-reset/confirm",
			valid:  map[string]any{"token": "a-link-token", "password": goodPassword},
			fields: map[string]fieldKind{"token": opaque, "password": opaque}},
		"change password": {method: "PUT", path: "/api/v1/me/password", token: owner.AccessToken,
			valid:  map[string]any{"current_password": goodPassword, "new_password": "a new and longer river"},
			fields: map[string]fieldKind{"current_password": opaque, "new_password": opaque}},
		"change e-mail": {method: "POST", path: "/api/v1/me/email", token: owner.AccessToken,
			valid:  map[string]any{"email": "ada.new@example.com"},
			fields: map[string]fieldKind{"email": email}},
		"confirm TOTP": {method: "POST", path: "/api/v1/me/mfa/totp/confirm", token: owner.AccessToken,
			valid:  map[string]any{"code": "123456"},
			fields: map[string]fieldKind{"code": opaque}},
		"update practice": {method: "PATCH", path: "/api/v1/practice", token: owner.AccessToken,
			valid:  map[string]any{"name": "Renamed"},
			fields: map[string]fieldKind{"name": text}},
		"invite coach": {method: "POST", path: "/api/v1/practice/invitations", token: owner.AccessToken,
			valid:  map[string]any{"email": "cleo@example.com", "role": "coach"},
			fields: map[string]fieldKind{"email": email, "role": defaulted}},
	}

	for _, name := range slices.Sorted(maps.Keys(endpoints)) {
		ep := endpoints[name]
		t.Run(name, func(t *testing.T) {
			send := func(t *testing.T, body any) {
				t.Helper()
				r := env.do(request{method: ep.method, path: ep.path, token: ep.token, body: body})
				if r.Code < 400 || r.Code >= 500 {
					t.Fatalf("status %d, want 4xx; body %.300s", r.Code, r.Body)
				}
				r.problem(t, r.Code)
			}
			for _, bname := range slices.Sorted(maps.Keys(badRawBodies)) {
				t.Run(bname, func(t *testing.T) { send(t, badRawBodies[bname]) })
			}
			t.Run("unknown field", func(t *testing.T) { send(t, with(clone(ep.valid), "practice_id", uuid.NewString())) })
			for _, field := range slices.Sorted(maps.Keys(ep.fields)) {
				bad := maps.Clone(badValues)
				switch ep.fields[field] {
				case text, defaulted:
					maps.Copy(bad, badTextValues)
				case email:
					maps.Copy(bad, badEmailValues)
				}
				if ep.fields[field] == defaulted {
					delete(bad, "null")
				}
				for _, vname := range slices.Sorted(maps.Keys(bad)) {
					t.Run(field+"/"+vname, func(t *testing.T) { send(t, with(clone(ep.valid), field, bad[vname])) })
				}
				if ep.fields[field] != defaulted {
					t.Run(field+"/missing", func(t *testing.T) { send(t, without(clone(ep.valid), field)) })
				}
			}
		})
	}

	// Nothing above changed anything: the invitation is unused, the
	// practice keeps its name, the owner's session is alive.
	env.accept(inv.token(t), newCoach(goodPassword)).tokens(t, http.StatusCreated)
	var practice struct {
		Name string `json:"name"`
	}
	env.do(request{method: "GET", path: "/api/v1/practice", token: owner.AccessToken}).want(t, http.StatusOK).decode(t, &practice)
	if practice.Name != "Practice of ada@example.com" {
		t.Fatalf("practice name = %q", practice.Name)
	}
	env.login("zoe@example.com", goodPassword).problem(t, http.StatusUnauthorized)
	env.refresh(owner.RefreshToken).tokens(t, http.StatusOK)
	env.login("ada@example.com", goodPassword).tokens(t, http.StatusOK)
	env.drainMail()
	if !env.emailVerified(owner.AccessToken) || len(env.mailbox.Messages()) != mails {
		t.Fatal("a refused request sent an e-mail or changed the owner's verification")
	}
}

// clone copies a body, for with and without to change.
func clone(m map[string]any) map[string]any { return maps.Clone(m) }

// TestBadInvitationTokens sends tokens no invitation has, some built to
// trip a path or a query: each is a 4xx problem.
func TestBadInvitationTokens(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, token := range []string{
		strings.Repeat("x", 129),
		"\u0000",
		"../..",
		"%2e%2e",
		"a/b",
		"'; DROP TABLE invitations; --",
		"\u0000\u0007",
		"\u0007",
	} {
		t.Run(url.PathEscape(token[:min(len(token), 20)]), func(t *testing.T) {
			for _, r := range []response{env.accept(token, newCoach(goodPassword)), env.declineToken(token)} {
				if r.Code < 400 || r.Code >= 500 {
					t.Fatalf("status %d, want 4xx; body %s", r.Code, r.Body)
				}
				r.problem(t, r.Code)
			}
		})
	}
}

// TestNamesCountCharacters checks the 200-character limit on names counts
// characters, as the API description says, not bytes.
func TestNamesCountCharacters(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	long := strings.Repeat("é", 200) // 400 bytes
	env.do(request{method: "POST", path: "/api/v1/auth/register", body: map[string]any{
		"practice_name": long, "name": "Zoë " + strings.Repeat("ß", 150), "email": "zoe@example.com", "password": goodPassword,
	}}).want(t, http.StatusAccepted)
	tp := env.login("zoe@example.com", goodPassword).tokens(t, http.StatusOK)
	var practice struct {
		Name string `json:"name"`
	}
	env.do(request{method: "GET", path: "/api/v1/practice", token: tp.AccessToken}).want(t, http.StatusOK).decode(t, &practice)
	if practice.Name != long {
		t.Fatalf("practice name = %q, want the 200 characters registered", practice.Name)
	}
	env.do(request{method: "PATCH", path: "/api/v1/practice", token: tp.AccessToken,
		body: map[string]string{"name": strings.Repeat("日", 200)}}).want(t, http.StatusOK)
}

func TestBadMemberListQuery(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")
	b64 := base64.RawURLEncoding.EncodeToString
	for _, tt := range []struct {
		query string
		field string
	}{
		{"limit=0", "limit"},
		{"limit=201", "limit"},
		{"limit=-1", "limit"},
		{"limit=abc", "limit"},
		{"limit=1.5", "limit"},
		{"limit=99999999999999999999", "limit"},
		{"limit=1e3", "limit"},
		{"cursor=garbage", "cursor"},
		{"cursor=" + b64([]byte("v1:not-a-uuid")), "cursor"},
		{"cursor=" + b64([]byte("v2:"+uuid.NewString())), "cursor"},
		{"cursor=" + b64([]byte(uuid.NewString())), "cursor"},
		{"cursor=" + strings.Repeat("A", 201), "cursor"},
		{"cursor=%00", "cursor"},
	} {
		t.Run(tt.query[:min(len(tt.query), 30)], func(t *testing.T) {
			p := env.do(request{method: "GET", path: "/api/v1/practice/members?" + tt.query, token: owner.AccessToken}).
				problem(t, http.StatusBadRequest)
			if !hasFieldError(p, tt.field) {
				t.Fatalf("errors = %+v, want one for %q", p.Errors, tt.field)
			}
		})
	}

	// Both parameters bad at once: the spec validator reports limit; the
	// cursor is only read once the parameters pass it.
	p := env.do(request{method: "GET", path: "/api/v1/practice/members?limit=0&cursor=garbage", token: owner.AccessToken}).
		problem(t, http.StatusBadRequest)
	if !hasFieldError(p, "limit") {
		t.Fatalf("errors = %+v", p.Errors)
	}

	// Good values work, and the cursor of a page leads to the next one.
	env.addCoach(owner.AccessToken, "ben@example.com")
	var page struct {
		Items      []struct{ Email string } `json:"items"`
		NextCursor *string                  `json:"next_cursor"`
	}
	env.do(request{method: "GET", path: "/api/v1/practice/members?limit=1", token: owner.AccessToken}).want(t, http.StatusOK).decode(t, &page)
	if len(page.Items) != 1 || page.NextCursor == nil {
		t.Fatalf("first page = %+v", page)
	}
	env.do(request{method: "GET", path: fmt.Sprintf("/api/v1/practice/members?limit=1&cursor=%s", url.QueryEscape(*page.NextCursor)),
		token: owner.AccessToken}).want(t, http.StatusOK).decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].Email != "ben@example.com" || page.NextCursor != nil {
		t.Fatalf("second page = %+v", page)
	}
}

// TestJSONBodyIsOneDocumentWithoutRepeatedKeys: a decoder stops at the end
// of the first document and keeps one value of a repeated key, so a body
// could say one thing to the validator and another to the handler. Both are
// refused with 400 before either sees the body, at any depth.
func TestJSONBodyIsOneDocumentWithoutRepeatedKeys(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{ipLimit: ratelimit.Rule{Burst: 1_000_000, Per: time.Minute}})
	f := env.practice("json")
	login := `{"email":"json-owner@example.com","password":"` + goodPassword + `"}`
	send := func(path, token, body string) response {
		return env.do(request{method: "POST", path: path, token: token, body: body})
	}
	for name, tc := range map[string]struct{ body, message string }{
		"a second document":      {login + ` {"email":"eve@example.com"}`, "must be one JSON document with nothing after it"},
		"trailing garbage":       {login + "x", "must be one JSON document with nothing after it"},
		"a repeated key":         {`{"email":"json-owner@example.com","email":"eve@example.com","password":"x"}`, "must not repeat a key within an object"},
		"a repeated escaped key": {`{"email":"eve@example.com","\u0065mail":"json-owner@example.com","password":"x"}`, "must not repeat a key within an object"},
		"a NUL in a key":         {`{"e\u0000mail":"json-owner@example.com","password":"x"}`, "must not contain NUL characters"},
		"nesting past 32":        {`{"email":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, "must not nest objects and arrays more than 32 deep"},
	} {
		t.Run(name, func(t *testing.T) {
			p := send("/api/v1/auth/login", "", tc.body).problem(t, http.StatusBadRequest)
			if len(p.Errors) != 1 || p.Errors[0].Field != "body" || p.Errors[0].Message != tc.message {
				t.Fatalf("errors = %+v, want body: %s", p.Errors, tc.message)
			}
		})
	}

	// A key repeated deeper down is refused too, and nothing is written.
	goals := "/api/v1/clients/" + f.clientRec.ID + "/goals"
	p := send(goals, f.coach.AccessToken, `{"title":"Run","why":"Health","metric":{"unit":"km","unit":"mi","baseline":0,"target":5}}`).
		problem(t, http.StatusBadRequest)
	if !hasFieldError(p, "body") || env.rowCount("goals") != 0 {
		t.Fatalf("errors = %+v, goals = %d", p.Errors, env.rowCount("goals"))
	}

	// One document with white space around it, a key that is also a key of
	// another object, a number no float64 holds: all left to the validator
	// and the handler.
	send("/api/v1/auth/login", "", "\n  "+login+"  \n\t").want(t, http.StatusOK)
	p = send("/api/v1/auth/login", "", `{"email":"json-owner@example.com","password":"x","extra":{"email":1}}`).
		problem(t, http.StatusBadRequest)
	if hasFieldError(p, "body") || !hasFieldError(p, "extra") {
		t.Fatalf("a key of two objects: errors = %+v", p.Errors)
	}
	send(goals, f.coach.AccessToken, `{"title":"Run","why":"Health","metric":{"unit":"km","baseline":0,"target":5}}`).
		want(t, http.StatusCreated)
	send("/api/v1/auth/login", "", `{"email":"json-owner@example.com","password":1e400}`).problem(t, http.StatusBadRequest)
}
