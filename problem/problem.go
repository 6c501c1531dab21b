// Package problem is the one catalogue of the problems the API can answer
// with: each kind's HTTP status, RFC 9457 `type` URI and title. The domain
// names kinds when it refuses input; the HTTP layer answers through this
// table; tests hold it against the spec and the README, both ways.
package problem

import (
	"fmt"
	"net/http"
)

// TypeBase prefixes every problem type; the suffix is the kind. Both are
// part of the API contract (see Problem.type in the spec).
const TypeBase = "https://schedsvc.dev/problems/"

// MediaType is the Content-Type of every problem (RFC 9457).
const MediaType = "application/problem+json"

// Kind names one class of problem. Its string is the suffix of the type URI.
type Kind string

// Every kind the API can send. Each has a row in catalogue.
const (
	InvalidRequest        Kind = "invalid-request" // a malformed body or parameter, such as a cursor this API never issued
	UnknownField          Kind = "unknown-field"
	Unauthorized          Kind = "unauthorized"
	NotFound              Kind = "not-found"
	MethodNotAllowed      Kind = "method-not-allowed"
	ScheduleLimitReached  Kind = "schedule-limit-reached"
	ScheduleCompleted     Kind = "schedule-completed" // pause or resume of a COMPLETED schedule
	IdempotencyInProgress Kind = "idempotency-in-progress"
	IdempotencyKeyReused  Kind = "idempotency-key-reused"
	RateLimited           Kind = "rate-limited"
	BodyTooLarge          Kind = "body-too-large"
	UnsupportedMediaType  Kind = "unsupported-media-type"
	InvalidCron           Kind = "invalid-cron"
	UnknownTimezone       Kind = "unknown-timezone"
	IntervalTooShort      Kind = "interval-too-short"
	BudgetExceeded        Kind = "budget-exceeded"
	InvalidField          Kind = "invalid-field"
	InvalidRange          Kind = "invalid-range"      // a backfill's range: in the future, reversed, or without a firing
	BackfillTooLarge      Kind = "backfill-too-large" // a backfill's range holds more firings than one request may start
	NotifyURLRefused      Kind = "notify-url-refused" // a notify.url the SSRF policy refuses
	ServiceUnavailable    Kind = "service-unavailable"
	Internal              Kind = "internal"
)

// Entry is a kind's row in the catalogue.
type Entry struct {
	Status int
	Title  string
}

// catalogue is the one table from kind to status and title.
var catalogue = map[Kind]Entry{
	InvalidRequest:        {http.StatusBadRequest, "Invalid request"},
	UnknownField:          {http.StatusBadRequest, "Unknown field"},
	Unauthorized:          {http.StatusUnauthorized, "Unauthorized"},
	NotFound:              {http.StatusNotFound, "Not found"},
	MethodNotAllowed:      {http.StatusMethodNotAllowed, "Method not allowed"},
	ScheduleLimitReached:  {http.StatusConflict, "Schedule limit reached"},
	ScheduleCompleted:     {http.StatusConflict, "Schedule completed"},
	IdempotencyInProgress: {http.StatusConflict, "Request with this Idempotency-Key in progress"},
	IdempotencyKeyReused:  {http.StatusUnprocessableEntity, "Idempotency-Key reused"},
	RateLimited:           {http.StatusTooManyRequests, "Rate limit exceeded"},
	BodyTooLarge:          {http.StatusRequestEntityTooLarge, "Request body too large"},
	UnsupportedMediaType:  {http.StatusUnsupportedMediaType, "Unsupported media type"},
	InvalidCron:           {http.StatusUnprocessableEntity, "Invalid cron expression"},
	UnknownTimezone:       {http.StatusUnprocessableEntity, "Unknown time zone"},
	IntervalTooShort:      {http.StatusUnprocessableEntity, "Interval too short"},
	BudgetExceeded:        {http.StatusUnprocessableEntity, "Budget not allowed"},
	InvalidField:          {http.StatusUnprocessableEntity, "Invalid field"},
	InvalidRange:          {http.StatusUnprocessableEntity, "Invalid range"},
	BackfillTooLarge:      {http.StatusUnprocessableEntity, "Backfill too large"},
	NotifyURLRefused:      {http.StatusUnprocessableEntity, "Notification URL refused"},
	ServiceUnavailable:    {http.StatusServiceUnavailable, "Service unavailable"},
	Internal:              {http.StatusInternalServerError, "Internal error"},
}

// Lookup returns the kind's row; ok is false for a kind not in the
// catalogue.
func Lookup(k Kind) (e Entry, ok bool) {
	e, ok = catalogue[k]
	return e, ok
}

// Catalogue returns a copy of the whole table.
func Catalogue() map[Kind]Entry {
	out := make(map[Kind]Entry, len(catalogue))
	for k, e := range catalogue {
		out[k] = e
	}
	return out
}

// Type is the kind's problem `type` URI.
func (k Kind) Type() string { return TypeBase + string(k) }

// Error reports input the service refuses. Detail is written for the API
// user: it says what is wrong and, where possible, what to write instead.
// Field, when set, is the JSON name of the field at fault.
type Error struct {
	Kind   Kind
	Field  string
	Detail string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Kind, e.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", e.Kind, e.Field, e.Detail)
}

// Invalid returns an *Error of kind about field, its detail formatted.
func Invalid(kind Kind, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Field: field, Detail: fmt.Sprintf(format, args...)}
}
