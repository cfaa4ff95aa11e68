// Package patch describes one field of a partial update (HTTP PATCH): left
// alone, set to a value, or — for optional fields — cleared.
package patch

import "github.com/oapi-codegen/nullable"

// Field is one field of a partial update.
type Field[T any] struct {
	Set   bool // the request named the field
	Value *T   // nil with Set: clear it
}

// Of sets the field to v.
func Of[T any](v T) Field[T] { return Field[T]{Set: true, Value: &v} }

// FromNullable converts the API's absent / null / value into a Field.
func FromNullable[T any](n nullable.Nullable[T]) Field[T] {
	if !n.IsSpecified() {
		return Field[T]{}
	}
	if n.IsNull() {
		return Field[T]{Set: true}
	}
	v := n.MustGet()
	return Field[T]{Set: true, Value: &v}
}

// FromPtr converts a required-when-present field (absent or a value).
func FromPtr[T any](p *T) Field[T] {
	if p == nil {
		return Field[T]{}
	}
	return Field[T]{Set: true, Value: p}
}
