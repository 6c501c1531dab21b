package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"schedsvc/metrics"
)

// forbiddenLabels would make a series per schedule, user or URL.
var forbiddenLabels = []string{"schedule_id", "run_id", "workflow_id", "user_id", "tenant_id", "url", "path", "api_key"}

// ownNames holds what promlint does not know: our metrics carry the
// service's namespace, and no label is an unbounded id.
func ownNames(mf *dto.MetricFamily) []error {
	var errs []error
	name := mf.GetName()
	if !slices.ContainsFunc([]string{"schedsvc_", "go_", "process_", "promhttp_"}, func(p string) bool { return strings.HasPrefix(name, p) }) {
		errs = append(errs, fmt.Errorf("%s lacks the schedsvc_ namespace", name))
	}
	for _, mt := range mf.GetMetric() {
		for _, l := range mt.GetLabel() {
			if slices.Contains(forbiddenLabels, l.GetName()) {
				errs = append(errs, fmt.Errorf("%s has the unbounded label %s", name, l.GetName()))
			}
		}
	}
	return errs
}

func lint(t *testing.T, g prometheus.Gatherer) []promlint.Problem {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	l := promlint.NewWithMetricFamilies(mfs)
	l.AddCustomValidations(ownNames)
	problems, err := l.Lint()
	require.NoError(t, err)
	return problems
}

// TestRegistryFollowsConventions lints every metric of the service, each
// with a series, by Prometheus's own linter plus the namespace and
// bounded-label rules.
func TestRegistryFollowsConventions(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.WithModels("gpt-4o-mini"))
	exercise(m)
	h := m.InstrumentHTTP([]metrics.Route{{Method: "GET", Path: "/healthz", Operation: "getHealthz"}},
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	m.Handler() // registers promhttp's own error counter

	mfs, err := m.Registry().Gather()
	require.NoError(t, err)
	var ours []string
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "schedsvc_") {
			ours = append(ours, mf.GetName())
		}
	}
	require.ElementsMatch(t, []string{
		"schedsvc_http_requests_total", "schedsvc_http_request_duration_seconds", "schedsvc_http_requests_in_flight",
		"schedsvc_runs_started_total", "schedsvc_runs_completed_total", "schedsvc_runs_fire_lag_seconds",
		"schedsvc_executor_attempt_duration_seconds", "schedsvc_executor_tokens_total", "schedsvc_executor_cost_usd_total",
		"schedsvc_ratelimit_decisions_total", "schedsvc_ratelimit_redis_failures_total",
		"schedsvc_temporal_call_errors_total", "schedsvc_reconciler_repairs_total", "schedsvc_reconciler_passes_total",
		"schedsvc_idempotency_replays_total",
	}, ours, "every metric is exercised, so the lint sees it; a new metric belongs in exercise and here")
	require.Empty(t, lint(t, m.Registry()))
	for _, prefix := range []string{"go_", "process_", "promhttp_"} {
		require.True(t, slices.ContainsFunc(mfs, func(mf *dto.MetricFamily) bool { return strings.HasPrefix(mf.GetName(), prefix) }),
			"the %s collector is registered", prefix)
	}
}

// TestLintCatchesBadNames holds the lint to failing: each of these would
// pass unnoticed without it.
func TestLintCatchesBadNames(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]prometheus.Collector{
		"counter without _total": prometheus.NewCounter(prometheus.CounterOpts{Name: "schedsvc_runs", Help: "h"}),
		"milliseconds":           prometheus.NewGauge(prometheus.GaugeOpts{Name: "schedsvc_lag_milliseconds", Help: "h"}),
		"camel case":             prometheus.NewGauge(prometheus.GaugeOpts{Name: "schedsvc_fireLag_seconds", Help: "h"}),
		"no namespace":           prometheus.NewGauge(prometheus.GaugeOpts{Name: "runs_in_flight", Help: "h"}),
		"schedule id label": func() prometheus.Collector {
			v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "schedsvc_x_total", Help: "h"}, []string{"schedule_id"})
			v.WithLabelValues("0b6f…").Inc()
			return v
		}(),
	} {
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		require.NotEmpty(t, lint(t, reg), name)
	}
}
