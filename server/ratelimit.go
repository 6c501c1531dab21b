package server

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"schedsvc/config"
	"schedsvc/metrics"
	"schedsvc/problem"
)

// RateLimiter limits each principal with GCRA in Redis, so every replica
// draws on the same budget.
//
// For a busy caller (more than hotRequests a second on this replica) of a
// tier with a large burst, a replica takes a small lease of tokens from
// Redis at once (a hundredth of the burst) and spends it locally, so most
// of that caller's requests cost no Redis round trip (measured at 11% of
// the gateway's CPU on GET /schedules/{id}, issue 9). Every request
// admitted still spent a token in Redis: replicas together never admit more
// than the tier allows. What a lease cannot spend within leaseTTL is lost,
// so a caller may be refused at most a lease per replica early. Other
// callers, small bursts and the end of a budget ask Redis for each request,
// with exact headers; a lease already granted is spent even while Redis is
// unreachable, for at most leaseTTL.
type RateLimiter struct {
	limiter *redis_rate.Limiter
	cfg     config.RateLimit
	log     *slog.Logger
	metrics *metrics.Metrics // decisions and Redis failures; nil counts nothing
	// failures counts requests that found Redis unreachable; each is
	// logged with the running total (rate_limiter_failures_total).
	failures atomic.Int64
	// policies is each tier's RateLimit-Policy header value.
	policies map[redis_rate.Limit]string

	leasesMu sync.Mutex
	leases   map[string]*lease
}

const (
	// leaseDivisor: a lease is this fraction of the tier's burst; a tier
	// whose burst gives fewer than two tokens is never leased.
	leaseDivisor = 100
	// leaseTTL bounds how long a replica may hold tokens it has not spent.
	leaseTTL = time.Second
	// hotRequests is how many requests a second a caller makes on this
	// replica before its tokens are leased.
	hotRequests = 20
	// maxLeases bounds the callers with a lease; past it the leases start
	// again empty (what they held is lost, never given twice).
	maxLeases = 10000
)

// lease is the tokens one replica holds for one rate key.
type lease struct {
	mu      sync.Mutex
	left    int // taken from Redis, not yet spent
	expires time.Time
	// remaining and resetAt are Redis's answer when the lease was taken.
	remaining int
	resetAt   time.Time
	// exactUntil: a lease was refused (fewer tokens left than a lease),
	// so until then each request asks Redis for itself.
	exactUntil time.Time
	// refilling is closed when the request taking a new lease has its
	// answer; nil when none is in flight.
	refilling chan struct{}
	// seen counts the key's requests since windowStart (a leaseTTL window).
	seen        int
	windowStart time.Time
}

// NewRateLimiter returns a limiter over rdb. config.Load has checked cfg:
// every tier is usable and the default tier is one of them.
func NewRateLimiter(rdb *redis.Client, cfg config.RateLimit, log *slog.Logger) *RateLimiter {
	policies := make(map[redis_rate.Limit]string, len(cfg.Tiers))
	for _, limit := range cfg.Tiers {
		policies[limit] = fmt.Sprintf("%d;w=%d;burst=%d", limit.Rate, ceilSeconds(limit.Period), limit.Burst)
	}
	return &RateLimiter{limiter: redis_rate.NewLimiter(rdb), cfg: cfg, log: log, policies: policies, leases: map[string]*lease{}}
}

// allow spends one of key's tokens, from this replica's lease when the
// limit is leased.
func (l *RateLimiter) allow(ctx context.Context, key string, limit redis_rate.Limit) (*redis_rate.Result, error) {
	n := limit.Burst / leaseDivisor
	if n < 2 {
		return l.redisAllow(ctx, key, limit, 1)
	}
	le := l.leaseFor(key)
	le.mu.Lock()
	if now := time.Now(); now.Sub(le.windowStart) >= leaseTTL {
		le.windowStart, le.seen = now, 0
	}
	le.seen++
	hot := le.seen > hotRequests
	le.mu.Unlock()
	for {
		le.mu.Lock()
		now := time.Now()
		switch {
		case le.left > 0 && now.Before(le.expires):
			le.left--
			res := &redis_rate.Result{Limit: limit, Allowed: 1, Remaining: le.remaining + le.left, ResetAfter: max(le.resetAt.Sub(now), 0)}
			le.mu.Unlock()
			return res, nil
		case !hot || now.Before(le.exactUntil):
			le.mu.Unlock()
			return l.redisAllow(ctx, key, limit, 1)
		case le.refilling != nil:
			wait := le.refilling
			le.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		le.refilling, le.left = done, 0
		le.mu.Unlock()

		res, err := l.redisAllow(ctx, key, limit, n)
		le.mu.Lock()
		le.refilling = nil
		close(done)
		if err != nil {
			le.mu.Unlock()
			return nil, err
		}
		if res.Allowed == 0 {
			le.exactUntil = now.Add(leaseTTL)
			le.mu.Unlock()
			return l.redisAllow(ctx, key, limit, 1)
		}
		le.left, le.expires = n-1, now.Add(leaseTTL)
		le.remaining, le.resetAt = res.Remaining, now.Add(res.ResetAfter)
		out := &redis_rate.Result{Limit: limit, Allowed: 1, Remaining: res.Remaining + le.left, ResetAfter: res.ResetAfter}
		le.mu.Unlock()
		return out, nil
	}
}

// redisAllow asks Redis for n tokens within the limiter's timeout. The
// timeout is made here, not per request: most requests are answered from a
// lease without Redis (a timer per request was 1.5% of a GET's CPU).
func (l *RateLimiter) redisAllow(ctx context.Context, key string, limit redis_rate.Limit, n int) (*redis_rate.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	return l.limiter.AllowN(ctx, key, limit, n)
}

func (l *RateLimiter) leaseFor(key string) *lease {
	l.leasesMu.Lock()
	defer l.leasesMu.Unlock()
	le, ok := l.leases[key]
	if !ok {
		if len(l.leases) >= maxLeases {
			l.leases = make(map[string]*lease)
		}
		le = &lease{}
		l.leases[key] = le
	}
	return le
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
		res, err := l.allow(r.Context(), "schedsvc:"+p.rateKey, limit)
		if err != nil {
			l.metrics.RateLimitRedisFailed()
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
		burst, remaining, reset := []string{strconv.Itoa(limit.Burst)}, []string{strconv.Itoa(res.Remaining)}, []string{strconv.Itoa(ceilSeconds(res.ResetAfter))}
		// Canonical names, set directly: the same headers as Set, without
		// canonicalising six constant names on every request.
		h["Ratelimit-Limit"], h["X-Ratelimit-Limit"] = burst, burst
		h["Ratelimit-Remaining"], h["X-Ratelimit-Remaining"] = remaining, remaining
		h["Ratelimit-Reset"], h["X-Ratelimit-Reset"] = reset, reset
		h["Ratelimit-Policy"] = []string{l.policies[limit]}
		l.metrics.RateLimitDecision(res.Allowed > 0)
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
