package schedules

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned when a schedule does not exist, is deleted, or
// belongs to another user or tenant: callers cannot tell these apart, so a
// schedule's existence never leaks across owners.
var ErrNotFound = errors.New("schedule not found")

// ErrUnavailable wraps failures of a dependency (Temporal, PostgreSQL) that
// the caller may retry; nothing was changed when it is returned.
var ErrUnavailable = errors.New("dependency unavailable")

// Kind names a class of rejected input. The HTTP layer maps each kind to a
// stable problem type and status, so kinds are part of the API contract.
type Kind string

const (
	KindInvalidCron      Kind = "invalid-cron"
	KindUnknownTimezone  Kind = "unknown-timezone"
	KindIntervalTooShort Kind = "interval-too-short"
	KindBudgetExceeded   Kind = "budget-exceeded"
	KindInvalidField     Kind = "invalid-field"
	KindInvalidRequest   Kind = "invalid-request" // a malformed parameter, such as a cursor this API never issued
	KindLimitReached     Kind = "schedule-limit-reached"
)

// ValidationError reports input the manager refuses. Detail is written for
// the API user: it says what is wrong and, where possible, what to write
// instead.
type ValidationError struct {
	Kind   Kind
	Field  string
	Detail string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Kind, e.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", e.Kind, e.Field, e.Detail)
}

func invalid(kind Kind, field, format string, args ...any) *ValidationError {
	return &ValidationError{Kind: kind, Field: field, Detail: fmt.Sprintf(format, args...)}
}
