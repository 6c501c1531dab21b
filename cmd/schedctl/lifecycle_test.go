package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"schedsvc/config"
	"schedsvc/gen/api"
	"schedsvc/schedules"
	"schedsvc/server"
	"schedsvc/store"
	"schedsvc/testenv"
	"schedsvc/workflows"
)

const stackSecret = "schedctl-test-secret-of-at-least-32-bytes"

// stack is the real service for the CLI: a Temporal server of its own, a fresh database, Redis,
// a worker that performs runs with the echo executor, and the gateway's handler (server.NewServer,
// as cmd/gateway assembles it) on a local port.
type stack struct {
	url      string
	temporal client.Client
	apiKeys  *server.APIKeyStore
}

func startStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	temporalLog, err := os.CreateTemp("", "schedctl-test-temporal-*.log")
	require.NoError(t, err)
	t.Cleanup(func() { temporalLog.Close(); os.Remove(temporalLog.Name()) })
	srv, err := testenv.StartTemporal(ctx, temporalLog)
	require.NoError(t, err, "start temporal (log: %s)", temporalLog.Name())
	t.Cleanup(func() { _ = srv.Stop() })

	db, err := testenv.CreateDatabase(ctx, "schedsvc_schedctl_test")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Drop(context.Background()) })

	tc, err := client.Dial(client.Options{HostPort: srv.Address(), Namespace: srv.Namespace(), Logger: quietLogger{}})
	require.NoError(t, err)
	t.Cleanup(tc.Close)

	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"EXECUTORS_ENABLED":          "echo",
			"EXECUTOR_DEFAULT":           "echo",
			"SCHEDULE_MIN_INTERVAL_MINS": "1",
			"RATE_LIMIT_TIERS":           "default=100000/1m:100000",
			"TEMPORAL_TASK_QUEUE":        "schedctl-test-" + randomHex(),
		}[k]
	})
	require.NoError(t, err)

	st := store.New(db.Pool)
	w := worker.New(tc, cfg.Temporal.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.ScheduledTaskWorkflow, workflow.RegisterOptions{Name: schedules.WorkflowName})
	w.RegisterActivity(&workflows.Activities{
		Recorder:        schedules.NewRecorder(st, tc.ScheduleClient()),
		Executors:       map[schedules.Executor]workflows.Executor{schedules.ExecutorEcho: workflows.EchoExecutor{}},
		DefaultExecutor: schedules.ExecutorEcho,
	})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	apiKeys := server.NewAPIKeyStore(st, log)
	auth, err := server.NewAuthenticator(server.AuthConfig{Secret: []byte(stackSecret), Leeway: 5 * time.Second, APIKeys: apiKeys})
	require.NoError(t, err)
	ropts, err := redis.ParseURL(testenv.RedisURL())
	require.NoError(t, err)
	rdb := redis.NewClient(ropts)
	t.Cleanup(func() { _ = rdb.Close() })
	h, err := server.NewServer(server.Deps{
		Manager: schedules.NewManager(st, tc, cfg.Limits, cfg.Temporal, log),
		Auth:    auth, Store: st, Redis: rdb, Temporal: tc, Log: log,
		MaxBodyBytes: cfg.MaxBodyBytes, RateLimit: cfg.RateLimit, IdempotencyTTL: cfg.IdempotencyTTL,
	})
	require.NoError(t, err)
	gateway := httptest.NewServer(h)
	t.Cleanup(gateway.Close)
	return &stack{url: gateway.URL, temporal: tc, apiKeys: apiKeys}
}

type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func tokenFor(t *testing.T, o schedules.Owner) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": o.UserID, "tenant_id": o.TenantID, "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(stackSecret))
	require.NoError(t, err)
	return s
}

// ok runs a command line that must succeed and returns its stdout.
func ok(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	r := schedctl(t, env, "", args...)
	require.NoError(t, r.err, "schedctl %s: %s", strings.Join(args, " "), r.stderr)
	require.Empty(t, r.stderr, args)
	return r.stdout
}

