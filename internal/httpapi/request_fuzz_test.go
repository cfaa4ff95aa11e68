package httpapi

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"io"
	"log/slog"
	"mime"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/ratelimit"
	"github.com/tandem-coach/tandem/internal/store"
)

// FuzzRequestBody sends any body with any Content-Type to any operation
// that takes JSON, through the service's own routes, body checks, request
// validator and generated decoding — everything but authentication and the
// handlers, which a recorder replaces. What a client relies on: no body gets
// a 5xx or a panic; every refusal is a problem document; and what reaches a
// handler is one JSON document of declared fields, each key once, with text
// that PostgreSQL can store and dates in the supported range.
func FuzzRequestBody(f *testing.F) {
	h := newDecodingHarness(f)
	for _, op := range h.ops {
		f.Add(op.id, "application/json", []byte(`{}`))
	}
	for _, s := range []struct{ op, contentType, body string }{
		{"createGoal", "application/json", `{"title":"Run a 10k","why":"to feel strong","metric":{"unit":"km","baseline":0,"target":10},"target_date":"2026-09-01"}`},
		{"createGoal", "application/json; charset=utf-8", `{"title":"Run","why":"x","target_date":"0000-01-01"}`},
		{"createGoal", "application/json", `{"title":"Run","why":"x","metric":{"unit":"km","baseline":-1e308,"target":1e308}}`},
		{"createGoal", "application/json", `{"title":"Run","why":"x"} {"title":"again"}`},
		{"createGoal", "application/json", `{"title":"Run","why":"x","title":"Walk"}`},
		{"createGoal", "application/json", `{"title":"Run","why":"x","Title":"Walk"}`},
		{"createGoal", "application/json", `{"title":"Run","why":"x","\u0074itle":"Walk"}`},
		{"createGoal", "application/json", `{"title":"Run","why":"x","metric":{"unit":"km","unit":"m","baseline":0,"target":1}}`},
		{"createGoal", "application/json", `{"title":"\ud800\udc00\ud800","why":"x"}`},
		{"createGoal", "application/json", `{"title":"Run\u0000","why":"x"}`},
		{"createGoal", "application/json", `{"title":"\\u0000 is harmless text","why":"x"}`},
		{"createGoal", "application/json", "{\"title\":\"Ru\xffn\",\"why\":\"x\"}"},
		{"createGoal", "text/plain", `{"title":"Run","why":"x"}`},
		{"createGoal", "APPLICATION/JSON", `{"title":"Run","why":"x"}`},
		{"createGoal", "application/json;", `{"title":"Run","why":"x"}`},
		{"createGoal", "", `{"title":"Run","why":"x"}`},
		{"createGoal", "application/json", ``},
		{"createActionStep", "application/json", `{"title":"Walk","due_date":"9999-12-31","recurrence":"weekly"}`},
		{"createActionStep", "application/json", `{"title":"Walk","due_date":"2199-12-31","recurrence":"daily"}`},
		{"updateActionStep", "application/json", `{"due_date":null,"status":"skipped"}`},
		{"recordProgress", "application/json", `{"value":1e308,"recorded_on":"1899-12-31"}`},
		{"scheduleSession", "application/json", `{"starts_at":"2199-12-31T23:30:00-05:00","duration_minutes":60}`},
		{"scheduleSession", "application/json", `{"starts_at":"9999-12-31T23:59:59Z","duration_minutes":60,"location":"a;b,c\\n"}`},
		{"register", "application/json", `{"practice_name":"P","name":"Ada","email":"ada@example.com","password":"a long and quiet river"}`},
		{"createGoal", "application/json", strings.Repeat("[", 40) + strings.Repeat("]", 40)},
		{"createGoal", "application/json", strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)},
	} {
		f.Add(s.op, s.contentType, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, operation, contentType string, body []byte) {
		op := h.pick(operation)
		req := httptest.NewRequest(op.method, op.path, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set(echo.HeaderContentType, contentType)
		}
		for k, v := range op.headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.reached = nil
		h.e.ServeHTTP(rec, req)
		where := op.id + " " + contentType + " " + quoteCut(body)

		if rec.Code >= 500 {
			t.Fatalf("%s: %d %s", where, rec.Code, rec.Body)
		}
		if h.reached == nil {
			if rec.Code < 400 || rec.Header().Get(echo.HeaderContentType) != "application/problem+json" {
				t.Fatalf("%s: refused with %d %q, not a problem document: %s", where, rec.Code, rec.Header().Get(echo.HeaderContentType), rec.Body)
			}
			return
		}

		if len(body) > 0 {
			if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
				t.Fatalf("%s: a %q body reached the handler", where, contentType)
			}
			if !json.Valid(body) {
				t.Fatalf("%s: a body that is not exactly one JSON document reached the handler", where)
			}
			if key, ok := repeatedKey(body); ok {
				t.Fatalf("%s: a body repeating key %q reached the handler", where, key)
			}
		}
		reqBody := reflect.ValueOf(h.reached).FieldByName("Body")
		if !reqBody.IsValid() || reqBody.IsNil() {
			return
		}
		if len(body) > 0 {
			if key, ok := undeclaredKey(body, reqBody.Type().Elem()); ok {
				t.Fatalf("%s: a body with undeclared member %q reached the handler", where, key)
			}
		}
		walkValues(reqBody, func(path string, v reflect.Value) {
			switch x := v.Interface().(type) {
			case string:
				if strings.IndexByte(x, 0) >= 0 || !utf8.ValidString(x) {
					t.Fatalf("%s: %s = %q reached the handler; PostgreSQL cannot store it", where, path, x)
				}
			case openapi_types.Date:
				if y := x.Year(); y < 1900 || y > 2199 {
					t.Fatalf("%s: date %s = %s reached the handler", where, path, x)
				}
			case time.Time:
				if y := x.Year(); y < 1900 || y > 2199 {
					t.Fatalf("%s: date-time %s = %s reached the handler", where, path, x)
				}
			}
		})
	})
}

