package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"schedsvc/problem"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// DefaultRateTier is the tier of callers whose key or token names none.
const DefaultRateTier = "default"

// DefaultRateLimitTimeout bounds each limiter call, so a Redis outage costs
// a request at most this long instead of go-redis's seconds of retries.
const DefaultRateLimitTimeout = 100 * time.Millisecond

// DefaultRateTiers are the tiers users of the existing API know: 60
// requests per minute with bursts of 10.
func DefaultRateTiers() map[string]redis_rate.Limit {
	return map[string]redis_rate.Limit{DefaultRateTier: {Rate: 60, Burst: 10, Period: time.Minute}}
}

// RateLimitConfig configures per-caller rate limiting.
type RateLimitConfig struct {
	// Tiers by name; nil means DefaultRateTiers.
	Tiers map[string]redis_rate.Limit
	// DefaultTier applies to callers without a tier, or with one not in
	// Tiers; empty means DefaultRateTier.
	DefaultTier string
	// FailClosed answers 503 when Redis cannot be asked; the default is to
	// serve the request unlimited (fail open).
	FailClosed bool
	// Timeout bounds each Redis call; zero means DefaultRateLimitTimeout.
	Timeout time.Duration
}

// ValidateRateTiers rejects tiers redis_rate cannot compute with (a zero
// rate divides by zero inside its script).
func ValidateRateTiers(tiers map[string]redis_rate.Limit) error {
	var errs []error
	for name, l := range tiers {
		if name == "" {
			errs = append(errs, errors.New("a rate-limit tier needs a name"))
		}
		if l.Rate < 1 || l.Burst < 1 || l.Period <= 0 {
			errs = append(errs, fmt.Errorf("rate-limit tier %q: rate, burst and period must be positive (got %s)", name, l))
		}
	}
	return errors.Join(errs...)
}

// RateLimiter limits each principal with GCRA in Redis, so every replica
// draws on the same budget.
type RateLimiter struct {
	limiter *redis_rate.Limiter
	cfg     RateLimitConfig
	log     *slog.Logger
	// failures counts requests that found Redis unreachable; each is
	// logged with the running total (rate_limiter_failures_total).
	failures atomic.Int64
}

// NewRateLimiter returns a limiter over rdb, or an error for unusable tiers.
func NewRateLimiter(rdb *redis.Client, cfg RateLimitConfig, log *slog.Logger) (*RateLimiter, error) {
	if cfg.Tiers == nil {
		cfg.Tiers = DefaultRateTiers()
	}
	if cfg.DefaultTier == "" {
		cfg.DefaultTier = DefaultRateTier
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultRateLimitTimeout
	}
	if err := ValidateRateTiers(cfg.Tiers); err != nil {
		return nil, err
	}
	if _, ok := cfg.Tiers[cfg.DefaultTier]; !ok {
		return nil, fmt.Errorf("the default rate-limit tier %q is not configured", cfg.DefaultTier)
	}
	return &RateLimiter{limiter: redis_rate.NewLimiter(rdb), cfg: cfg, log: log}, nil
}

func (l *RateLimiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := principalFrom(r.Context())
		if !ok {
			writeProblem(w, r, problem.Internal, "an unexpected error occurred; quote the request id when reporting it", nil)
			return
		}
		tier := p.tier
		limit, ok := l.cfg.Tiers[tier]
		if !ok {
			if tier != "" {
				l.log.WarnContext(r.Context(), "unknown rate-limit tier; using the default", "tier", tier, "default", l.cfg.DefaultTier)
			}
			limit = l.cfg.Tiers[l.cfg.DefaultTier]
		}
		ctx, cancel := context.WithTimeout(r.Context(), l.cfg.Timeout)
		res, err := l.limiter.Allow(ctx, "schedsvc:"+p.rateKey, limit)
		cancel()
		if err != nil {
			n := l.failures.Add(1)
			l.log.WarnContext(r.Context(), "rate limiter unavailable", "error", err, "fail_closed", l.cfg.FailClosed,
				"rate_limiter_failures_total", n, "request_id", requestIDFrom(r.Context()))
			if l.cfg.FailClosed {
				writeProblem(w, r, problem.ServiceUnavailable, "the rate limiter is unreachable; nothing was changed, retry later", nil)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		for _, prefix := range []string{"", "X-"} {
			h.Set(prefix+"RateLimit-Limit", strconv.Itoa(limit.Burst))
			h.Set(prefix+"RateLimit-Remaining", strconv.Itoa(res.Remaining))
			h.Set(prefix+"RateLimit-Reset", strconv.Itoa(ceilSeconds(res.ResetAfter)))
		}
		h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d;burst=%d", limit.Rate, ceilSeconds(limit.Period), limit.Burst))
		if res.Allowed == 0 {
			retry := max(ceilSeconds(res.RetryAfter), 1)
			h.Set("Retry-After", strconv.Itoa(retry))
			writeProblem(w, r, problem.RateLimited, fmt.Sprintf("the rate limit of %s is used up; retry in %d s", limit, retry), nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}