// okJSON runs a command line with -o json and decodes what it printed.
func okJSON[T any](t *testing.T, env map[string]string, args ...string) T {
	t.Helper()
	var v T
	out := ok(t, env, append(args, "-o", "json")...)
	require.NoError(t, json.Unmarshal([]byte(out), &v), out)
	return v
}

// TestLifecycleAgainstTheRealStack drives a schedule's whole life through run(...), as a user
// types it, against the real PostgreSQL, Redis and Temporal.
func TestLifecycleAgainstTheRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL, Redis and Temporal (run without -short)")
	}
	s := startStack(t)
	owner := schedules.Owner{UserID: "user-" + randomHex(), TenantID: "tenant-" + randomHex()}
	env := map[string]string{"SCHEDSVC_URL": s.url, "SCHEDSVC_TOKEN": tokenFor(t, owner)}

	// Preview checks an expression as create would, creating nothing.
	from := "2026-11-28T10:00:00Z"
	preview := okJSON[api.CronPreview](t, env, "cron", "preview", "0 9 * * MON-FRI", "--timezone", "Europe/Berlin", "--count", "3", "--from", from)
	require.Equal(t, []string{"2026-11-30T09:00:00+01:00", "2026-12-01T09:00:00+01:00", "2026-12-02T09:00:00+01:00"}, rfc3339(preview.Times))
	out := ok(t, env, "cron", "preview", "0 9 * * MON-FRI", "--timezone", "Europe/Berlin", "--count", "3", "--from", from)
	require.Contains(t, out, "Meaning:     "+preview.Description+"\n")
	require.Contains(t, out, "Next:        2026-11-30T09:00:00+01:00\n")
	r := schedctl(t, env, "", "cron", "preview", "0 9 * * 5L")
	require.Equal(t, exitAPI, r.code)
	require.Regexp(t, `^schedctl: 422 [^\n]+\[type https://schedsvc.dev/problems/invalid-cron; [^\n]*request_id [0-9a-f]+\]\n$`, r.stderr)

	// Create, once with flags and an Idempotency-Key (a retry answers the same schedule), once
	// from a body on stdin.
	createArgs := []string{"schedules", "create", "--name", "Nightly report", "--cron", "0 3 1 1 *", "--timezone", "Europe/Berlin",
		"--query", "echo the report", "--context", `{"channel":"#ops"}`, "--max-attempts", "1", "--idempotency-key", "create-" + randomHex()}
	created := okJSON[api.ScheduleCreated](t, env, createArgs...)
	again := okJSON[api.ScheduleCreated](t, env, createArgs...)
	require.Equal(t, created.ScheduleId, again.ScheduleId, "the same Idempotency-Key creates nothing new")
	out = ok(t, env, createArgs...)
	require.Contains(t, out, "ID:        "+created.ScheduleId.String()+"\n")
	require.Contains(t, out, "(replayed: ")
	id := created.ScheduleId.String()
	r = schedctl(t, env, `{"name":"Second","cron_expression":"0 4 1 1 *","task_query":"echo two"}`, "schedules", "create", "-f", "-")
	require.NoError(t, r.err, r.stderr)
	require.Regexp(t, `^ID:\s+[0-9a-f-]{36}\nNext run:\s+\S+\nMessage:\s+Schedule created\n$`, r.stdout)
	secondID := strings.Fields(r.stdout)[1]

	got := okJSON[api.Schedule](t, env, "schedules", "get", id)
	require.Equal(t, "Nightly report", got.Name)
	require.Equal(t, "0 3 1 1 *", got.CronExpression)
	require.Equal(t, "Europe/Berlin", got.Timezone)
	require.Equal(t, api.ScheduleStatusACTIVE, got.Status)
	require.Equal(t, map[string]any{"channel": "#ops"}, *got.TaskContext)
	require.Equal(t, 1, got.RetryPolicy.MaxAttempts)
	require.Equal(t, api.ExecutorEcho, got.Executor)
	out = ok(t, env, "schedules", "get", id)
	require.Contains(t, out, "Status:                ACTIVE\n")
	require.Contains(t, out, "Next run:              "+got.NextRunAt.Format(time.RFC3339)+"\n")

	// List: both, newest first; by cursor, one page at a time.
	list := okJSON[api.ScheduleList](t, env, "schedules", "list")
	require.EqualValues(t, 2, list.Total)
	require.Equal(t, []string{secondID, id}, scheduleIDs(list))
	page1 := okJSON[api.ScheduleList](t, env, "schedules", "list", "--page-size", "1")
	require.Equal(t, []string{secondID}, scheduleIDs(page1))
	require.NotNil(t, page1.NextCursor)
	page2 := okJSON[api.ScheduleList](t, env, "schedules", "list", "--page-size", "1", "--cursor", *page1.NextCursor)
	require.Equal(t, []string{id}, scheduleIDs(page2))
	require.Nil(t, page2.NextCursor)
	out = ok(t, env, "schedules", "list", "--page-size", "1")
	require.Contains(t, out, secondID+"  Second")
	require.Contains(t, out, "1 of 2 schedules (page 1, page size 1); next page: --cursor "+*page1.NextCursor+"\n")
	byPage := okJSON[api.ScheduleList](t, env, "schedules", "list", "--page-size", "1", "--page", "2")
	require.Equal(t, []string{id}, scheduleIDs(byPage))

	// An API key acts for the user it was issued to.
	key, _, err := s.apiKeys.Create(context.Background(), owner, "default", "schedctl test")
	require.NoError(t, err)
	keyEnv := map[string]string{"SCHEDSVC_URL": s.url, "SCHEDSVC_API_KEY": key}
	require.Equal(t, []string{secondID, id}, scheduleIDs(okJSON[api.ScheduleList](t, keyEnv, "schedules", "list")))

	// Update changes only the fields given.
	updated := okJSON[api.Schedule](t, env, "schedules", "update", id, "--name", "Nightly report (04:00)", "--cron", "0 4 1 1 *", "--clear-context")
	require.Equal(t, "Nightly report (04:00)", updated.Name)
	require.Equal(t, "0 4 1 1 *", updated.CronExpression)
	require.Nil(t, updated.TaskContext)
	require.Equal(t, "Europe/Berlin", updated.Timezone, "kept")
	r = schedctl(t, env, "", "schedules", "update", id, "--timezone", "Mars/Olympus")
	require.Equal(t, exitAPI, r.code)
	require.Contains(t, r.stderr, "[type https://schedsvc.dev/problems/unknown-timezone; ")

	// Pause and resume, with reasons.
	out = ok(t, env, "schedules", "pause", id, "--reason", "quarter-end freeze", "--idempotency-key", "pause-"+randomHex())
	require.Contains(t, out, "Status:                PAUSED\n")
	require.Regexp(t, `Paused:\s+\S+ by `+owner.UserID+`: quarter-end freeze\n`, out)
	require.Contains(t, out, "Next run:              -\n")
	require.Equal(t, api.ScheduleStatusPAUSED, okJSON[api.Schedule](t, env, "schedules", "get", id).Status)
	resumed := okJSON[api.Schedule](t, env, "schedules", "resume", id, "--reason", "freeze lifted")
	require.Equal(t, api.ScheduleStatusACTIVE, resumed.Status)
	require.Equal(t, "freeze lifted", *resumed.ResumeReason)
	require.NotNil(t, resumed.NextRunAt)

	// A run now, then read back.
	require.Empty(t, okJSON[api.RunList](t, env, "runs", "list", id).Runs)
	triggered := okJSON[api.TriggerAccepted](t, env, "schedules", "trigger", id, "--overlap-policy", "ALLOW_ALL", "--idempotency-key", "trigger-"+randomHex())
	require.Equal(t, created.ScheduleId, triggered.ScheduleId)
	var runs api.RunList
	require.Eventually(t, func() bool {
		r := schedctl(t, env, "", "runs", "list", id, "-o", "json")
		runs = api.RunList{}
		return r.err == nil && json.Unmarshal([]byte(r.stdout), &runs) == nil &&
			len(runs.Runs) == 1 && runs.Runs[0].Status != api.RunStatusRUNNING
	}, 90*time.Second, 500*time.Millisecond, "the triggered run is recorded and finishes")
	require.Equal(t, api.RunStatusCOMPLETED, runs.Runs[0].Status)
	require.Equal(t, api.RunTriggerMANUAL, runs.Runs[0].Trigger)
	require.True(t, runs.Runs[0].TriggeredAt.Equal(triggered.TriggeredAt))
	runID := runs.Runs[0].Id.String()
	out = ok(t, env, "runs", "list", id)
	require.Regexp(t, `\n`+runID+`\s+COMPLETED\s`, out)
	require.Contains(t, out, "1 of 1 runs (page 1, page size 20)\n")
	detail := okJSON[api.RunDetail](t, env, "runs", "get", id, runID)
	require.Len(t, detail.Attempts, 1)
	require.Equal(t, "echo the report", detail.Query)
	out = ok(t, env, "runs", "get", id, runID)
	require.Contains(t, out, "Status:               COMPLETED\n")
	require.Contains(t, out, "Result:               "+*detail.Result+"\n")

	// Backfill the second schedule's two past New Year firings; a range without --end is not sent.
	r = schedctl(t, env, "", "schedules", "backfill", secondID, "--start", "2025-01-01T00:00:00Z")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--end is required")
	out = ok(t, env, "schedules", "backfill", secondID, "--start", "2025-01-01T00:00:00Z", "--end", "2026-01-02T00:00:00Z", "--overlap-policy", "ALLOW_ALL")
	require.Contains(t, out, "Runs:      2\n")
	require.Contains(t, out, "Run for:   2025-01-01T04:00:00Z\n")
	require.Contains(t, out, "Run for:   2026-01-01T04:00:00Z\n")
	require.Eventually(t, func() bool {
		r := schedctl(t, env, "", "runs", "list", secondID, "-o", "json")
		runs = api.RunList{}
		return r.err == nil && json.Unmarshal([]byte(r.stdout), &runs) == nil && len(runs.Runs) == 2 &&
			runs.Runs[0].Status != api.RunStatusRUNNING && runs.Runs[1].Status != api.RunStatusRUNNING
	}, 90*time.Second, 500*time.Millisecond, "the backfilled runs are recorded and finish")
	for _, run := range runs.Runs {
		require.Equal(t, api.RunTriggerBACKFILL, run.Trigger)
	}
	r = schedctl(t, env, "", "schedules", "backfill", secondID, "--start", "2025-01-01T00:00:00Z", "--end", "2099-01-01T00:00:00Z")
	require.Equal(t, exitAPI, r.code)
	require.Contains(t, r.stderr, "[type https://schedsvc.dev/problems/invalid-range; ")

	// Delete; afterwards the schedule is a 404 on the command line too: a non-zero exit and one
	// line that says what the problem is.
	require.Equal(t, "deleted "+id+"\n", ok(t, env, "schedules", "delete", id, "--idempotency-key", "delete-"+randomHex()))
	r = schedctl(t, env, "", "schedules", "get", id)
	require.Equal(t, exitAPI, r.code)
	require.Empty(t, r.stdout)
	require.Regexp(t, `^schedctl: 404 Not found: [^\n]+ \[type https://schedsvc.dev/problems/not-found; request_id [0-9a-f]+\]\n$`, r.stderr)
	r = schedctl(t, env, "", "runs", "list", id, "-o", "json")
	require.Equal(t, exitAPI, r.code)
	require.Contains(t, r.stderr, "problems/not-found")
	require.Equal(t, []string{secondID}, scheduleIDs(okJSON[api.ScheduleList](t, env, "schedules", "list")))

	// Credentials the service refuses are an API error too.
	r = schedctl(t, map[string]string{"SCHEDSVC_URL": s.url, "SCHEDSVC_TOKEN": "not-a-jwt"}, "", "schedules", "list")
	require.Equal(t, exitAPI, r.code)
	require.Regexp(t, `^schedctl: 401 [^\n]+\[type https://schedsvc.dev/problems/unauthorized; [^\n]+\n$`, r.stderr)
}

func rfc3339(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format(time.RFC3339)
	}
	return out
}

func scheduleIDs(l api.ScheduleList) []string {
	out := make([]string, len(l.Schedules))
	for i, s := range l.Schedules {
		out[i] = s.Id.String()
	}
	return out
}
