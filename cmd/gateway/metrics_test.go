package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"schedsvc/testenv"
)

// TestRunServesMetricsOnItsOwnAddress starts the real binary's run with
// METRICS_ADDR set: requests to the API move the request counter under
// their operationId and status code, /metrics answers on METRICS_ADDR
// without credentials, and the API's listener does not serve it.
func TestRunServesMetricsOnItsOwnAddress(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and Redis")
	}
	ctx := context.Background()
	db, err := testenv.CreateDatabase(ctx, "schedsvc_gateway_metrics_test")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Drop(context.Background())) })

	addr, metricsAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{
		"HTTP_ADDR":             addr,
		"METRICS_ADDR":          metricsAddr,
		"DATABASE_URL":          db.URL,
		"REDIS_URL":             testenv.RedisURL(),
		"TEMPORAL_ADDRESS":      "127.0.0.1:1",
		"TEMPORAL_CALL_TIMEOUT": "1s",
		"JWT_HS256_SECRET":      secret,
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{"gateway"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	}()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("gateway did not stop")
		}
	})
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond)

	before := scrape(t, metricsAddr)
	require.Contains(t, before, "schedsvc_runs_fire_lag_seconds", "a metric without labels is exposed before its first sample")
	require.Contains(t, before, "go_goroutines")

	get := func(path string) int {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, get("/healthz"))
	require.Equal(t, http.StatusUnauthorized, get("/api/v1/schedules"))
	require.Equal(t, http.StatusUnauthorized, get("/api/v1/schedules/8d9f3c1e-0000-4000-8000-000000000000/runs"))
	require.Equal(t, http.StatusNotFound, get("/metrics"), "the API's listener never serves the metrics")

	after := scrape(t, metricsAddr)
	for series, delta := range map[string]float64{
		`operation="getHealthz",code="200"`:       1,
		`operation="listSchedules",code="401"`:    1,
		`operation="listScheduleRuns",code="401"`: 1,
		`operation="unmatched",code="404"`:        1,
	} {
		require.Equal(t, delta, requests(after, series)-requests(before, series), "%s in %v", series, after["schedsvc_http_requests_total"])
	}
	var timed uint64
	for _, mt := range after["schedsvc_http_request_duration_seconds"].GetMetric() {
		timed += mt.GetHistogram().GetSampleCount()
	}
	require.Positive(t, timed)

	resp, err := http.Post("http://"+metricsAddr+"/metrics", "text/plain", strings.NewReader(""))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// scrape reads METRICS_ADDR's /metrics as Prometheus text.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "body: %s", body)
	return mfs
}

// requests is the value of schedsvc_http_requests_total for the labels
// written as `operation="x",code="y"`, zero if the series does not exist.
func requests(mfs map[string]*dto.MetricFamily, want string) float64 {
	for _, mt := range mfs["schedsvc_http_requests_total"].GetMetric() {
		var op, code string
		for _, l := range mt.GetLabel() {
			switch l.GetName() {
			case "operation":
				op = l.GetValue()
			case "code":
				code = l.GetValue()
			}
		}
		if want == `operation="`+op+`",code="`+code+`"` {
			return mt.GetCounter().GetValue()
		}
	}
	return 0
}
