package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"schedsvc/schedules"
)

// fivePerMinute is the test tier: 5 requests per minute, all of them at once.
var fivePerMinute = redis_rate.Limit{Rate: 5, Burst: 5, Period: time.Minute}

func withTiers(failClosed bool) func(*setupOptions) {
	return func(o *setupOptions) {
		o.rateLimit.Tiers = map[string]redis_rate.Limit{o.rateLimit.DefaultTier: unlimited, "test": fivePerMinute}
		o.rateLimit.FailClosed = failClosed
	}
}

func tokenWithTier(t *testing.T, o schedules.Owner, tier string) string {
	t.Helper()
	return signToken(t, jwt.MapClaims{"sub": o.UserID, "tenant_id": o.TenantID, "tier": tier, "exp": time.Now().Add(time.Hour).Unix()})
}

// TestRateLimitBurstAcrossReplicas: with the 5-per-minute tier, requests
// alternating between two independent gateways (own handler stack, own
// Redis client, one Redis) count down one budget, and the 6th is 429.
func TestRateLimitBurstAcrossReplicas(t *testing.T) {
	t.Parallel()
	replicas := []*testBundle{setup(t, withTiers(false)), setup(t, withTiers(false))}
	o := newOwner()
	tok := tokenWithTier(t, o, "test")

	for i := range 5 {
		resp := replicas[i%2].do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
		require.Equal(t, http.StatusOK, resp.status, "request %d", i+1)
		for _, prefix := range []string{"", "X-"} {
			require.Equal(t, "5", resp.header.Get(prefix+"RateLimit-Limit"))
			require.Equal(t, strconv.Itoa(4-i), resp.header.Get(prefix+"RateLimit-Remaining"), "request %d", i+1)
		}
		reset, err := strconv.Atoi(resp.header.Get("RateLimit-Reset"))
		require.NoError(t, err)
		require.InDelta(t, 12*(i+1), reset, 1, "a full burst refills 12 s per request")
		require.Equal(t, "5;w=60;burst=5", resp.header.Get("RateLimit-Policy"))
	}
	resp := replicas[1].do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
	require.Equal(t, http.StatusTooManyRequests, resp.status)
	require.Equal(t, "https://schedsvc.dev/problems/rate-limited", string(resp.problem(t).Type))
	retry, err := strconv.Atoi(resp.header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 12, retry, 1, "one request refills in 60 s / 5")
	require.Equal(t, "0", resp.header.Get("RateLimit-Remaining"))
	require.Equal(t, "0", resp.header.Get("X-RateLimit-Remaining"))

	// Refused requests do not spend budget; writes are limited alike.
	resp = replicas[0].do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: dailyBody("x")})
	require.Equal(t, http.StatusTooManyRequests, resp.status)

	// Another user of the same tenant has a budget of their own.
	other := newOwner()
	other.TenantID = o.TenantID
	resp = replicas[0].do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tokenWithTier(t, other, "test")})
	require.Equal(t, http.StatusOK, resp.status)
	require.Equal(t, "4", resp.header.Get("RateLimit-Remaining"))

	// Health endpoints are neither authenticated nor limited.
	for range 10 {
		resp := replicas[0].do(t, request{method: http.MethodGet, path: "/healthz"})
		require.Equal(t, http.StatusOK, resp.status)
		require.Empty(t, resp.header.Get("RateLimit-Limit"))
	}
}

// TestRateLimitPerAPIKey: an API key is limited by its own tier and budget.
func TestRateLimitPerAPIKey(t *testing.T) {
	t.Parallel()
	b := setup(t, withTiers(false))
	o := newOwner()
	key, _, err := b.apiKeys.Create(context.Background(), o, "test", "rate limit test")
	require.NoError(t, err)
	for i := range 5 {
		resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", apiKey: key})
		require.Equal(t, http.StatusOK, resp.status, "request %d", i+1)
		require.Equal(t, strconv.Itoa(4-i), resp.header.Get("RateLimit-Remaining"))
	}
	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", apiKey: key})
	require.Equal(t, http.StatusTooManyRequests, resp.status)
	require.NotEmpty(t, resp.header.Get("Retry-After"))

	// The same user with a JWT counts against the user, not the key.
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tokenWithTier(t, o, "test")})
	require.Equal(t, http.StatusOK, resp.status)
}

// TestRateLimitRedisDown starts a Redis of its own, stops it, and checks
// that fail-open keeps serving (and logs the failures) while fail-closed
// answers 503 — both promptly.
func TestRateLimitRedisDown(t *testing.T) {
	t.Parallel()
	if env.temporal == nil {
		t.Skip("integration test")
	}
	redisURL, redisProc, stop := startRedis(t)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	open := setup(t, withTiers(false), func(o *setupOptions) { o.redisURL = redisURL; o.log = log })
	closed := setup(t, withTiers(true), func(o *setupOptions) { o.redisURL = redisURL })
	tok := tokenFor(t, newOwner())

	for _, b := range []*testBundle{open, closed} {
		resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
		require.Equal(t, http.StatusOK, resp.status)
		require.NotEmpty(t, resp.header.Get("RateLimit-Remaining"))
	}

	// A hung Redis (stopped, not gone) costs each request the limiter's
	// deadline, not go-redis's seconds of read timeouts.
	require.NoError(t, redisProc.Signal(syscall.SIGSTOP))
	start := time.Now()
	resp := open.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
	hungOpen := time.Since(start)
	require.Equal(t, http.StatusOK, resp.status)
	start = time.Now()
	resp = closed.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
	hungClosed := time.Since(start)
	require.Equal(t, http.StatusServiceUnavailable, resp.status)
	require.NoError(t, redisProc.Signal(syscall.SIGCONT))
	t.Logf("with Redis hung: fail-open answered in %v, fail-closed in %v", hungOpen, hungClosed)
	require.Less(t, hungOpen, time.Second)
	require.Less(t, hungClosed, time.Second)

	stop()

	start = time.Now()
	resp = open.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
	openTook := time.Since(start)
	require.Equal(t, http.StatusOK, resp.status, "fail-open serves without Redis")
	require.Empty(t, resp.header.Get("RateLimit-Remaining"), "no limit state to report")
	id := open.createSchedule(t, tok, dailyBody("while redis is down"))
	require.NotEmpty(t, id)
	require.Contains(t, logs.String(), "rate limiter unavailable")
	require.Contains(t, logs.String(), "rate_limiter_failures_total=3")

	start = time.Now()
	resp = closed.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
	closedTook := time.Since(start)
	require.Equal(t, http.StatusServiceUnavailable, resp.status, "fail-closed refuses without Redis")
	require.Equal(t, "https://schedsvc.dev/problems/service-unavailable", string(resp.problem(t).Type))
	require.NotEmpty(t, resp.header.Get("Retry-After"))
	t.Logf("with Redis stopped: fail-open answered in %v, fail-closed in %v", openTook, closedTook)
	require.Less(t, openTook, 2*time.Second)
	require.Less(t, closedTook, 2*time.Second)
}

// startRedis runs redis-server on a free port without persistence and
// returns its URL, its process and a function that stops it (also run at
// cleanup).
func startRedis(t *testing.T) (string, *os.Process, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	require.NoError(t, cmd.Start(), "redis-server must be installed")
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opts, err := redis.ParseURL(url)
	require.NoError(t, err)
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	require.Eventually(t, func() bool { return rdb.Ping(context.Background()).Err() == nil }, 10*time.Second, 50*time.Millisecond)
	return url, cmd.Process, stop
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