// decodingHarness is the service's route table with every operation's
// middleware chain, authentication aside, and a recorder for handlers.
type decodingHarness struct {
	e       *echo.Echo
	ops     []jsonOperation
	reached any // the request object the last request's handler received
}

// jsonOperation is one operation that takes a JSON body, with a path and the
// required headers filled in.
type jsonOperation struct {
	id, method, path string
	headers          map[string]string
}

func newDecodingHarness(tb testing.TB) *decodingHarness {
	tb.Helper()
	clk := clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	unlimited := ratelimit.Rule{Burst: 1 << 30, Per: time.Hour}
	s := &Server{log: slog.New(slog.DiscardHandler), rules: map[string]Rule{},
		ipLimit: ratelimit.New(unlimited, clk), feedLimit: ratelimit.New(unlimited, clk), refreshLimit: ratelimit.New(unlimited, clk)}
	e := echo.New()
	e.HTTPErrorHandler = s.handleError
	// New's middleware, less the access log and the recovery: a panic must
	// fail the fuzz target, not become a 500.
	e.Use(s.requestID, middleware.BodyLimit("1M"), securityHeaders)
	spec, err := api.GetSwagger()
	if err != nil {
		tb.Fatal(err)
	}
	h := &decodingHarness{e: e, ops: jsonOperations(spec)}
	chain := s.operationChain(spec)
	rr := &ruleRecorder{e: e, rules: s.rules, spec: spec, chain: func(op *openapi3.Operation, _ Rule) []echo.MiddlewareFunc {
		return chain(op, RulePublic) // as if authenticated: the body is what is under test
	}}
	record := func(_ api.StrictHandlerFunc, _ string) api.StrictHandlerFunc {
		return func(_ echo.Context, request any) (any, error) {
			h.reached = request
			return nil, nil
		}
	}
	api.RegisterHandlersWithBaseURL(rr, api.NewStrictHandler(unimplementedServer{}, []api.StrictMiddlewareFunc{record}), BasePath)
	if rr.err != nil {
		tb.Fatal(rr.err)
	}
	if len(h.ops) == 0 {
		tb.Fatal("the spec declares no operation with a JSON body")
	}
	return h
}

