package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"schedsvc/cmd/internal/connect"
	"schedsvc/config"
	"schedsvc/gen/api"
	"schedsvc/schedules"
	"schedsvc/server"
	"schedsvc/store"
	"schedsvc/testenv"
	"schedsvc/workflows"
)

const traceSecret = "worker-trace-test-secret-of-at-least-32-bytes"

// TestRunsJoinTheTraceOfTheRequestThatWroteTheSchedule: the gateway and
// the worker, wired as cmd/gateway and cmd/worker wire them, on a real
// Temporal server. A run fired by Temporal's scheduler is in the trace of
// the create request, its workflow and activity spans below the API span,
// and the run span names the schedule, the run, the executor and the
// outcome. After an update rewrote the schedule's action, runs are in the
// update's trace (Temporal's update would otherwise start them without any).
func TestRunsJoinTheTraceOfTheRequestThatWroteTheSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL, Redis and Temporal")
	}
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	gatewayURL, tc := startTracedStack(t, tp)
	token := traceToken(t)

	created := call[api.ScheduleCreated](t, http.MethodPost, gatewayURL+"/api/v1/schedules", token,
		`{"name":"traced","cron_expression":"0 3 * * *","task_query":"first","executor":"echo"}`, http.StatusCreated)
	id := created.ScheduleId.String()
	createSpan := onlySpan(t, spans, "POST /api/v1/schedules")

	var last time.Time
	trigger := func() api.Run {
		t.Helper()
		// Temporal names a triggered run after the second it was triggered
		// in, and a second run of the same name would be the same run.
		for !time.Now().Truncate(time.Second).After(last) {
			time.Sleep(20 * time.Millisecond)
		}
		before := len(call[api.RunList](t, http.MethodGet, gatewayURL+"/api/v1/schedules/"+id+"/runs", token, "", http.StatusOK).Runs)
		require.NoError(t, tc.ScheduleClient().GetHandle(ctx, schedules.TemporalScheduleID(created.ScheduleId)).
			Trigger(ctx, client.ScheduleTriggerOptions{}))
		var run api.Run
		var runs []api.Run
		require.Eventually(t, func() bool {
			runs = call[api.RunList](t, http.MethodGet, gatewayURL+"/api/v1/schedules/"+id+"/runs", token, "", http.StatusOK).Runs
			if len(runs) <= before || runs[0].Status != api.RunStatusCOMPLETED {
				return false
			}
			run, last = runs[0], runs[0].TriggeredAt
			return true
		}, time.Minute, 100*time.Millisecond, "the triggered run is recorded as completed: %+v", &runs)
		return run
	}

	run := trigger()
	runSpan := runWorkflowSpan(t, spans, run.WorkflowId)
	require.Equal(t, createSpan.SpanContext().TraceID(), runSpan.SpanContext().TraceID(), "the run is in the create's trace")
	require.True(t, descendsFrom(spans.Ended(), runSpan, createSpan.SpanContext().SpanID()), "the run span is below the API span")
	attrs := attributes(runSpan)
	require.Equal(t, id, attrs[workflows.AttrScheduleID].AsString())
	require.Equal(t, run.WorkflowId, attrs[workflows.AttrWorkflowID].AsString())
	require.Equal(t, "echo", attrs[workflows.AttrExecutor].AsString())
	require.Equal(t, "COMPLETED", attrs[workflows.AttrOutcome].AsString())

	activities := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		if name, ok := strings.CutPrefix(s.Name(), "RunActivity:"); ok && attributes(s)[workflows.AttrWorkflowID].AsString() == run.WorkflowId {
			activities[name] = s
		}
	}
	for _, name := range []string{"RecordStart", "Execute", "RecordCompletion"} {
		s, ok := activities[name]
		require.True(t, ok, "activity %s has a span for the run (have %v)", name, activities)
		require.Equal(t, createSpan.SpanContext().TraceID(), s.SpanContext().TraceID(), name)
		require.True(t, descendsFrom(spans.Ended(), s, runSpan.SpanContext().SpanID()), "%s is below the run span", name)
		require.Equal(t, id, attributes(s)[workflows.AttrScheduleID].AsString(), name)
	}
	require.Equal(t, "echo", attributes(activities["Execute"])[workflows.AttrExecutor].AsString())
	require.Equal(t, "COMPLETED", attributes(activities["Execute"])[workflows.AttrOutcome].AsString())

	call[api.Schedule](t, http.MethodPut, gatewayURL+"/api/v1/schedules/"+id, token, `{"task_query":"second"}`, http.StatusOK)
	updateSpan := onlySpan(t, spans, "PUT /api/v1/schedules/{id}")
	run = trigger()
	runSpan = runWorkflowSpan(t, spans, run.WorkflowId)
	require.Equal(t, updateSpan.SpanContext().TraceID(), runSpan.SpanContext().TraceID(), "after an update, runs are in the update's trace")
	require.True(t, descendsFrom(spans.Ended(), runSpan, updateSpan.SpanContext().SpanID()))

	// Run now and backfill through the API: each run is in the trace of the
	// request that caused it.
	waitRun := func(n int, trigger api.RunTrigger) api.Run {
		t.Helper()
		var runs []api.Run
		require.Eventually(t, func() bool {
			runs = call[api.RunList](t, http.MethodGet, gatewayURL+"/api/v1/schedules/"+id+"/runs", token, "", http.StatusOK).Runs
			for _, r := range runs {
				if r.Trigger == trigger && r.Status == api.RunStatusCOMPLETED {
					return len(runs) >= n
				}
			}
			return false
		}, time.Minute, 100*time.Millisecond, "the %s run is recorded as completed: %+v", trigger, &runs)
		for _, r := range runs {
			if r.Trigger == trigger {
				return r
			}
		}
		panic("unreachable")
	}
	for !time.Now().Truncate(time.Second).After(last) {
		time.Sleep(20 * time.Millisecond)
	}
	call[api.TriggerAccepted](t, http.MethodPost, gatewayURL+"/api/v1/schedules/"+id+"/trigger", token, `{}`, http.StatusAccepted)
	triggerSpan := onlySpan(t, spans, "POST /api/v1/schedules/{id}/trigger")
	run = waitRun(3, api.RunTriggerMANUAL)
	runSpan = runWorkflowSpan(t, spans, run.WorkflowId)
	require.Equal(t, triggerSpan.SpanContext().TraceID(), runSpan.SpanContext().TraceID(), "a run now is in the trigger's trace")
	require.True(t, descendsFrom(spans.Ended(), runSpan, triggerSpan.SpanContext().SpanID()))

	yesterday := time.Now().UTC().Add(-24 * time.Hour).Truncate(24 * time.Hour)
	call[api.BackfillAccepted](t, http.MethodPost, gatewayURL+"/api/v1/schedules/"+id+"/backfill", token,
		`{"start":"`+yesterday.Format(time.RFC3339)+`","end":"`+yesterday.Add(12*time.Hour).Format(time.RFC3339)+`","overlap_policy":"ALLOW_ALL"}`, http.StatusAccepted)
	backfillSpan := onlySpan(t, spans, "POST /api/v1/schedules/{id}/backfill")
	run = waitRun(4, api.RunTriggerBACKFILL)
	runSpan = runWorkflowSpan(t, spans, run.WorkflowId)
	require.Equal(t, backfillSpan.SpanContext().TraceID(), runSpan.SpanContext().TraceID(), "a backfilled run is in the backfill's trace")
	require.True(t, descendsFrom(spans.Ended(), runSpan, backfillSpan.SpanContext().SpanID()))
}

