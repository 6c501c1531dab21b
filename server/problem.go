package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"schedsvc/gen/api"
	"schedsvc/schedules"
)

// problemTypeBase prefixes every problem type; the suffix is the kind, and
// both are part of the API contract (see Problem.type in the spec).
const problemTypeBase = "https://schedsvc.dev/problems/"

type problemKind struct {
	status int
	title  string
}

// problemKinds is the one table from problem kind to status and title.
var problemKinds = map[string]problemKind{
	"invalid-request":         {http.StatusBadRequest, "Invalid request"},
	"unknown-field":           {http.StatusBadRequest, "Unknown field"},
	"unauthorized":            {http.StatusUnauthorized, "Unauthorized"},
	"not-found":               {http.StatusNotFound, "Not found"},
	"method-not-allowed":      {http.StatusMethodNotAllowed, "Method not allowed"},
	"schedule-limit-reached":  {http.StatusConflict, "Schedule limit reached"},
	"idempotency-in-progress": {http.StatusConflict, "Request with this Idempotency-Key in progress"},
	"idempotency-key-reused":  {http.StatusUnprocessableEntity, "Idempotency-Key reused"},
	"rate-limited":            {http.StatusTooManyRequests, "Rate limit exceeded"},
	"body-too-large":          {http.StatusRequestEntityTooLarge, "Request body too large"},
	"unsupported-media-type":  {http.StatusUnsupportedMediaType, "Unsupported media type"},
	"invalid-cron":            {http.StatusUnprocessableEntity, "Invalid cron expression"},
	"unknown-timezone":        {http.StatusUnprocessableEntity, "Unknown time zone"},
	"interval-too-short":      {http.StatusUnprocessableEntity, "Interval too short"},
	"budget-exceeded":         {http.StatusUnprocessableEntity, "Budget not allowed"},
	"invalid-field":           {http.StatusUnprocessableEntity, "Invalid field"},
	"service-unavailable":     {http.StatusServiceUnavailable, "Service unavailable"},
	"internal":                {http.StatusInternalServerError, "Internal error"},
}

// retryAfterSeconds is what a 503 suggests to clients.
const retryAfterSeconds = 5

// writeProblem answers with an RFC 9457 problem of the given kind.
func writeProblem(w http.ResponseWriter, r *http.Request, kind, detail string, fields []api.ProblemFieldError) {
	k, ok := problemKinds[kind]
	if !ok {
		kind, k = "internal", problemKinds["internal"]
	}
	p := api.Problem{
		Type:     problemTypeBase + kind,
		Title:    k.title,
		Status:   k.status,
		Instance: ptr(r.URL.Path),
	}
	if detail != "" {
		p.Detail = &detail
	}
	if len(fields) > 0 {
		p.Errors = &fields
	}
	if id := requestIDFrom(r.Context()); id != "" {
		p.RequestId = &id
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	if k.status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	w.WriteHeader(k.status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeError maps a domain error to its problem. Unknown errors are logged
// with their detail and answered with a generic 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var verr *schedules.ValidationError
	switch {
	case errors.As(err, &verr):
		var fields []api.ProblemFieldError
		if verr.Field != "" {
			fields = []api.ProblemFieldError{{Field: verr.Field, Message: verr.Detail}}
		}
		writeProblem(w, r, string(verr.Kind), verr.Detail, fields)
	case errors.Is(err, schedules.ErrRunNotFound):
		writeProblem(w, r, "not-found", "this schedule has no run with this id", nil)
	case errors.Is(err, schedules.ErrNotFound):
		writeProblem(w, r, "not-found", "no schedule with this id exists for you", nil)
	case errors.Is(err, schedules.ErrUnavailable):
		s.log.WarnContext(r.Context(), "dependency unavailable", "error", err, "request_id", requestIDFrom(r.Context()))
		writeProblem(w, r, "service-unavailable", "a backing service is unreachable; nothing was changed, retry later", nil)
	default:
		s.log.ErrorContext(r.Context(), "request failed", "error", err, "request_id", requestIDFrom(r.Context()))
		writeProblem(w, r, "internal", "an unexpected error occurred; quote the request id when reporting it", nil)
	}
}

func ptr[T any](v T) *T { return &v }