// unimplementedServer is never called: the recorder answers every operation.
type unimplementedServer struct{ api.StrictServerInterface }

// pick finds an operation by ID; any other name picks one by its hash, so
// that a mutated name still reaches some operation.
func (h *decodingHarness) pick(name string) jsonOperation {
	for _, op := range h.ops {
		if strings.EqualFold(op.id, name) {
			return op
		}
	}
	sum := fnv.New32a()
	_, _ = io.WriteString(sum, name)
	return h.ops[sum.Sum32()%uint32(len(h.ops))]
}

// jsonOperations lists the spec's operations that take a JSON body, by ID.
func jsonOperations(spec *openapi3.T) []jsonOperation {
	var ops []jsonOperation
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
				continue
			}
			o := jsonOperation{id: op.OperationID, method: method, path: BasePath + path, headers: map[string]string{}}
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				value := "x"
				if p.Value.Schema != nil && p.Value.Schema.Value != nil && p.Value.Schema.Value.Format == "uuid" {
					value = "0190a6c4-5a3e-7b2c-9d1e-2f3a4b5c6d7e"
				}
				switch {
				case p.Value.In == openapi3.ParameterInPath:
					o.path = strings.ReplaceAll(o.path, "{"+p.Value.Name+"}", value)
				case p.Value.In == openapi3.ParameterInHeader && strings.EqualFold(p.Value.Name, "If-Match"):
					o.headers["If-Match"] = store.ETag(1)
				case p.Value.In == openapi3.ParameterInHeader && p.Value.Required:
					o.headers[p.Value.Name] = value
				}
			}
			ops = append(ops, o)
		}
	}
	slices.SortFunc(ops, func(a, b jsonOperation) int { return strings.Compare(a.id, b.id) })
	return ops
}

// repeatedKey finds a key that an object of the valid JSON document doc
// holds twice.
func repeatedKey(doc []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	var walk func() (string, bool)
	walk = func() (string, bool) {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, _ := dec.Token()
				key, _ := k.(string)
				if seen[key] {
					return key, true
				}
				seen[key] = true
				if key, ok := walk(); ok {
					return key, true
				}
			}
			_, _ = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if key, ok := walk(); ok {
					return key, true
				}
			}
			_, _ = dec.Token()
		}
		return "", false
	}
	return walk()
}

// undeclaredKey finds a member of the top-level object of doc that the
// request body type does not declare, comparing names exactly as the spec
// does.
func undeclaredKey(doc []byte, body reflect.Type) (string, bool) {
	var members map[string]json.RawMessage
	if body.Kind() != reflect.Struct || json.Unmarshal(doc, &members) != nil {
		return "", false
	}
	declared := map[string]bool{}
	for i := range body.NumField() {
		name, _, _ := strings.Cut(body.Field(i).Tag.Get("json"), ",")
		declared[name] = true
	}
	for k := range members {
		if !declared[k] {
			return k, true
		}
	}
	return "", false
}

// walkValues calls visit with every value inside v: struct fields, slice
// and map elements, through pointers and interfaces; the value of a
// nullable.Nullable (a map from "set" to the value) only when not null.
func walkValues(v reflect.Value, visit func(path string, v reflect.Value)) {
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
			return
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() || v.Type() == reflect.TypeFor[openapi_types.Date]() {
				break
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(path+"."+v.Type().Field(i).Name, v.Field(i))
				}
			}
			return
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(path+"[]", v.Index(i))
			}
			return
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				if it.Key().Kind() == reflect.Bool && !it.Key().Bool() {
					continue // an explicit null of a nullable.Nullable
				}
				walk(path+"{}", it.Key())
				walk(path+"{}", it.Value())
			}
			return
		case reflect.String:
			visit(path, reflect.ValueOf(v.String()))
			return
		}
		if v.CanInterface() {
			visit(path, v)
		}
	}
	walk("body", v)
}

// quoteCut quotes a fuzzed body for a failure message, cut short.
func quoteCut(b []byte) string {
	if len(b) > 300 {
		return strconv.Quote(string(b[:300])) + "..."
	}
	return strconv.Quote(string(b))
}
