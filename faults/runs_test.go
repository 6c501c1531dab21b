package faults_test

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waitRun waits until the schedule's first run has ended and returns the
// runs list and the schedule.
func waitRun(t *testing.T, base string, o owner, id string, within time.Duration) (list, sched map[string]any) {
	t.Helper()
	err := eventually(within, time.Second, func() bool {
		r, err := call(base, o, http.MethodGet, "/api/v1/schedules/"+id+"/runs", "", nil)
		if err != nil || r.status != http.StatusOK {
			return false
		}
		list = r.json(t)
		runs := list["runs"].([]any)
		return len(runs) > 0 && runs[0].(map[string]any)["completed_at"] != nil
	})
	require.NoError(t, err, "no ended run within %s: %v", within, list)
	r := mustCall(t, base, o, http.MethodGet, "/api/v1/schedules/"+id, "", nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r)
	return list, r.json(t)
}

func createOneShot(t *testing.T, base string, o owner, lead time.Duration, extra map[string]any) (string, time.Time) {
	t.Helper()
	cron, at := oneShotCron(lead)
	body := map[string]any{"name": t.Name(), "cron_expression": cron, "timezone": "UTC", "task_query": "fault run"}
	for k, v := range extra {
		body[k] = v
	}
	r := mustCall(t, base, o, http.MethodPost, "/api/v1/schedules", "", body)
	require.Equal(t, http.StatusCreated, r.status, "%s", r)
	return r.json(t)["schedule_id"].(string), at
}

func sleepUntil(at time.Time) { time.Sleep(time.Until(at)) }

// TestPostgresOutage: PostgreSQL is down when the run starts (from 3 s
// before the firing to 10 s after) and again when it completes (from the
// task endpoint's call until 10 s after its answer). The run is recorded
// once when PostgreSQL returns, with exact counters, cost and tokens.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	out := row(t, 2, "PostgreSQL down while a run starts and while it completes")
	ts := startTemporal(t)
	ep := newEndpoint(t)
	st := newStack(t, ts, map[string]string{"TASK_ENDPOINT_URL": ep.srv.URL})
	gw := st.startGateway()
	st.startWorker()
	o := newOwner(t, "pg")
	id, at := createOneShot(t, gw.url, o, 25*time.Second, map[string]any{
		"retry_policy": map[string]any{"max_attempts": 1}, "timeout_seconds": 120})

	reached, release := make(chan struct{}), make(chan struct{})
	ep.hook = func(ctx context.Context, n int) {
		if n == 1 {
			close(reached)
			<-release
		}
	}
	sleepUntil(at.Add(-3 * time.Second))
	st.pg.down()
	sleepUntil(at.Add(10 * time.Second))
	require.Empty(t, ep.calls(), "the run must not execute before its start is recorded")
	st.pg.up()
	select {
	case <-reached:
	case <-time.After(90 * time.Second):
		t.Fatal("the task endpoint was not called within 90 s of PostgreSQL returning")
	}
	st.pg.down()
	close(release)
	time.Sleep(10 * time.Second)
	st.pg.up()

	list, sched := waitRun(t, gw.url, o, id, 2*time.Minute)
	runs := list["runs"].([]any)
	run := runs[0].(map[string]any)
	out.note(t, "down %s..%s around the firing and 10 s after the endpoint's answer: %d run(s) recorded, status %v, %d endpoint call(s)",
		"-3s", "+10s", len(runs), run["status"], len(ep.calls()))
	require.Len(t, runs, 1, "one run")
	require.EqualValues(t, 1, list["total"])
	require.Equal(t, "COMPLETED", run["status"], "run: %v", run)
	require.Len(t, ep.calls(), 1, "executed once")
	requireUsage(t, run, 1)
	requireUsage(t, sched, 1)
	require.EqualValues(t, 1, sched["total_runs"])
	require.EqualValues(t, 1, sched["successful_runs"])
	require.EqualValues(t, 0, sched["failed_runs"])
	out.note(t, "schedule total_runs=%v successful=%v failed=%v tokens=%v cost=%v (endpoint reported %d tokens, $%v)",
		sched["total_runs"], sched["successful_runs"], sched["failed_runs"], sched["total_tokens"], sched["total_cost_usd"],
		usagePrompt+usageCompletion, usageCost)
}

// requireUsage checks tokens and cost of n answers of the endpoint exactly.
func requireUsage(t *testing.T, v map[string]any, n int) {
	t.Helper()
	require.EqualValues(t, n*(usagePrompt+usageCompletion), v["total_tokens"], "%v", v)
	cost := v["total_cost_usd"].(float64)
	require.True(t, math.Abs(cost-float64(n)*usageCost) < 1e-9, "cost %v, want %v", cost, float64(n)*usageCost)
	if _, ok := v["prompt_tokens"]; ok {
		require.EqualValues(t, n*usagePrompt, v["prompt_tokens"])
		require.EqualValues(t, n*usageCompletion, v["completion_tokens"])
	}
}

// TestWorkerKilled: the worker is SIGKILLed while the task endpoint holds
// the run's first attempt; a new worker starts. The run ends exactly once,
// and the endpoint saw the same Idempotency-Key on every attempt.
func TestWorkerKilled(t *testing.T) {
	t.Parallel()
	out := row(t, 3, "worker killed mid-run (slow executor)")
	ts := startTemporal(t)
	ep := newEndpoint(t)
	st := newStack(t, ts, map[string]string{"TASK_ENDPOINT_URL": ep.srv.URL})
	gw := st.startGateway()
	st.startWorker()
	o := newOwner(t, "worker")
	id, _ := createOneShot(t, gw.url, o, 20*time.Second, map[string]any{
		"retry_policy":    map[string]any{"max_attempts": 3, "initial_backoff_seconds": 1, "max_backoff_seconds": 5},
		"timeout_seconds": 300})

	reached := make(chan struct{})
	ep.hook = func(ctx context.Context, n int) {
		if n == 1 {
			close(reached)
			<-ctx.Done() // a slow executor: answers only when the worker has gone
		}
	}
	select {
	case <-reached:
	case <-time.After(100 * time.Second):
		t.Fatal("the task endpoint was not called within 100 s")
	}
	st.worker.kill()
	killed := time.Now()
	st.startWorker()

	list, sched := waitRun(t, gw.url, o, id, 3*time.Minute)
	runs := list["runs"].([]any)
	run := runs[0].(map[string]any)
	calls := ep.calls()
	keys := map[string]bool{}
	for _, c := range calls {
		keys[c.key] = true
	}
	out.note(t, "run ended %s after the kill: %d run(s), status %v, attempt_count %v, error %v; endpoint saw %d attempt(s) with %d distinct Idempotency-Key(s)",
		time.Since(killed).Round(time.Second), len(runs), run["status"], run["attempt_count"], run["error_message"], len(calls), len(keys))
	require.Len(t, runs, 1, "the run ends exactly once")
	require.EqualValues(t, 1, sched["total_runs"])
	switch run["status"] {
	case "COMPLETED":
		require.EqualValues(t, 1, sched["successful_runs"])
		requireUsage(t, sched, 1)
	case "FAILED":
		require.NotEmpty(t, run["error_message"], "a failed run says why")
		require.EqualValues(t, 1, sched["failed_runs"])
	default:
		t.Fatalf("run ended %v: %v", run["status"], run)
	}
	require.GreaterOrEqual(t, len(calls), 1)
	require.Len(t, keys, 1, "one Idempotency-Key on every attempt: %v", calls)
	require.Equal(t, run["workflow_id"], calls[0].key, "the key is the run id")
	require.Equal(t, calls[0].runID, calls[0].key)
}
