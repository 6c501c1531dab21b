package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
	"schedsvc/problem"
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
	require.Equal(t, problem.Internal.Type(), p.Type)

	var found bool
	for _, l := range logLines(t, &logs) {
		if l["level"] == "ERROR" && l["kind"] == "no-such-kind" {
			found = true
		}
	}
	require.True(t, found, "the unmapped kind is logged as an error: %s", logs.String())
}
