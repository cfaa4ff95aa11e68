// Package reqinfo carries facts about the HTTP request — its ID, the client's
// IP and user agent — from the edge of the service to the code that records
// them (audit events, logs) without passing them through every signature.
package reqinfo

import "context"

// Info describes the request being served.
type Info struct {
	RequestID string
	IP        string
	UserAgent string
}

type key struct{}

// With returns ctx carrying info.
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the request info in ctx, or the zero Info outside a request.
func From(ctx context.Context) Info {
	info, _ := ctx.Value(key{}).(Info)
	return info
}
