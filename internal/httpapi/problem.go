package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/telemetry"
)

// problem is an RFC 9457 problem document.
type problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	TraceID   string       `json:"trace_id,omitempty"`
	Errors    []fieldError `json:"errors,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// problemTypeBase prefixes problem type URIs; each names a documented failure.
const problemTypeBase = "https://tandem.invalid/problems/"

// statusOf is the one table from error code to HTTP status.
var statusOf = map[apperr.Code]int{
	apperr.Invalid:              http.StatusBadRequest,
	apperr.Unauthenticated:      http.StatusUnauthorized,
	apperr.PaymentRequired:      http.StatusPaymentRequired,
	apperr.Forbidden:            http.StatusForbidden,
	apperr.NotFound:             http.StatusNotFound,
	apperr.Conflict:             http.StatusConflict,
	apperr.Gone:                 http.StatusGone,
	apperr.PreconditionFailed:   http.StatusPreconditionFailed,
	apperr.PreconditionRequired: http.StatusPreconditionRequired,
	apperr.TooManyRequests:      http.StatusTooManyRequests,
	apperr.Unavailable:          http.StatusServiceUnavailable,
}

// codeOf maps the statuses Echo itself produces back to codes and safe messages.
var echoStatus = map[int]struct {
	code    string
	message string
}{
	http.StatusBadRequest:            {"invalid", "The request could not be read; send a JSON object that matches the API description."},
	http.StatusUnauthorized:          {"unauthenticated", "Credentials are missing or invalid."},
	http.StatusForbidden:             {"forbidden", "You may not do this."},
	http.StatusNotFound:              {"not_found", "There is nothing at this address."},
	http.StatusMethodNotAllowed:      {"method_not_allowed", "This address does not support this method."},
	http.StatusRequestEntityTooLarge: {"too_large", "The request body is too large."},
	http.StatusUnsupportedMediaType:  {"unsupported_media_type", "Send the request body as application/json."},
	http.StatusServiceUnavailable:    {"unavailable", "The service is temporarily unavailable."},
}

// handleError is Echo's HTTPErrorHandler: every error leaves the service as a
// problem document. Internal details go to the log with the request ID, never
// to the caller.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed || s.serveApp(err, c) {
		return
	}
	p, retryAfter := s.toProblem(err)
	p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	p.TraceID = telemetry.TraceID(c.Request().Context())
	p.Instance = c.Request().URL.Path
	if isSecretPath(c.Path()) {
		p.Instance = "" // the path carries a token
	}

	log := s.log.With(slog.String("request_id", p.RequestID), slog.String("route", s.routeLabel(c)))
	if p.Status >= 500 {
		log.ErrorContext(c.Request().Context(), "request failed", slog.String("error", err.Error()))
	} else {
		log.DebugContext(c.Request().Context(), "request refused", slog.Int("status", p.Status), slog.String("error", err.Error()))
	}

	h := c.Response().Header()
	switch {
	case p.Status == http.StatusUnauthorized && strings.HasSuffix(p.Type, "/insufficient_user_authentication"):
		// RFC 9470: the token is fine, but its authentication is too old.
		h.Set("WWW-Authenticate", `Bearer realm="tandem", error="insufficient_user_authentication", max_age=300`)
	case p.Status == http.StatusUnauthorized:
		// Every 401 names its scheme (RFC 9110), wrong_password too: there
		// the problem type, not the header, tells a client not to refresh
		// its session and send the same password again.
		h.Set("WWW-Authenticate", `Bearer realm="tandem"`)
	}
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	body, _ := json.Marshal(p)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	_ = c.Blob(p.Status, "application/problem+json", body)
}

// Seconds a client should wait before sending a request again
// (Retry-After) after each kind of passing failure.
const (
	retryContention  = 1  // a collision with concurrent changes: at once, nearly
	retryBusy        = 2  // another writer's lock
	retryUnavailable = 5  // a database that does not answer, or any other 503
	retryFull        = 60 // a full disk waits for an operator
)

// toProblem maps an error to its problem document and Retry-After seconds
// (0: none). Domain errors keep the status their code names; errors Echo
// raises get theirs; a database failure that is no fault of the request is
// 409 or 503 with Retry-After (store.Classify says which); anything else is
// a bug: 500.
func (s *Server) toProblem(err error) (problem, int) {
	if ae, ok := apperr.As(err); ok {
		status, known := statusOf[ae.Code]
		if !known {
			status = http.StatusInternalServerError
		}
		kind := string(ae.Code)
		if ae.Reason != "" {
			kind = ae.Reason
		}
		p := problem{Type: problemTypeBase + kind, Title: http.StatusText(status), Status: status, Detail: ae.Message}
		for _, f := range ae.Fields {
			p.Errors = append(p.Errors, fieldError(f))
		}
		secs := 0
		switch {
		case ae.RetryAfter > 0:
			secs = int(ae.RetryAfter.Seconds()) + 1
		case status == http.StatusServiceUnavailable:
			secs = retryUnavailable
		}
		return p, secs
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if known, ok := echoStatus[he.Code]; ok {
			secs := 0
			if he.Code == http.StatusServiceUnavailable {
				secs = retryUnavailable
			}
			return problem{Type: problemTypeBase + known.code, Title: http.StatusText(he.Code), Status: he.Code, Detail: known.message}, secs
		}
		if he.Code < 500 {
			return problem{Type: "about:blank", Title: http.StatusText(he.Code), Status: he.Code}, 0
		}
	}
	if p, secs, ok := databaseProblem(err); ok {
		return p, secs
	}
	return problem{Type: problemTypeBase + "internal", Title: http.StatusText(http.StatusInternalServerError),
		Status: http.StatusInternalServerError, Detail: "Something went wrong on our side. Quote the request ID if you contact support."}, 0
}

// databaseProblem answers the database failures that are no fault of the
// request, as store.Classify tells them apart.
func databaseProblem(err error) (problem, int, bool) {
	unavailable := func(detail string) problem {
		return problem{Type: problemTypeBase + string(apperr.Unavailable), Title: http.StatusText(http.StatusServiceUnavailable),
			Status: http.StatusServiceUnavailable, Detail: detail}
	}
	switch err := store.Classify(err); {
	case errors.Is(err, store.ErrContention):
		p := problem{Type: problemTypeBase + "contention", Title: http.StatusText(http.StatusConflict), Status: http.StatusConflict,
			Detail: "Another change to the same records was made at the same moment; send the request again."}
		return p, retryContention, true
	case errors.Is(err, store.ErrBusy):
		return unavailable("The database is busy with another change; try again in a moment."), retryBusy, true
	case errors.Is(err, store.ErrFull):
		p := unavailable("Tandem cannot store anything more right now, so nothing was changed; reading works. Try again later.")
		p.Type = problemTypeBase + "storage_full"
		return p, retryFull, true
	case errors.Is(err, store.ErrUnavailable) && errors.Is(err, context.DeadlineExceeded):
		return unavailable("The request could not be completed in time; try again shortly."), retryUnavailable, true
	case errors.Is(err, store.ErrUnavailable):
		return unavailable("The database cannot be reached right now; try again shortly."), retryUnavailable, true
	}
	return problem{}, 0, false
}

// validationError turns the request validator's findings into one Invalid
// error listing every field, with messages that never echo the input.
func validationError(err error) error {
	var fields apperr.Fields
	collectFieldErrors(err, &fields)
	if len(fields) == 0 {
		fields.Add("body", "does not match the API description")
	}
	return apperr.Validation(firstPerField(fields)...)
}

// firstPerField keeps the first error of each field: a value can break
// several rules of its schema at once (a date-time's pattern and format),
// and one message per field is what a form can show.
func firstPerField(fields apperr.Fields) apperr.Fields {
	seen := map[string]bool{}
	kept := fields[:0]
	for _, f := range fields {
		if !seen[f.Field] {
			seen[f.Field] = true
			kept = append(kept, f)
		}
	}
	return kept
}

func collectFieldErrors(err error, fields *apperr.Fields) {
	var multi openapi3.MultiError
	if errors.As(err, &multi) && !isSchemaError(err) {
		for _, e := range multi {
			collectFieldErrors(e, fields)
		}
		return
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		switch {
		case re.Parameter != nil:
			msg := "has an invalid value"
			var se *openapi3.SchemaError
			if errors.As(re.Err, &se) {
				msg = se.Reason
			} else if re.Err != nil && strings.Contains(re.Err.Error(), "must have a value") {
				msg = "is required"
			}
			fields.Add(re.Parameter.Name, msg)
		case re.Err != nil && (isSchemaError(re.Err) || isMulti(re.Err)):
			collectFieldErrors(re.Err, fields)
		default:
			fields.Add("body", "must be a JSON object matching the API description")
		}
		return
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		field := strings.Join(se.JSONPointer(), ".")
		msg := se.Reason
		if strings.HasSuffix(se.Reason, "is unsupported") {
			if name, ok := unsupportedProperty(se.Reason); ok {
				field, msg = joinField(field, name), "is not a field of this request"
			}
		}
		if se.SchemaField == "required" {
			if name, ok := quoted(se.Reason); ok {
				// kin-openapi already puts the missing property at the end of
				// the error's path; add it only when it is not there.
				if path := se.JSONPointer(); len(path) == 0 || path[len(path)-1] != name {
					field = joinField(field, name)
				}
				msg = "is required"
			}
		}
		if field == "" {
			field = "body"
		}
		fields.Add(field, msg)
		return
	}
	fields.Add("body", "does not match the API description")
}

func isSchemaError(err error) bool {
	var se *openapi3.SchemaError
	return errors.As(err, &se) && !isMulti(err)
}

func isMulti(err error) bool {
	_, ok := err.(openapi3.MultiError)
	return ok
}

func unsupportedProperty(reason string) (string, bool) {
	if !strings.HasPrefix(reason, "property ") {
		return "", false
	}
	return quoted(reason)
}

func quoted(s string) (string, bool) {
	i := strings.IndexByte(s, '"')
	j := strings.LastIndexByte(s, '"')
	if i < 0 || j <= i {
		return "", false
	}
	return s[i+1 : j], true
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}
