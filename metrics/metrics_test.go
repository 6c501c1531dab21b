package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"schedsvc/metrics"
)

// family gathers m and returns the family called name, failing if absent.
func family(t *testing.T, m *metrics.Metrics, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	t.Fatalf("no metric family %s", name)
	return nil
}

// labels renders a metric's labels as name=value pairs in the registry's
// (sorted) order.
func labels(mt *dto.Metric) string {
	var parts []string
	for _, l := range mt.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

func TestRunStartedObservesFireLag(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.RunStarted("llm", 1500*time.Millisecond)
	m.RunStarted("llm", metrics.NoLag)
	m.RunStarted("http", -time.Second) // clock skew: a start before its nominal time

	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP schedsvc_runs_started_total Runs recorded as started, by executor.
# TYPE schedsvc_runs_started_total counter
schedsvc_runs_started_total{executor="http"} 1
schedsvc_runs_started_total{executor="llm"} 2
`), "schedsvc_runs_started_total"))

	h := family(t, m, "schedsvc_runs_fire_lag_seconds").GetMetric()[0].GetHistogram()
	require.EqualValues(t, 2, h.GetSampleCount(), "NoLag is counted as started, not observed")
	require.InDelta(t, 1.5, h.GetSampleSum(), 1e-9, "the skewed start counts as zero lag")
	var bounds []float64
	for _, b := range h.GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
	}
	require.Equal(t, 0.01, bounds[0])
	require.Equal(t, 120.0, bounds[len(bounds)-1])
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == 1 {
			require.EqualValues(t, 1, b.GetCumulativeCount(), "only the zero lag is at most 1 s")
		}
		if b.GetUpperBound() == 2.5 {
			require.EqualValues(t, 2, b.GetCumulativeCount())
		}
	}
}

func TestRunsAndExecutors(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.WithModels("gpt-4o-mini"))
	m.RunCompleted("llm", "COMPLETED")
	m.RunCompleted("llm", "FAILED")
	m.RunCompleted("llm", "FAILED")
	m.ExecutorAttempt("http", "COMPLETED", 250*time.Millisecond)
	m.ExecutorUsage("llm", "gpt-4o-mini", 100, 20, 0.5)
	m.ExecutorUsage("llm", "gpt-4o-mini-2024-07-18", 7, 0, 0.25) // a name the price table lacks
	m.ExecutorUsage("http", "", 0, 0, 0)

	require.Equal(t, 2.0, counterValue(t, m, "schedsvc_runs_completed_total", "executor=llm,status=FAILED"))
	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP schedsvc_executor_tokens_total Tokens executors consumed, by executor, priced model (or "other"/"none") and type (prompt or completion).
# TYPE schedsvc_executor_tokens_total counter
schedsvc_executor_tokens_total{executor="llm",model="gpt-4o-mini",type="completion"} 20
schedsvc_executor_tokens_total{executor="llm",model="gpt-4o-mini",type="prompt"} 100
schedsvc_executor_tokens_total{executor="llm",model="other",type="prompt"} 7
# HELP schedsvc_executor_cost_usd_total Cost executors incurred in US dollars, by executor and priced model (or "other"/"none").
# TYPE schedsvc_executor_cost_usd_total counter
schedsvc_executor_cost_usd_total{executor="llm",model="gpt-4o-mini"} 0.5
schedsvc_executor_cost_usd_total{executor="llm",model="other"} 0.25
`), "schedsvc_executor_tokens_total", "schedsvc_executor_cost_usd_total"))

	mt := family(t, m, "schedsvc_executor_attempt_duration_seconds").GetMetric()
	require.Len(t, mt, 1)
	require.Equal(t, "executor=http,status=COMPLETED", labels(mt[0]))
	require.EqualValues(t, 1, mt[0].GetHistogram().GetSampleCount())
	require.InDelta(t, 0.25, mt[0].GetHistogram().GetSampleSum(), 1e-9)
}

// counterValue returns the series of the named counter with the given labels.
func counterValue(t *testing.T, m *metrics.Metrics, name, want string) float64 {
	t.Helper()
	for _, mt := range family(t, m, name).GetMetric() {
		if labels(mt) == want {
			return mt.GetCounter().GetValue()
		}
	}
	t.Fatalf("%s has no series {%s}", name, want)
	return 0
}

