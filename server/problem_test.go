package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	dbgen "schedsvc/gen/db"
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
		require.Equal(t, problem.MethodNotAllowed.Type(), string(resp.problem(t).Type))
	}
	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/nothing-here", token: tok})
	require.Equal(t, problem.NotFound.Type(), string(resp.problem(t).Type))
}

// TestClientDisconnectIsNotAServerError: a client that gives up while its
// create waits in PostgreSQL is logged as a client close (499, INFO), not
// as a failed request (500, ERROR).
func TestClientDisconnectIsNotAServerError(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	b := setup(t, func(o *setupOptions) { o.log = slog.New(slog.NewJSONHandler(logs, nil)) })
	o := newOwner()

	// Hold the owner's create lock, so the create blocks until its client
	// goes away.
	tx, err := env.db.Pool.Begin(context.Background())
	require.NoError(t, err)
	defer tx.Rollback(context.Background()) //nolint:errcheck // releases the lock
	require.NoError(t, dbgen.New(tx).OwnerLock(context.Background(), dbgen.OwnerLockParams{TenantID: o.TenantID, UserID: o.UserID}))

	body, err := json.Marshal(dailyBody("abandoned"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url+"/api/v1/schedules", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tokenFor(t, o))
	const requestID = "client-gives-up"
	req.Header.Set("X-Request-Id", requestID)
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the client gave up before any answer")

	var lines []map[string]any
	require.Eventually(t, func() bool {
		lines = lines[:0]
		done := false
		for _, l := range strings.Split(logs.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) != nil || rec["request_id"] != requestID {
				continue
			}
			lines = append(lines, rec)
			done = done || rec["msg"] == "request"
		}
		return done
	}, 10*time.Second, 20*time.Millisecond, "the server logs the abandoned request")
	var access map[string]any
	for _, l := range lines {
		require.NotEqual(t, "ERROR", l["level"], "a client close is not a server error: %v", l)
		if l["msg"] == "request" {
			access = l
		}
	}
	require.Equal(t, "INFO", access["level"])
	require.EqualValues(t, 499, access["status"], "status 499 client closed request: %v", access)
}
