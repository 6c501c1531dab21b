package server

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"schedsvc/config"
	"schedsvc/testenv"
)

func newTestLimiter(t *testing.T, limit redis_rate.Limit) *RateLimiter {
	t.Helper()
	opts, err := redis.ParseURL(testenv.RedisURL())
	require.NoError(t, err)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	cfg := config.RateLimit{Tiers: map[string]redis_rate.Limit{"big": limit}, DefaultTier: "big", Timeout: 2 * time.Second}
	return NewRateLimiter(rdb, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// Leases never let replicas together admit more than the budget, whether
// requests alternate between replicas or crowd one of them; what they can
// leave unspent is at most a lease each.
func TestRateLimitLeasesNeverExceedTheBudget(t *testing.T) {
	t.Parallel()
	// 1,000 at once, refilling one per hour: the test's own duration adds none.
	limit := redis_rate.Limit{Rate: 24, Burst: 1000, Period: 24 * time.Hour}
	lease := limit.Burst / leaseDivisor
	replicas := []*RateLimiter{newTestLimiter(t, limit), newTestLimiter(t, limit)}
	key := "test:lease:" + uuid.NewString()
	ctx := context.Background()

	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 40 {
				res, err := replicas[(g+i)%2].allow(ctx, key, limit)
				if err != nil {
					t.Error(err)
					return
				}
				allowed.Add(int64(res.Allowed))
			}
		})
	}
	wg.Wait()
	got := int(allowed.Load())
	require.LessOrEqual(t, got, limit.Burst, "1,280 requests against a budget of 1,000")
	require.GreaterOrEqual(t, got, limit.Burst-len(replicas)*lease, "at most a lease per replica left unspent")

	// Spent out, every replica refuses, and reports nothing remaining.
	for _, r := range replicas {
		res, err := r.allow(ctx, key, limit)
		require.NoError(t, err)
		require.Equal(t, 0, res.Allowed)
		require.Equal(t, 0, res.Remaining)
	}
}

// A lease is spent one request at a time and the remaining count says so.
func TestRateLimitLeaseCountsDown(t *testing.T) {
	t.Parallel()
	limit := redis_rate.Limit{Rate: 24, Burst: 1000, Period: 24 * time.Hour}
	l := newTestLimiter(t, limit)
	key := "test:lease:" + uuid.NewString()
	for i := range 25 {
		res, err := l.allow(context.Background(), key, limit)
		require.NoError(t, err)
		require.Equal(t, 1, res.Allowed)
		require.Equal(t, limit.Burst-1-i, res.Remaining, "request %d", i+1)
	}
}

// Small bursts are never leased: each request asks Redis.
func TestRateLimitSmallBurstIsExact(t *testing.T) {
	t.Parallel()
	limit := redis_rate.Limit{Rate: 5, Burst: 5, Period: time.Minute}
	replicas := []*RateLimiter{newTestLimiter(t, limit), newTestLimiter(t, limit)}
	key := "test:lease:" + uuid.NewString()
	for i := range 6 {
		res, err := replicas[i%2].allow(context.Background(), key, limit)
		require.NoError(t, err)
		if i < 5 {
			require.Equal(t, 1, res.Allowed)
			require.Equal(t, 4-i, res.Remaining)
		} else {
			require.Equal(t, 0, res.Allowed)
		}
	}
}
