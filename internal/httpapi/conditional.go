package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tandem-coach/tandem/internal/apperr"
)

// href is the URL of a record in a collection of the API, for Location.
func href(collection string, id uuid.UUID) string {
	return BasePath + "/" + collection + "/" + id.String()
}

// errIfMatchRequired answers a change to a versioned record sent without
// If-Match (RFC 6585 §3): without it, two people editing the same record
// would silently overwrite each other.
var errIfMatchRequired = apperr.New(apperr.PreconditionRequired,
	"Send If-Match with the ETag of the version you read (or * to change whatever version is current).")

// requiresIfMatch reports whether the operation declares If-Match as a
// required header: the changes to versioned records do.
func requiresIfMatch(op *openapi3.Operation) bool {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInHeader &&
			http.CanonicalHeaderKey(p.Value.Name) == "If-Match" && p.Value.Required {
			return true
		}
	}
	return false
}

// requireIfMatch answers 428 before validation, which would call the missing
// header a 400.
func requireIfMatch(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.TrimSpace(c.Request().Header.Get("If-Match")) == "" {
			return errIfMatchRequired
		}
		return next(c)
	}
}

// conditionalRead gives every successful read an entity tag and answers a
// current If-None-Match with 304 and no body (RFC 9110 §13.1.2). The tag
// is the one the handler set (a record's ETag, which If-Match takes back),
// or else a digest of the exact bytes. The handler runs either way, so the
// answer is authorized and, for a therapist's read, recorded in the
// client's disclosure log like any other view.
func conditionalRead(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead {
			return next(c)
		}
		res := c.Response()
		out := res.Writer
		buf := &bufferedWriter{header: out.Header()}
		res.Writer = buf
		defer func() {
			res.Writer = out
			if p := recover(); p != nil {
				res.Committed = false // nothing reached the caller: the recovery answers 500
				panic(p)
			}
		}()
		err := next(c)
		if err != nil || buf.status == 0 {
			// Nothing was written: the error handler writes the problem document.
			return err
		}
		h := out.Header()
		if buf.status == http.StatusOK {
			tag := h.Get("ETag")
			if tag == "" {
				sum := sha256.Sum256(buf.body.Bytes())
				tag = `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
				h.Set("ETag", tag)
			}
			if inm := c.Request().Header.Get("If-None-Match"); inm != "" && etagListMatches(inm, tag) {
				h.Del("Content-Type")
				h.Del("Content-Length")
				res.Status, res.Size = http.StatusNotModified, 0
				out.WriteHeader(http.StatusNotModified)
				return nil
			}
			h.Set("Content-Length", strconv.Itoa(buf.body.Len()))
		}
		out.WriteHeader(buf.status)
		_, err = buf.body.WriteTo(out)
		return err
	}
}

// bufferedWriter holds a response until conditionalRead decides what to
// send. Every read Tandem answers is a bounded page or record.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferedWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}

// etagListMatches reports whether an If-None-Match value, * or a list of
// entity tags, names etag; W/ is ignored on either side (weak comparison).
func etagListMatches(list, etag string) bool {
	if strings.TrimSpace(list) == "*" {
		return true
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, tag := range strings.Split(list, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == want {
			return true
		}
	}
	return false
}
