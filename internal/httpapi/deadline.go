package httpapi

import (
	"context"
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-coach/tandem/internal/store"
)

// requestDeadline gives every request at most d (zero: the store's
// default). Past it the request's context ends, which cancels the database
// work the request started, since every query runs with that context; the
// error the work then returns is answered 503 with Retry-After (see
// toProblem). Nothing waits on a database that does not answer.
func requestDeadline(d time.Duration) echo.MiddlewareFunc {
	if d <= 0 {
		d = store.DefaultRequestTimeout
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			err := next(c)
			if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				// The driver's error may only say that a connection closed
				// or a transaction ended; say why.
				err = errors.Join(err, ctx.Err())
			}
			return err
		}
	}
}
