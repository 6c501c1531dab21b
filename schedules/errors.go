package schedules

import "errors"

// ErrNotFound is returned when a schedule does not exist, is deleted, or
// belongs to another user or tenant: callers cannot tell these apart, so a
// schedule's existence never leaks across owners. The persistence layer
// returns it (wrapping the cause) for a missing row.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by the persistence layer when a write collides
// with a row that already exists (a unique key taken).
var ErrConflict = errors.New("conflict")

// ErrUnavailable wraps failures of a dependency (Temporal, PostgreSQL) that
// the caller may retry; nothing was changed when it is returned.
var ErrUnavailable = errors.New("dependency unavailable")

// Input the manager refuses is a *problem.Error whose Kind the HTTP layer
// answers through the problem catalogue.
