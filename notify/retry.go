package notify

import (
	"math"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Retry is the delivery retry policy. Temporal performs it (the delivery
// activity's retry policy is Retry.TemporalPolicy()); Backoff states the
// same schedule in plain Go, for documentation, for the run detail's
// "next attempt" and for tests.
type Retry struct {
	MaxAttempts int           // attempts in all, the first included
	Initial     time.Duration // wait after the first failed attempt
	Coefficient float64       // each wait is the previous one times this
	Max         time.Duration // no wait is longer
}

// DefaultRetry spreads 8 attempts over about 10 minutes (waits 5 s, 10 s,
// 20 s, 40 s, 80 s, 160 s, 300 s): long enough to outlast a receiver's
// deploy or restart, short enough that a notification is still news.
var DefaultRetry = Retry{MaxAttempts: 8, Initial: 5 * time.Second, Coefficient: 2, Max: 5 * time.Minute}

// MaxAttempts is DefaultRetry's number of attempts.
const MaxAttempts = 8

// Backoff is the wait after failed attempt number attempt (1-based)
// before the next one, as Temporal computes it: Initial ×
// Coefficient^(attempt-1), capped at Max. It is zero when no attempt
// follows (attempt ≥ MaxAttempts) or attempt is below 1.
func (r Retry) Backoff(attempt int) time.Duration {
	if attempt < 1 || attempt >= r.MaxAttempts {
		return 0
	}
	d := float64(r.Initial) * math.Pow(r.Coefficient, float64(attempt-1))
	if d > float64(r.Max) || math.IsInf(d, 1) || math.IsNaN(d) {
		return r.Max
	}
	return time.Duration(d)
}

// Total is the longest time the waits add up to.
func (r Retry) Total() time.Duration {
	var sum time.Duration
	for n := 1; n < r.MaxAttempts; n++ {
		sum += r.Backoff(n)
	}
	return sum
}

// TemporalPolicy is the delivery activity's retry policy. Attempts that
// cannot succeed (a refused URL, a 4xx answer) end the retries early:
// Result.ActivityError marks them non-retryable.
func (r Retry) TemporalPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:    r.Initial,
		BackoffCoefficient: r.Coefficient,
		MaximumInterval:    r.Max,
		MaximumAttempts:    int32(r.MaxAttempts),
	}
}

// valid requires a policy Temporal accepts and Backoff describes.
func (r Retry) valid() bool {
	return r.MaxAttempts >= 1 && r.MaxAttempts <= 100 && r.Initial > 0 && r.Coefficient >= 1 && r.Max >= r.Initial
}