func TestLimiterTemporalReconcilerIdempotency(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.RateLimitDecision(true)
	m.RateLimitDecision(true)
	m.RateLimitDecision(false)
	m.RateLimitRedisFailed()
	m.TemporalCallFailed("create temporal schedule", serviceerror.NewUnavailable("down"))
	m.TemporalCallFailed("create temporal schedule", fmt.Errorf("wrapped: %w", context.DeadlineExceeded))
	m.TemporalCallFailed("describe temporal schedule", errors.New("something else"))
	m.TemporalCallFailed("describe temporal schedule", nil)
	m.ReconcileRepaired(metrics.RepairOrphanDeleted, 3)
	m.ReconcileRepaired(metrics.RepairSpecFixed, 0)
	m.ReconcilePass(false, nil)
	m.ReconcilePass(true, nil)
	m.ReconcilePass(false, errors.New("lost the database"))
	m.IdempotencyReplayed()

	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP schedsvc_ratelimit_decisions_total Rate-limiter answers from Redis, by decision (allowed or limited).
# TYPE schedsvc_ratelimit_decisions_total counter
schedsvc_ratelimit_decisions_total{decision="allowed"} 2
schedsvc_ratelimit_decisions_total{decision="limited"} 1
# HELP schedsvc_ratelimit_redis_failures_total Rate-limiter calls that got no answer from Redis (the fail mode then decided).
# TYPE schedsvc_ratelimit_redis_failures_total counter
schedsvc_ratelimit_redis_failures_total 1
# HELP schedsvc_temporal_call_errors_total Failed calls to Temporal, by operation and gRPC status code.
# TYPE schedsvc_temporal_call_errors_total counter
schedsvc_temporal_call_errors_total{code="DeadlineExceeded",operation="create_temporal_schedule"} 1
schedsvc_temporal_call_errors_total{code="Unavailable",operation="create_temporal_schedule"} 1
schedsvc_temporal_call_errors_total{code="Unknown",operation="describe_temporal_schedule"} 1
# HELP schedsvc_reconciler_repairs_total Schedules the reconciler repaired (or failed to), by kind of repair.
# TYPE schedsvc_reconciler_repairs_total counter
schedsvc_reconciler_repairs_total{kind="failed"} 0
schedsvc_reconciler_repairs_total{kind="next_run_fixed"} 0
schedsvc_reconciler_repairs_total{kind="orphan_deleted"} 3
schedsvc_reconciler_repairs_total{kind="pause_fixed"} 0
schedsvc_reconciler_repairs_total{kind="recreated"} 0
schedsvc_reconciler_repairs_total{kind="reservation_removed"} 0
schedsvc_reconciler_repairs_total{kind="spec_fixed"} 0
schedsvc_reconciler_repairs_total{kind="spec_refreshed"} 0
# HELP schedsvc_reconciler_passes_total Reconciler passes, by result (ok, skipped: another replica held the lock, error).
# TYPE schedsvc_reconciler_passes_total counter
schedsvc_reconciler_passes_total{result="error"} 1
schedsvc_reconciler_passes_total{result="ok"} 1
schedsvc_reconciler_passes_total{result="skipped"} 1
# HELP schedsvc_idempotency_replays_total Requests answered with the stored response of an earlier request with the same Idempotency-Key.
# TYPE schedsvc_idempotency_replays_total counter
schedsvc_idempotency_replays_total 1
`), "schedsvc_ratelimit_decisions_total", "schedsvc_ratelimit_redis_failures_total", "schedsvc_temporal_call_errors_total",
		"schedsvc_reconciler_repairs_total", "schedsvc_reconciler_passes_total", "schedsvc_idempotency_replays_total"))
}

// TestNilRecordsNothing is the contract packages rely on when they take a
// *Metrics optionally: every method of a nil one is safe.
func TestNilRecordsNothing(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	exercise(m)
	mfs, err := m.Registry().Gather()
	require.NoError(t, err)
	require.Empty(t, mfs)
}

// exercise calls every recording method once, so that every vector has a
// series to gather.
func exercise(m *metrics.Metrics) {
	m.RunStarted("llm", time.Second)
	m.RunCompleted("llm", "COMPLETED")
	m.ExecutorAttempt("llm", "COMPLETED", time.Second)
	m.ExecutorUsage("llm", "gpt-4o-mini", 1, 1, 0.01)
	m.RateLimitDecision(true)
	m.RateLimitRedisFailed()
	m.TemporalCallFailed("create temporal schedule", context.Canceled)
	m.ReconcileRepaired(metrics.RepairRecreated, 1)
	m.ReconcilePass(false, nil)
	m.IdempotencyReplayed()
}

func TestServeOffWithoutAddress(t *testing.T) {
	t.Parallel()
	stop, err := metrics.Serve("", metrics.New(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	stop()
}

func TestServeRefusesABusyAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, err = metrics.Serve(ln.Addr().String(), metrics.New(), slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "METRICS_ADDR")
}
