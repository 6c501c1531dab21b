package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"schedsvc/gen/api"
)

// Exit codes, as `schedctl --help` documents them.
const (
	exitOK       = 0
	exitAPI      = 1 // the service answered with an error, or with something that is not the API's answer
	exitUsage    = 2 // the command line or the configuration is wrong; nothing was sent
	exitNoAnswer = 3 // the service could not be reached or did not answer in time
)

// exitCode is the exit status for what run returned.
func exitCode(err error) int {
	var u *usageError
	var n *noAnswerError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &n):
		return exitNoAnswer
	default:
		return exitAPI
	}
}

// usageError is a command line or configuration that cannot be sent; hint says where to read
// more and is printed on a line of its own.
type usageError struct {
	msg, hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, args ...any) *usageError {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// noAnswerError is a request that got no HTTP answer: refused, unresolvable, timed out.
type noAnswerError struct{ err error }

func (e *noAnswerError) Error() string {
	if errors.Is(e.err, context.DeadlineExceeded) {
		return "no answer from the service in time (see --request-timeout): " + e.err.Error()
	}
	return "cannot reach the service: " + e.err.Error()
}

func (e *noAnswerError) Unwrap() error { return e.err }

// apiError is an answer outside 2xx. The service sends every error as application/problem+json;
// problem is nil when the answer is something else (say, a proxy's HTML page), and body then
// holds its start.
type apiError struct {
	status     int
	problem    *api.Problem
	body       string
	retryAfter string
}

// maxBodyInError is how much of a body that is not a problem an error line quotes.
const maxBodyInError = 200

// newAPIError reads a non-2xx answer.
func newAPIError(resp *http.Response, body []byte) *apiError {
	e := &apiError{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && (mt == "application/problem+json" || mt == "application/json") {
		var p api.Problem
		if json.Unmarshal(body, &p) == nil && p.Title != "" {
			e.problem = &p
			return e
		}
	}
	e.body = oneLine(string(body))
	if len(e.body) > maxBodyInError {
		e.body = e.body[:maxBodyInError] + "…"
	}
	return e
}

// Error renders the answer as one line: status, title and detail first, then the problem's
// type, its field errors, the request id to quote and when to retry.
func (e *apiError) Error() string {
	var b strings.Builder
	if e.problem == nil {
		fmt.Fprintf(&b, "%d %s", e.status, http.StatusText(e.status))
		if e.body != "" {
			fmt.Fprintf(&b, " (not a problem+json answer): %s", e.body)
		}
		return b.String()
	}
	p := e.problem
	fmt.Fprintf(&b, "%d %s", e.status, p.Title)
	if p.Detail != nil && *p.Detail != "" {
		fmt.Fprintf(&b, ": %s", *p.Detail)
	}
	extra := []string{"type " + string(p.Type)}
	if p.Errors != nil && len(*p.Errors) > 0 {
		fields := make([]string, len(*p.Errors))
		for i, f := range *p.Errors {
			fields[i] = f.Field + ": " + f.Message
		}
		extra = append(extra, "errors: "+strings.Join(fields, ", "))
	}
	if p.RequestId != nil && *p.RequestId != "" {
		extra = append(extra, "request_id "+*p.RequestId)
	}
	if e.retryAfter != "" {
		extra = append(extra, "retry after "+e.retryAfter+" s")
	}
	fmt.Fprintf(&b, " [%s]", strings.Join(extra, "; "))
	return oneLine(b.String())
}
