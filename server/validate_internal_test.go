package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
	"schedsvc/problem"
)

// TestMethodNotAllowedNamesTheAllowedMethods: a method a path does not take
// is the declared 405 method-not-allowed with the Allow header RFC 9110
// requires.
func TestMethodNotAllowedNamesTheAllowedMethods(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec()
	require.NoError(t, err)
	v, err := newValidator(doc)
	require.NoError(t, err)
	h := v.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("a 405 never reaches the handler") }))
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodPatch, "/api/v1/schedules", "GET, POST"},
		{http.MethodPost, "/api/v1/schedules/3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05", "GET, PUT, DELETE"},
		{http.MethodDelete, "/api/v1/cron/preview", "GET"},
		{http.MethodPost, "/healthz", "GET"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code, "%s %s", tc.method, tc.path)
		require.Equal(t, tc.allow, rec.Header().Get("Allow"), "%s %s", tc.method, tc.path)
		require.Equal(t, problem.MediaType, rec.Header().Get("Content-Type"))
		var p api.Problem
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
		require.Equal(t, problem.MethodNotAllowed.Type(), string(p.Type))
		require.Equal(t, http.StatusMethodNotAllowed, p.Status)
	}
}
