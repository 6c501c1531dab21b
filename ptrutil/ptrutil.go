// Package ptrutil is the one home of the tiny pointer helpers every layer
// needs when it converts between optional API fields and values.
package ptrutil

// Ptr returns a pointer to a copy of v.
func Ptr[T any](v T) *T { return &v }

// NilIfZero returns nil for the zero value (such as ""), else a pointer to v.
func NilIfZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// ValOrDefault returns *p, or def when p is nil.
func ValOrDefault[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// SetIf overwrites *dst with *v when v is set: a partial update's "absent
// keeps the value".
func SetIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