// startTracedStack starts a Temporal server, a database, the worker and
// the gateway's handler, all tracing into tp, and returns the gateway's URL
// and the Temporal client.
func startTracedStack(t *testing.T, tp trace.TracerProvider) (string, client.Client) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	temporalLog, err := os.CreateTemp("", "worker-trace-test-temporal-*.log")
	require.NoError(t, err)
	t.Cleanup(func() { temporalLog.Close(); os.Remove(temporalLog.Name()) })
	srv, err := testenv.StartTemporal(ctx, temporalLog)
	require.NoError(t, err, "start temporal (log: %s)", temporalLog.Name())
	t.Cleanup(func() { _ = srv.Stop() })
	db, err := testenv.CreateDatabase(ctx, "schedsvc_worker_trace_test")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Drop(context.Background()) })

	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"EXECUTORS_ENABLED": "echo", "EXECUTOR_DEFAULT": "echo", "SCHEDULE_MIN_INTERVAL_MINS": "1",
			"RATE_LIMIT_TIERS": "default=100000/1m:100000", "TEMPORAL_TASK_QUEUE": "worker-trace-test-" + uuid.NewString(),
		}[k]
	})
	require.NoError(t, err)
	tc, err := connect.Temporal(srv.Address(), srv.Namespace(), log, tp)
	require.NoError(t, err)
	t.Cleanup(tc.Close)

	st := store.New(db.Pool)
	executors, err := buildExecutors(cfg)
	require.NoError(t, err)
	w := worker.New(tc, cfg.Temporal.TaskQueue, workerOptions(cfg))
	w.RegisterWorkflowWithOptions(workflows.ScheduledTaskWorkflow, workflow.RegisterOptions{Name: schedules.WorkflowName})
	w.RegisterActivity(&workflows.Activities{
		Recorder: schedules.NewRecorder(st, tc.ScheduleClient()), Executors: executors, DefaultExecutor: cfg.Execution.DefaultExecutor,
	})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	auth, err := server.NewAuthenticator(server.AuthConfig{Secret: []byte(traceSecret), Leeway: 5 * time.Second, APIKeys: server.NewAPIKeyStore(st, log)})
	require.NoError(t, err)
	ropts, err := redis.ParseURL(testenv.RedisURL())
	require.NoError(t, err)
	rdb := redis.NewClient(ropts)
	t.Cleanup(func() { _ = rdb.Close() })
	h, err := server.NewServer(server.Deps{
		Manager: schedules.NewManager(st, tc, cfg.Limits, cfg.Temporal, log),
		Auth:    auth, Store: st, Redis: rdb, Temporal: tc, Log: log, Tracer: tp,
		MaxBodyBytes: cfg.MaxBodyBytes, RateLimit: cfg.RateLimit, IdempotencyTTL: cfg.IdempotencyTTL,
	})
	require.NoError(t, err)
	gateway := httptest.NewServer(h)
	t.Cleanup(gateway.Close)
	return gateway.URL, tc
}

