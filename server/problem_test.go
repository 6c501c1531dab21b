package server_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/problem"
)

// TestMethodNotAllowed: a method a path does not take is the declared 405
// method-not-allowed, with Allow; checkResponse holds it against the
// catalogue although no operation of the spec matches.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())
	for _, tc := range []struct{ method, path, token, allow string }{
		{http.MethodPatch, "/api/v1/schedules", tok, "GET, POST"},
		{http.MethodPost, "/healthz", "", "GET"},
	} {
		resp := b.do(t, request{method: tc.method, path: tc.path, token: tc.token})
		require.Equal(t, http.StatusMethodNotAllowed, resp.status, "body: %s", resp.body)
		require.Equal(t, tc.allow, resp.header.Get("Allow"))
		require.Equal(t, problem.MethodNotAllowed.Type(), resp.problem(t).Type)
	}
	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/nothing-here", token: tok})
	require.Equal(t, problem.NotFound.Type(), resp.problem(t).Type)
}
