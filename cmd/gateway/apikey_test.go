package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/testenv"
)

// TestAPIKeyAdminAndSharedLimit issues a key with `gateway apikey create`,
// runs two gateways against one PostgreSQL and one Redis with a 5-per-minute
// default tier, and spends the key's budget alternately on both: the 6th
// request is 429 with Retry-After. After `gateway apikey revoke` the key is
// refused.
func TestAPIKeyAdminAndSharedLimit(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and Redis")
	}
	ctx := context.Background()
	db, err := testenv.CreateDatabase(ctx, "schedsvc_gateway_apikey_test")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Drop(context.Background())) })
	env := map[string]string{
		"DATABASE_URL":          db.URL,
		"REDIS_URL":             testenv.RedisURL(),
		"TEMPORAL_ADDRESS":      "127.0.0.1:1",
		"TEMPORAL_CALL_TIMEOUT": "1s",
		"RATE_LIMIT_TIERS":      "default=5/1m:5,bulk=600/1m:100",
	}
	getenv := func(k string) string { return env[k] }

	var out bytes.Buffer
	err = run(ctx, []string{"gateway", "apikey", "create", "-user", "u1", "-tenant", "t1", "-tier", "nope"}, getenv, &out)
	require.ErrorContains(t, err, `tier "nope" is not configured`)
	require.NoError(t, run(ctx, []string{"gateway", "apikey", "create", "-user", "u1", "-tenant", "t1", "-name", "test"}, getenv, &out))
	key := regexp.MustCompile(`(?m)^sk_[a-z2-7]{8}_[a-z2-7]{52}$`).FindString(out.String())
	require.NotEmpty(t, key, "the key is printed once: %s", out.String())
	prefix := key[:11]

	var urls []string
	for range 2 {
		addr := freeAddr(t)
		replicaEnv := map[string]string{"HTTP_ADDR": addr}
		for k, v := range env {
			replicaEnv[k] = v
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- run(runCtx, []string{"gateway"}, func(k string) string { return replicaEnv[k] }, &bytes.Buffer{})
		}()
		t.Cleanup(func() {
			stop()
			require.NoError(t, <-done)
		})
		url := "http://" + addr
		require.Eventually(t, func() bool {
			resp, err := http.Get(url + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, 10*time.Second, 50*time.Millisecond)
		urls = append(urls, url)
	}

	get := func(url string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, url+"/api/v1/schedules", nil)
		require.NoError(t, err)
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	for i := range 5 {
		resp := get(urls[i%2])
		require.Equal(t, http.StatusOK, resp.StatusCode, "request %d", i+1)
		require.Equal(t, strconv.Itoa(4-i), resp.Header.Get("RateLimit-Remaining"), "request %d", i+1)
	}
	resp := get(urls[1])
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the two gateways share one budget")
	require.NotEmpty(t, resp.Header.Get("Retry-After"))

	out.Reset()
	require.NoError(t, run(ctx, []string{"gateway", "apikey", "list", "-tenant", "t1"}, getenv, &out))
	require.Contains(t, out.String(), prefix)
	require.NotContains(t, out.String(), key, "listings never show the secret")

	require.NoError(t, run(ctx, []string{"gateway", "apikey", "revoke", prefix}, getenv, &out))
	require.Equal(t, http.StatusUnauthorized, get(urls[0]).StatusCode, "a revoked key is refused")
}
