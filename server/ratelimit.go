package server

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"schedsvc/config"
	"schedsvc/problem"
)

// RateLimiter limits each principal with GCRA in Redis, so every replica
// draws on the same budget.
type RateLimiter struct {
	limiter *redis_rate.Limiter
	cfg     config.RateLimit
	log     *slog.Logger
	// failures counts requests that found Redis unreachable; each is
	// logged with the running total (rate_limiter_failures_total).
	failures atomic.Int64
}

// NewRateLimiter returns a limiter over rdb. config.Load has checked cfg:
// every tier is usable and the default tier is one of them.
func NewRateLimiter(rdb *redis.Client, cfg config.RateLimit, log *slog.Logger) *RateLimiter {
	return &RateLimiter{limiter: redis_rate.NewLimiter(rdb), cfg: cfg, log: log}
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
