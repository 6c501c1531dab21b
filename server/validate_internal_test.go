package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
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

// The templates must find exactly what the spec router finds, for every
// operation and for the paths around them, or leave the answer to it.
func TestTemplatesFindWhatTheRouterFinds(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec()
	require.NoError(t, err)
	v, err := newValidator(doc)
	require.NoError(t, err)
	require.Len(t, v.templates, countOperations(doc.Paths.Map()), "every operation has a template")
	id := "3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05"
	paths := []string{
		"/api/v1/schedules", "/api/v1/schedules/", "/api/v1/schedules/" + id, "/api/v1/schedules/" + id + "/",
		"/api/v1/schedules/" + id + "/pause", "/api/v1/schedules/" + id + "/resume", "/api/v1/schedules/" + id + "/runs",
		"/api/v1/schedules/" + id + "/runs/" + id, "/api/v1/schedules/not-a-uuid", "/api/v1/schedules/a%2Fb",
		"/api/v1/schedules/a%20b", "/api/v1/schedules//pause", "/api/v1/cron/preview", "/api/v1/cron/preview/x",
		"/healthz", "/readyz", "/openapi.yaml", "/openapi.json", "/docs", "/docs/redoc.standalone.js", "/nope", "/",
		"/api/v1/schedules/" + id + "/runs/" + id + "/x", "/API/v1/schedules",
	}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	for _, path := range paths {
		for _, m := range methods {
			r := httptest.NewRequest(m, path, nil)
			wantRoute, wantParams, wantErr := v.router.FindRoute(r)
			gotRoute, gotParams, _, gotErr := v.findTemplate(r)
			require.Equal(t, wantErr, gotErr, "%s %s", m, path)
			if wantErr != nil {
				continue
			}
			require.Equal(t, *wantRoute, *gotRoute, "%s %s", m, path)
			require.Equal(t, wantParams, gotParams, "%s %s", m, path)
		}
	}
}

func countOperations(items map[string]*openapi3.PathItem) int {
	n := 0
	for _, item := range items {
		n += len(item.Operations())
	}
	return n
}

// A request the bare path lets through must be one kin-openapi's whole
// validation accepts too: bareValid may only ever skip work, never an error.
// And the reads it exists for do take it.
func TestBareRequestsAreValidRequests(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec()
	require.NoError(t, err)
	v, err := newValidator(doc)
	require.NoError(t, err)
	ids := []string{"3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05", "00000000-0000-0000-0000-000000000000",
		"3F6C2A8E-5B1D-4C7A-9E2F-8D4B1A7C6E05", "3f6c2a8e-5b1d-0c7a-9e2f-8d4b1a7c6e05", "3f6c2a8e5b1d4c7a9e2f8d4b1a7c6e05",
		"not-a-uuid", "x", "3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e0", "3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e055"}
	bareOps := map[string]bool{}
	for i := range v.templates {
		tmpl := &v.templates[i]
		for _, id := range ids {
			path := ""
			for _, seg := range tmpl.segments {
				if seg == "" {
					seg = id
				}
				path += "/" + seg
			}
			for _, query := range []string{"", "?page=1"} {
				r := httptest.NewRequest(tmpl.method, path+query, nil)
				route, params, found, err := v.findTemplate(r)
				if err != nil || found != tmpl {
					continue
				}
				if !found.bareValid(r, params) {
					continue
				}
				require.Empty(t, query, "a request with a query is never bare")
				bareOps[route.Operation.OperationID] = true
				err = openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
					Request: r, PathParams: params, Route: route,
					Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
				})
				require.NoError(t, err, "%s %s passed as bare but is invalid", tmpl.method, path)
			}
		}
	}
	for _, op := range []string{"GetSchedule", "ListScheduleRuns", "GetScheduleRun", "GetHealthz"} {
		require.True(t, bareOps[op], "%s takes the bare path (bare: %v)", op, bareOps)
	}
	for _, op := range []string{"CreateSchedule", "DeleteSchedule", "UpdateSchedule", "PreviewCron"} {
		require.False(t, bareOps[op], "%s declares a header, a body or a required query", op)
	}
}
