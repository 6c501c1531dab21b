package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"schedsvc/config"
	"schedsvc/schedules"
	"schedsvc/store"
	"schedsvc/testenv"
)

// TestRunServesFireLagAfterAFiring starts the real worker's run with
// METRICS_ADDR set, fires one run of a schedule through Temporal and
// scrapes /metrics: the fire-lag histogram holds the run's sample, and the
// run and its executor attempt are counted under the echo executor.
func TestRunServesFireLagAfterAFiring(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and Temporal")
	}
	ctx := context.Background()
	temporalLog, err := os.CreateTemp("", "worker-metrics-temporal-*.log")
	require.NoError(t, err)
	t.Cleanup(func() { temporalLog.Close(); os.Remove(temporalLog.Name()) })
	srv, err := testenv.StartTemporal(ctx, temporalLog)
	require.NoError(t, err, "start temporal (log: %s)", temporalLog.Name())
	t.Cleanup(func() { _ = srv.Stop() })
	db, err := testenv.CreateDatabase(ctx, "schedsvc_worker_metrics_test")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Drop(context.Background())) })

	b := make([]byte, 6)
	_, _ = rand.Read(b)
	metricsAddr := freeAddr(t)
	env := map[string]string{
		"DATABASE_URL":        db.URL,
		"TEMPORAL_ADDRESS":    srv.Address(),
		"TEMPORAL_NAMESPACE":  srv.Namespace(),
		"TEMPORAL_TASK_QUEUE": "worker-metrics-" + hex.EncodeToString(b),
		"EXECUTORS_ENABLED":   "echo",
		"EXECUTOR_DEFAULT":    "echo",
		"METRICS_ADDR":        metricsAddr,
		"RECONCILE_INTERVAL":  "1h",
	}
	getenv := func(k string) string { return env[k] }
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(runCtx, []string{"worker"}, getenv, &bytes.Buffer{}) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("worker did not stop")
		}
	})
	require.Eventually(t, func() bool { _, err := scrapeText(metricsAddr); return err == nil }, 30*time.Second, 100*time.Millisecond)
	require.Zero(t, sampleCount(t, metricsAddr, "schedsvc_runs_fire_lag_seconds", nil), "no run has started yet")
	// The probes beside /metrics: alive, and ready with PostgreSQL and Temporal up.
	code, body := probe(t, metricsAddr, "/healthz")
	require.Equal(t, http.StatusOK, code, body)
	code, body = probe(t, metricsAddr, "/readyz")
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"status":"ready","checks":{"postgres":"ok","temporal":"ok"}}`, body)

	cfg, err := config.Load(getenv)
	require.NoError(t, err)
	tc, err := client.Dial(client.Options{HostPort: srv.Address(), Namespace: srv.Namespace()})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	mgr := schedules.NewManager(store.New(db.Pool), tc, cfg.Limits, cfg.Temporal, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s, err := mgr.Create(ctx, schedules.Owner{UserID: "u-metrics", TenantID: "t-metrics"}, schedules.CreateInput{
		Name: "metrics", CronExpression: "0 0 1 1 *", Timezone: "UTC", TaskQuery: "count me",
	})
	require.NoError(t, err)
	require.NoError(t, tc.ScheduleClient().GetHandle(ctx, schedules.TemporalScheduleID(s.ID)).
		Trigger(ctx, client.ScheduleTriggerOptions{}))

	// A wait for the run to be counted, not a timing assertion.
	require.Eventually(t, func() bool {
		return sampleCount(t, metricsAddr, "schedsvc_runs_completed_total", map[string]string{"executor": "echo", "status": "COMPLETED"}) == 1
	}, 90*time.Second, 250*time.Millisecond, "the triggered run is counted as completed")
	require.EqualValues(t, 1, sampleCount(t, metricsAddr, "schedsvc_runs_fire_lag_seconds", nil), "one fire-lag sample")
	require.EqualValues(t, 1, sampleCount(t, metricsAddr, "schedsvc_runs_started_total", map[string]string{"executor": "echo"}))
	require.EqualValues(t, 1, sampleCount(t, metricsAddr, "schedsvc_executor_attempt_duration_seconds", map[string]string{"executor": "echo", "status": "COMPLETED"}))
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func scrapeText(addr string) (string, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// sampleCount is a counter's value, or a histogram's sample count, of the
// series of name whose labels include want.
func sampleCount(t *testing.T, addr, name string, want map[string]string) float64 {
	t.Helper()
	text, err := scrapeText(addr)
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err)
	fam, ok := families[name]
	if !ok {
		return 0
	}
	var total float64
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.GetHistogram() != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		case m.GetCounter() != nil:
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

func probe(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}
