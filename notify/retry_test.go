package notify

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	r := DefaultRetry
	var waits []time.Duration
	for n := 1; n <= r.MaxAttempts; n++ {
		waits = append(waits, r.Backoff(n))
	}
	s := time.Second
	require.Equal(t, []time.Duration{5 * s, 10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 300 * s, 0}, waits,
		"doubling from 5 s, capped at 5 min, and no wait after the last attempt")
	require.Equal(t, 615*s, r.Total())
	require.Equal(t, MaxAttempts, r.MaxAttempts)
	require.Zero(t, r.Backoff(0))

	steep := Retry{MaxAttempts: 100, Initial: time.Second, Coefficient: 1e6, Max: time.Hour}
	require.Equal(t, time.Hour, steep.Backoff(99), "no overflow past the cap")
	flat := Retry{MaxAttempts: 3, Initial: time.Minute, Coefficient: 1, Max: time.Minute}
	require.Equal(t, []time.Duration{time.Minute, time.Minute, 0}, []time.Duration{flat.Backoff(1), flat.Backoff(2), flat.Backoff(3)})

	p := r.TemporalPolicy()
	require.Equal(t, &temporal.RetryPolicy{InitialInterval: 5 * s, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute, MaximumAttempts: 8}, p)
}

// attempts is what the delivery activity saw of each attempt.
type attempts struct {
	mu      sync.Mutex
	numbers []int32
	started []time.Time
}

// TestTemporalRetriesAsBackoffSays runs a delivery activity that always
// fails under TemporalPolicy in the SDK's test environment (whose clock
// skips the waits) and holds the attempts Temporal made, and the waits
// between them, to MaxAttempts and Backoff; a permanent failure is tried
// once.
func TestTemporalRetriesAsBackoffSays(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		result Result
		want   int
	}{
		{"retryable", Result{Error: "notification receiver answered 503", StatusCode: 503}, DefaultRetry.MaxAttempts},
		{"rejected", Result{Error: "notification receiver answered 404", StatusCode: 404, Permanent: true}, 1},
		{"refused", Result{Error: "refused to connect to 127.0.0.1", Permanent: true, Refused: true}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var suite testsuite.WorkflowTestSuite
			suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			env := suite.NewTestWorkflowEnvironment()
			var seen attempts
			// The listener runs on the environment's clock, which skips
			// the waits; the activity's own StartedTime is wall time.
			env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				seen.mu.Lock()
				defer seen.mu.Unlock()
				seen.numbers = append(seen.numbers, info.Attempt)
				seen.started = append(seen.started, env.Now())
			})
			env.RegisterActivityWithOptions(func(ctx context.Context) error {
				return c.result.ActivityError()
			}, activity.RegisterOptions{Name: "Deliver"})
			env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
				ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
					StartToCloseTimeout: 15 * time.Second,
					RetryPolicy:         DefaultRetry.TemporalPolicy(),
				})
				return workflow.ExecuteActivity(ctx, "Deliver").Get(ctx, nil)
			}, workflow.RegisterOptions{Name: "NotifyTest"})

			env.ExecuteWorkflow("NotifyTest")
			require.True(t, env.IsWorkflowCompleted())
			err := env.GetWorkflowError()
			require.ErrorContains(t, err, c.result.Error)

			require.Len(t, seen.numbers, c.want)
			for i, n := range seen.numbers {
				require.EqualValues(t, i+1, n, "Temporal numbers attempts from 1, as Deliver's attempt does")
			}
			for i := 1; i < len(seen.started); i++ {
				require.Equal(t, DefaultRetry.Backoff(i), seen.started[i].Sub(seen.started[i-1]), "wait after attempt %d", i)
			}
		})
	}
}
