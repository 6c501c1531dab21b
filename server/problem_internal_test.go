package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
	"schedsvc/problem"
	"schedsvc/schedules"
)

// logLines decodes a JSON log into its records.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &rec), l)
		out = append(out, rec)
	}
	return out
}

func accessLine(t *testing.T, lines []map[string]any) map[string]any {
	t.Helper()
	for _, l := range lines {
		if l["msg"] == "request" {
			return l
		}
	}
	require.Fail(t, "no access log line", "%v", lines)
	return nil
}

// TestClientCloseIsNotAServerError: a request whose client has gone,
// failing because it went, is logged as a client close with status 499,
// not as an error with 500; the same failure with the client still there
// stays a 500 error.
func TestClientCloseIsNotAServerError(t *testing.T) {
	t.Parallel()
	for name, cause := range map[string]error{
		"postgres": fmt.Errorf("create schedule: lock owner: %w", context.Canceled),
		"temporal": fmt.Errorf("create temporal schedule: %w: %v", schedules.ErrUnavailable, context.Canceled),
		"other":    fmt.Errorf("encode schedule: %w", fmt.Errorf("boom")),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			s := &Server{log: log}
			h := observe(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.writeError(w, r, cause) }))

			ctx, cancel := context.WithCancel(context.Background())
			cancel() // the client has gone
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/schedules", nil))
			require.Equal(t, statusClientClosedRequest, rec.Code)
			require.Empty(t, rec.Body.String(), "nobody reads the answer")
			lines := logLines(t, &logs)
			for _, l := range lines {
				require.NotEqual(t, "ERROR", l["level"], "a client close is not a server error: %v", l)
			}
			access := accessLine(t, lines)
			require.Equal(t, "INFO", access["level"])
			require.EqualValues(t, statusClientClosedRequest, access["status"])
			require.Equal(t, "client closed request", lines[0]["msg"])
			require.Equal(t, "INFO", lines[0]["level"])

			logs.Reset()
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/schedules", nil))
			lines = logLines(t, &logs)
			if name == "temporal" {
				require.Equal(t, http.StatusServiceUnavailable, rec.Code)
				require.Equal(t, "WARN", lines[0]["level"])
				return
			}
			require.Equal(t, http.StatusInternalServerError, rec.Code)
			require.Equal(t, "ERROR", lines[0]["level"])
			require.EqualValues(t, http.StatusInternalServerError, accessLine(t, lines)["status"])
		})
	}
}

// TestClientCloseOnMiddlewareServerError: a 5xx problem from middleware
// (a dependency check cancelled with the request) for a client that has
// gone is recorded as 499 too; a 4xx answer is what it was.
func TestClientCloseOnMiddlewareServerError(t *testing.T) {
	t.Parallel()
	for kind, want := range map[problem.Kind]int{
		problem.ServiceUnavailable: statusClientClosedRequest,
		problem.Internal:           statusClientClosedRequest,
		problem.InvalidCron:        http.StatusUnprocessableEntity,
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := httptest.NewRecorder()
		writeProblem(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/schedules", nil), kind, "", nil)
		require.Equal(t, want, rec.Code, kind)
	}
}

// TestUnmappedKindIsAnError: a kind the catalogue lacks is answered as
// internal and logged as an error naming the kind, never silently.
func TestUnmappedKindIsAnError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := observe(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, problem.Kind("no-such-kind"), "", nil)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/schedules", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	var p api.Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	require.Equal(t, problem.Internal.Type(), string(p.Type))

	var found bool
	for _, l := range logLines(t, &logs) {
		if l["level"] == "ERROR" && l["kind"] == "no-such-kind" {
			found = true
		}
	}
	require.True(t, found, "the unmapped kind is logged as an error: %s", logs.String())
}
