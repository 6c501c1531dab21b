package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

type pingFunc func(context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

// healthClient is a Temporal client whose health check answers err.
type healthClient struct {
	client.Client
	err error
}

func (c healthClient) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, c.err
}

// Readiness names the dependency that does not answer and is 503; liveness
// does not depend on either (the worker outlives a dependency's outage).
// The real dependencies are probed in TestRunServesFireLagAfterAFiring.
func TestProbesNameWhatIsDown(t *testing.T) {
	t.Parallel()
	down := errors.New("down")
	for _, tc := range []struct {
		pg, temporal error
		code         int
		body         string
	}{
		{nil, nil, http.StatusOK, `{"status":"ready","checks":{"postgres":"ok","temporal":"ok"}}`},
		{down, nil, http.StatusServiceUnavailable, `{"status":"not ready","checks":{"postgres":"unavailable","temporal":"ok"}}`},
		{nil, down, http.StatusServiceUnavailable, `{"status":"not ready","checks":{"postgres":"ok","temporal":"unavailable"}}`},
	} {
		routes := probes(pingFunc(func(context.Context) error { return tc.pg }), healthClient{err: tc.temporal})
		mux := http.NewServeMux()
		for _, r := range routes {
			mux.Handle(r.Pattern, r.Handler)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		require.Equal(t, tc.code, rec.Code)
		require.JSONEq(t, tc.body, rec.Body.String())
		rec = httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		require.Equal(t, http.StatusOK, rec.Code)
	}
}
