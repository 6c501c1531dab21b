package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"schedsvc/gen/api"
	"schedsvc/problem"
	"schedsvc/ptrutil"
	"schedsvc/schedules"
)

// retryAfterSeconds is what a 503 suggests to clients.
const retryAfterSeconds = 5

// statusClientClosedRequest is nginx's 499: the client went away before
// the answer. Nobody reads it; it keeps the access log and the span from
// counting the client's leaving as a server error.
const statusClientClosedRequest = 499

// clientClosed reports whether the request's client has gone: the server
// cancels a request's context only when its connection or stream closes.
func clientClosed(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// writeProblem answers with an RFC 9457 problem of the given kind. A kind
// the catalogue lacks is a bug: it is answered as internal and observe logs
// it as an error. A server error for a client that has gone, most likely
// caused by its going, is recorded as a client close instead.
func writeProblem(w http.ResponseWriter, r *http.Request, kind problem.Kind, detail string, fields []api.ProblemFieldError) {
	k, ok := problem.Lookup(kind)
	if !ok {
		noteUnmappedKind(r.Context(), kind)
		kind, k = problem.Internal, mustLookup(problem.Internal)
	}
	if k.Status >= http.StatusInternalServerError && clientClosed(r) {
		w.WriteHeader(statusClientClosedRequest)
		return
	}
	p := api.Problem{
		Type:     api.ProblemType(kind.Type()),
		Title:    k.Title,
		Status:   k.Status,
		Instance: ptrutil.Ptr(r.URL.Path),
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
	h.Set("Content-Type", problem.MediaType)
	if k.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	w.WriteHeader(k.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeError maps a domain error to its problem. Unknown errors are logged
// with their detail and answered with a generic 500; when the client has
// gone, whatever failed most likely failed because it went, which is not
// the server's error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var verr *problem.Error
	switch {
	case errors.As(err, &verr):
		var fields []api.ProblemFieldError
		if verr.Field != "" {
			fields = []api.ProblemFieldError{{Field: verr.Field, Message: verr.Detail}}
		}
		writeProblem(w, r, verr.Kind, verr.Detail, fields)
	case errors.Is(err, schedules.ErrRunNotFound):
		writeProblem(w, r, problem.NotFound, "this schedule has no run with this id", nil)
	case errors.Is(err, schedules.ErrNotFound):
		writeProblem(w, r, problem.NotFound, "no schedule with this id exists for you", nil)
	case clientClosed(r):
		s.log.InfoContext(r.Context(), "client closed request", "error", err, "request_id", requestIDFrom(r.Context()))
		w.WriteHeader(statusClientClosedRequest)
	case errors.Is(err, schedules.ErrUnavailable):
		s.log.WarnContext(r.Context(), "dependency unavailable", "error", err, "request_id", requestIDFrom(r.Context()))
		writeProblem(w, r, problem.ServiceUnavailable, "a backing service is unreachable; nothing was changed, retry later", nil)
	default:
		s.log.ErrorContext(r.Context(), "request failed", "error", err, "request_id", requestIDFrom(r.Context()))
		writeProblem(w, r, problem.Internal, "an unexpected error occurred; quote the request id when reporting it", nil)
	}
}

func mustLookup(k problem.Kind) problem.Entry {
	e, ok := problem.Lookup(k)
	if !ok {
		panic("problem catalogue has no row for " + string(k))
	}
	return e
}