func traceToken(t *testing.T) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "user-" + uuid.NewString(), "tenant_id": "tenant-" + uuid.NewString(), "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(traceSecret))
	require.NoError(t, err)
	return s
}

// call sends a request to the gateway and decodes its answer, which must
// have the given status.
func call[T any](t *testing.T, method, url, token, body string, status int) T {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, "%s %s: %s", method, url, raw)
	var v T
	require.NoError(t, json.Unmarshal(raw, &v), string(raw))
	return v
}

// onlySpan is the one ended span of that name.
func onlySpan(t *testing.T, spans *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, name)
	return found[0]
}

// runWorkflowSpan waits for the workflow span of the run to end: the
// workflow returns after recording the run's completion.
func runWorkflowSpan(t *testing.T, spans *tracetest.SpanRecorder, workflowID string) sdktrace.ReadOnlySpan {
	t.Helper()
	var span sdktrace.ReadOnlySpan
	require.Eventually(t, func() bool {
		for _, s := range spans.Ended() {
			if s.Name() == "RunWorkflow:"+schedules.WorkflowName && attributes(s)[workflows.AttrWorkflowID].AsString() == workflowID {
				span = s
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "the run's workflow span ends")
	return span
}

// descendsFrom reports whether span has ancestor among its parents.
func descendsFrom(all []sdktrace.ReadOnlySpan, span sdktrace.ReadOnlySpan, ancestor trace.SpanID) bool {
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range all {
		byID[s.SpanContext().SpanID()] = s
	}
	for parent := span.Parent(); parent.IsValid(); {
		if parent.SpanID() == ancestor {
			return true
		}
		p, ok := byID[parent.SpanID()]
		if !ok {
			return false
		}
		parent = p.Parent()
	}
	return false
}

func attributes(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes() {
		out[a.Key] = a.Value
	}
	return out
}
