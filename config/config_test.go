package config

import (
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/stretchr/testify/require"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadRateLimitDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(getenv(nil))
	require.NoError(t, err)
	require.Equal(t, map[string]redis_rate.Limit{"default": {Rate: 60, Burst: 10, Period: time.Minute}}, c.RateLimit.Tiers)
	require.Equal(t, "default", c.RateLimit.DefaultTier)
	require.False(t, c.RateLimit.FailClosed)
	require.Equal(t, 100*time.Millisecond, c.RateLimit.Timeout)
	require.Equal(t, 24*time.Hour, c.IdempotencyTTL)
	require.Equal(t, 30*time.Second, c.JWTLeeway)
}

func TestLoadRateLimitTiers(t *testing.T) {
	t.Parallel()
	c, err := Load(getenv(map[string]string{
		"RATE_LIMIT_TIERS":     "default=60/1m:10, test=5/1m:5,bulk=1000/1h:100",
		"RATE_LIMIT_FAIL_MODE": "closed",
		"JWT_ALGORITHMS":       "RS256, ES256",
	}))
	require.NoError(t, err)
	require.Equal(t, redis_rate.Limit{Rate: 5, Burst: 5, Period: time.Minute}, c.RateLimit.Tiers["test"])
	require.Equal(t, redis_rate.Limit{Rate: 1000, Burst: 100, Period: time.Hour}, c.RateLimit.Tiers["bulk"])
	require.True(t, c.RateLimit.FailClosed)
	require.Equal(t, []string{"RS256", "ES256"}, c.JWTAlgorithms)
}

func TestLoadRejectsUnusableTiers(t *testing.T) {
	t.Parallel()
	for name, tiers := range map[string]string{
		"zero rate":       "default=0/1m:10",
		"zero burst":      "default=60/1m:0",
		"zero period":     "default=60/0s:10",
		"malformed":       "default=60 per minute",
		"no default tier": "pro=600/1m:100",
		"duplicate":       "default=60/1m:10,default=5/1m:5",
	} {
		_, err := Load(getenv(map[string]string{"RATE_LIMIT_TIERS": tiers}))
		require.Error(t, err, name)
	}
	_, err := Load(getenv(map[string]string{"RATE_LIMIT_FAIL_MODE": "sometimes"}))
	require.ErrorContains(t, err, "RATE_LIMIT_FAIL_MODE")
	for key, v := range map[string]string{"NOTIFY_SIGNING_SECRET": "short", "NOTIFY_MAX_ATTEMPTS": "0", "NOTIFY_TIMEOUT": "0s"} {
		_, err := Load(getenv(map[string]string{key: v}))
		require.ErrorContains(t, err, key)
	}
}

// TestDefaults holds the defaults users of the existing API know; Defaults
// panics if an empty environment ever stops loading.
func TestDefaults(t *testing.T) {
	t.Parallel()
	c := Defaults()
	require.Equal(t, Limits{
		MaxPerUser: 50, MinInterval: 60 * time.Minute, MaxBudgetUSD: 10, BackfillMaxFirings: 100, DefaultBudgetUSD: 1,
		DefaultTimeoutSeconds: 600, MaxTimeoutSeconds: 86400,
		Executors: []Executor{ExecutorHTTP}, DefaultExecutor: ExecutorHTTP,
		DefaultRetry:      Retry{MaxAttempts: 3, InitialBackoffSeconds: 10, MaxBackoffSeconds: 300},
		NotifyMaxAttempts: 8, NotifyTimeout: 10 * time.Second,
	}, c.Limits)
	require.Equal(t, Notify{MaxAttempts: 8, Timeout: 10 * time.Second}, c.Notify, "notifications are off without a secret")
	require.Equal(t, Temporal{Namespace: "default", TaskQueue: "scheduled-tasks", CallTimeout: 5 * time.Second, CatchupWindow: 5 * time.Minute}, c.Temporal)
	require.EqualValues(t, 64<<10, c.MaxBodyBytes)
	require.Empty(t, c.Execution.LLMPrices)

	c, err := Load(getenv(map[string]string{"SCHEDULE_MAX_BUDGET_USD": "0.5", "EXECUTORS_ENABLED": "llm,http,workflow"}))
	require.NoError(t, err)
	require.InDelta(t, 0.5, c.Limits.DefaultBudgetUSD, 0, "the default budget never exceeds the cap")
	require.Equal(t, []Executor{ExecutorLLM, ExecutorHTTP, ExecutorWorkflow}, c.Limits.Executors)
}

func TestLoadRejectsUnusableSizes(t *testing.T) {
	t.Parallel()
	for key, v := range map[string]string{"MAX_BODY_BYTES": "0", "IDEMPOTENCY_TTL": "0s", "RATE_LIMIT_TIMEOUT": "0s"} {
		_, err := Load(getenv(map[string]string{key: v}))
		require.ErrorContains(t, err, key)
	}
}

func TestParsePrices(t *testing.T) {
	t.Parallel()
	p, err := parsePrices(" gpt-4o-mini=0.15/0.60, local = 0/0 ,")
	require.NoError(t, err)
	require.Equal(t, map[string]Price{"gpt-4o-mini": {0.15, 0.60}, "local": {0, 0}}, p)
	for _, bad := range []string{"gpt", "gpt=1", "gpt=a/b", "gpt=-1/2", "=1/2"} {
		_, err := parsePrices(bad)
		require.Error(t, err, bad)
	}
	empty, err := parsePrices("")
	require.NoError(t, err)
	require.Empty(t, empty)

	c, err := Load(getenv(map[string]string{"LLM_PRICES": "gpt-4o-mini=0.15/0.60"}))
	require.NoError(t, err)
	require.Equal(t, map[string]Price{"gpt-4o-mini": {0.15, 0.60}}, c.Execution.LLMPrices)
	_, err = Load(getenv(map[string]string{"LLM_PRICES": "gpt=1"}))
	require.ErrorContains(t, err, "LLM_PRICES")
}
