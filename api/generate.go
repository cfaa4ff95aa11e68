// Package api holds the Tandem HTTP contract: api/openapi.yaml and the
// server interface, types and embedded spec that oapi-codegen generates from
// it. Edit the YAML, then run `go generate ./api`.
package api

//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi.yaml
