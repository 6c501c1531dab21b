package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"schedsvc/testenv"
)

const secret = "gateway-test-secret-0123456789abcdef"

// TestRunServesAndShutsDown starts the real binary's run on a free port
// against a fresh database and an unreachable Temporal: the gateway starts,
// reports itself alive but not ready, refuses writes with 503 without
// leaving a row, and stops cleanly when its context ends.
func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and Redis")
	}
	ctx := context.Background()
	db, err := testenv.CreateDatabase(ctx, "schedsvc_gateway_test")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Drop(context.Background())) })

	addr := freeAddr(t)
	env := map[string]string{
		"HTTP_ADDR":             addr,
		"DATABASE_URL":          db.URL,
		"REDIS_URL":             testenv.RedisURL(),
		"TEMPORAL_ADDRESS":      "127.0.0.1:1",
		"TEMPORAL_CALL_TIMEOUT": "1s",
		"JWT_HS256_SECRET":      secret,
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{"gateway"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	}()

	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond)

	resp, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "Temporal is unreachable")

	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "u1", "tenant_id": "t1", "exp": time.Now().Add(time.Minute).Unix(),
	}).SignedString([]byte(secret))
	require.NoError(t, err)
	body, _ := json.Marshal(map[string]any{"name": "n", "cron_expression": "0 9 * * *", "task_query": "q"})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/schedules", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM schedules").Scan(&n))
	require.Zero(t, n)

	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("gateway did not stop")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"short secret": {"JWT_HS256_SECRET": "short"},
		"bad limit":    {"JWT_HS256_SECRET": secret, "SCHEDULE_MAX_PER_USER": "many"},
		"bad duration": {"JWT_HS256_SECRET": secret, "TEMPORAL_CALL_TIMEOUT": "5"},
		"unknown verb": {"JWT_HS256_SECRET": secret, "_args": "frobnicate"},
		"alg none":     {"JWT_HS256_SECRET": secret, "JWT_ALGORITHMS": "none"},
		"zero rate":    {"JWT_HS256_SECRET": secret, "RATE_LIMIT_TIERS": "default=0/1m:10"},
		"fail mode":    {"JWT_HS256_SECRET": secret, "RATE_LIMIT_FAIL_MODE": "maybe"},
	} {
		args := []string{"gateway"}
		if v := env["_args"]; v != "" {
			args = append(args, v)
		}
		err := run(context.Background(), args, func(k string) string { return env[k] }, &bytes.Buffer{})
		require.Error(t, err, name)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return fmt.Sprintf("127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)
}
