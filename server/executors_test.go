package server_test

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"schedsvc/gen/api"
)

// writeHistories refreshes the workflow histories the replay test in
// workflows/ replays: go test ./server/ -run TestExecutorsFire -args -write-histories
var writeHistories = flag.Bool("write-histories", false, "write the histories of the executor runs to workflows/testdata")

// TestExecutorsFire: every executor performs a real run through the real
// Temporal server and worker, fired by an every-minute schedule; the cases
// run side by side so the suite waits for one firing only.
func TestExecutorsFire(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		name string
		body map[string]any
		// file name under workflows/testdata, when -write-histories; the
		// histories of the shape before local recording keep their names
		// without the suffix, and replay beside these
		history string
		check   func(t *testing.T, r api.RunDetail, s api.Schedule)
	}{
		{"llm completed", map[string]any{
			"executor": "llm", "task_query": "llm: summarise the news " + randomHex(), "max_budget_per_run_usd": 10,
			"task_context": map[string]any{"system_prompt": "You are terse.", "channel": "#news"},
		}, "history_llm_completed_local_recording.json", func(t *testing.T, r api.RunDetail, s api.Schedule) {
			require.Equal(t, api.RunStatusCOMPLETED, r.Status, "error: %v", r.ErrorMessage)
			require.Equal(t, "answer to "+r.Query, *r.Result)
			require.EqualValues(t, llmPromptTokens, r.PromptTokens)
			require.EqualValues(t, llmCompletionTokens, r.CompletionTokens)
			require.EqualValues(t, llmPromptTokens+llmCompletionTokens, r.TotalTokens)
			wantCost := (llmPromptTokens*llmPriceIn + llmCompletionTokens*llmPriceOut) / 1e6
			require.InDelta(t, wantCost, r.TotalCostUsd, 1e-9)
			require.Equal(t, "test-model-2026-01-01", *r.ModelUsed)
			require.Equal(t, "test-llm", *r.Provider)
			require.Equal(t, "llm", string(*r.Executor))
			require.Len(t, r.Attempts, 1)
			calls := env.fakes.llmCallsFor(r.Query)
			require.Len(t, calls, 1)
			require.Equal(t, "Bearer test-key", calls[0].auth)
			require.EqualValues(t, llmMaxTokens, calls[0].maxTokens, "a generous budget leaves the configured cap")
			require.EqualValues(t, llmMaxTokens, *r.Attempts[0].MaxTokens)
			require.EqualValues(t, llmPromptTokens+llmCompletionTokens, s.TotalTokens)
			require.InDelta(t, wantCost, s.TotalCostUsd, 1e-9)
		}},
		{"llm budget caps max_tokens", map[string]any{
			"executor": "llm", "task_query": "llm: capped " + randomHex(), "max_budget_per_run_usd": 0.5,
		}, "", func(t *testing.T, r api.RunDetail, s api.Schedule) {
			require.Equal(t, api.RunStatusCOMPLETED, r.Status, "error: %v", r.ErrorMessage)
			calls := env.fakes.llmCallsFor(r.Query)
			require.Len(t, calls, 1)
			sent := calls[0].maxTokens
			require.Less(t, sent, int64(llmMaxTokens), "the budget, not the configured cap, bounds max_tokens")
			require.Positive(t, sent)
			worst := (float64(calls[0].promptBytes)*llmPriceIn + float64(sent)*llmPriceOut) / 1e6
			require.LessOrEqual(t, worst, 0.5, "the worst case fits the budget")
			require.Greater(t, worst+float64(60)*llmPriceOut/1e6, 0.5, "and max_tokens is not needlessly small")
			require.EqualValues(t, sent, *r.Attempts[0].MaxTokens)
		}},
		{"llm over budget is refused", map[string]any{
			"executor": "llm", "task_query": "llm: too expensive " + randomHex(), "max_budget_per_run_usd": 0.001,
			"retry_policy": map[string]any{"max_attempts": 3, "initial_backoff_seconds": 1},
		}, "", func(t *testing.T, r api.RunDetail, s api.Schedule) {
			require.Equal(t, api.RunStatusFAILED, r.Status)
			require.Contains(t, *r.ErrorMessage, "budget")
			require.Empty(t, env.fakes.llmCallsFor(r.Query), "no model call was made")
			require.Len(t, r.Attempts, 1, "a budget refusal is not retried")
			require.Zero(t, r.TotalTokens)
			require.Zero(t, r.TotalCostUsd)
			require.EqualValues(t, 1, s.FailedRuns)
		}},
		{"workflow executor", map[string]any{
			"executor": "workflow", "task_query": "child: reconcile " + randomHex(), "task_context": map[string]any{"channel": "#ops"},
		}, "history_child_workflow_local_recording.json", func(t *testing.T, r api.RunDetail, s api.Schedule) {
			require.Equal(t, api.RunStatusCOMPLETED, r.Status, "error: %v", r.ErrorMessage)
			require.Contains(t, *r.Result, "child did")
			require.Contains(t, *r.Result, "#ops")
			require.EqualValues(t, 500, r.TotalTokens)
			require.EqualValues(t, 300, r.PromptTokens)
			require.InDelta(t, 0.05, r.TotalCostUsd, 1e-9)
			require.Equal(t, "child-model", *r.ModelUsed)
			require.Equal(t, "platform", *r.Provider)
			require.InDelta(t, 0.05, s.TotalCostUsd, 1e-9)
		}},
		{"webhook retried with the same idempotency key", map[string]any{
			"executor": "http", "task_query": "flaky " + randomHex(),
			"retry_policy": map[string]any{"max_attempts": 3, "initial_backoff_seconds": 1, "max_backoff_seconds": 1},
		}, "history_webhook_retried_local_recording.json", func(t *testing.T, r api.RunDetail, s api.Schedule) {
			require.Equal(t, api.RunStatusCOMPLETED, r.Status, "error: %v", r.ErrorMessage)
			require.Equal(t, 2, r.AttemptCount)
			require.Len(t, r.Attempts, 2)
			require.Equal(t, api.RunStatusFAILED, r.Attempts[0].Status)
			require.Contains(t, *r.Attempts[0].ErrorMessage, "503")
			require.Equal(t, api.RunStatusCOMPLETED, r.Attempts[1].Status)
			calls := env.fakes.webhookCallsFor(r.Query)
			require.Len(t, calls, 2)
			for i, c := range calls {
				require.True(t, c.signatureOK, "the receiver verified the signature of call %d", i)
				require.Equal(t, r.WorkflowId, c.idempotencyKey, "one idempotency key per run, on every attempt")
			}
			require.Equal(t, []string{"1", "2"}, []string{calls[0].attempt, calls[1].attempt})
			require.EqualValues(t, 1, s.SuccessfulRuns)
			require.Zero(t, s.ConsecutiveFailures)
		}},
		{"webhook failing is retried then FAILED", map[string]any{
			"executor": "http", "task_query": "fail " + randomHex(),
			"retry_policy": map[string]any{"max_attempts": 3, "initial_backoff_seconds": 1, "max_backoff_seconds": 2},
		}, "", func(t *testing.T, r api.RunDetail, s api.Schedule) {
			require.Equal(t, api.RunStatusFAILED, r.Status)
			require.Contains(t, *r.ErrorMessage, "failed after 3 of 3 attempts")
			require.Len(t, r.Attempts, 3)
			for i, a := range r.Attempts {
				require.Equal(t, i+1, a.Attempt)
				require.Equal(t, api.RunStatusFAILED, a.Status)
				require.Contains(t, *a.ErrorMessage, "502 Bad Gateway: upstream model exploded")
			}
			require.GreaterOrEqual(t, r.Attempts[2].StartedAt.Sub(r.Attempts[1].StartedAt), 2*time.Second, "backoff doubles")
			require.Len(t, env.fakes.webhookCallsFor(r.Query), 3)
			require.EqualValues(t, 1, s.FailedRuns)
			require.Equal(t, 1, s.ConsecutiveFailures)
		}},
		{"llm over time is TIMED_OUT", map[string]any{
			"executor": "llm", "task_query": "slow " + randomHex(), "timeout_seconds": 2,
			"retry_policy": map[string]any{"max_attempts": 3, "initial_backoff_seconds": 1},
		}, "", func(t *testing.T, r api.RunDetail, s api.Schedule) {
			require.Equal(t, api.RunStatusTIMEDOUT, r.Status)
			require.Contains(t, *r.ErrorMessage, "timeout_seconds (2 s)")
			require.Len(t, r.Attempts, 1)
			require.Less(t, *r.DurationMs, int64(5000), "the call was abandoned at the deadline")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := newOwner()
			tok := tokenFor(t, o)
			body := map[string]any{"name": c.name, "cron_expression": "* * * * *", "timeout_seconds": 60}
			for k, v := range c.body {
				body[k] = v
			}
			id := b.createSchedule(t, tok, body)
			runs := b.waitForRuns(t, tok, id, 150*time.Second, func(rs []api.Run) bool {
				return len(rs) > 0 && rs[len(rs)-1].Status != api.RunStatusRUNNING
			})
			resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/pause", token: tok})
			require.Equal(t, http.StatusOK, resp.status)
			first := runs[len(runs)-1]
			detail := b.getRun(t, tok, id, first.Id.String())
			require.Equal(t, first.AttemptCount, len(detail.Attempts))
			s := b.getSchedule(t, tok, id)
			if len(runs) == 1 {
				c.check(t, detail, s)
			} else {
				c.check(t, detail, api.Schedule{}) // a second firing moved the totals; check the run only
			}
			if *writeHistories && c.history != "" {
				saveHistory(t, first.WorkflowId, c.history)
			}
		})
	}
}

// TestPauseAfterFailures: with pause_after_failures 3, the third failed run
// in a row pauses the schedule, and GET and the runs list say why.
func TestPauseAfterFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	tok := tokenFor(t, o)
	id := b.createSchedule(t, tok, map[string]any{
		"name": "fails", "cron_expression": "0 3 1 1 *", "task_query": "fail " + randomHex(), "executor": "http",
		"retry_policy": map[string]any{"max_attempts": 1}, "pause_after_failures": 3,
	})
	handle := env.tc.ScheduleClient().GetHandle(context.Background(), "schedule-"+id)
	for i := 1; i <= 3; i++ {
		// Manual triggers are named by the second they start in.
		time.Sleep(1100 * time.Millisecond)
		require.NoError(t, handle.Trigger(context.Background(), client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}))
		b.waitForRuns(t, tok, id, 60*time.Second, func(rs []api.Run) bool {
			return len(rs) == i && rs[0].Status != api.RunStatusRUNNING
		})
		if i < 3 {
			require.Equal(t, api.ScheduleStatusACTIVE, b.getSchedule(t, tok, id).Status, "still active after %d failures", i)
		}
	}
	s := b.getSchedule(t, tok, id)
	require.Equal(t, api.ScheduleStatusPAUSED, s.Status)
	require.Equal(t, "system", *s.PausedBy)
	require.Contains(t, *s.PauseReason, "3 consecutive runs did not complete")
	require.Contains(t, *s.PauseReason, "upstream model exploded")
	require.Equal(t, 3, s.ConsecutiveFailures)
	require.EqualValues(t, 3, s.FailedRuns)
	require.Nil(t, s.NextRunAt)
	require.True(t, describeTemporal(t, id).Schedule.State.Paused, "Temporal stops firing too")

	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules/" + id + "/runs", token: tok})
	require.Equal(t, http.StatusOK, resp.status)
	var list api.RunList
	resp.decode(t, &list)
	require.Equal(t, api.ScheduleStatusPAUSED, list.ScheduleStatus)
	require.Equal(t, *s.PauseReason, *list.SchedulePauseReason)
	require.True(t, list.Runs[0].PausedSchedule, "the newest run paused it")
	require.False(t, list.Runs[1].PausedSchedule)

	// Resuming starts the count afresh.
	resp = b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/resume", token: tok})
	require.Equal(t, http.StatusOK, resp.status)
	require.Zero(t, b.getSchedule(t, tok, id).ConsecutiveFailures)

	// Run detail is scoped like everything else.
	other := tokenFor(t, newOwner())
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules/" + id + "/runs/" + list.Runs[0].Id.String(), token: other})
	require.Equal(t, http.StatusNotFound, resp.status)
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules/" + id + "/runs/9a0e7c41-2b6d-4f3e-8a15-c7d2e4b90f16", token: tok})
	require.Equal(t, http.StatusNotFound, resp.status)
	require.Contains(t, *resp.problem(t).Detail, "no run")
}

// TestOverlapPolicy: the policy reaches Temporal on create and update, and
// a firing skipped while a run is going is counted on the schedule.
func TestOverlapPolicy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	tok := tokenFor(t, o)
	id := b.createSchedule(t, tok, map[string]any{
		"name": "slow", "cron_expression": "0 3 1 1 *", "task_query": "slow " + randomHex(), "timeout_seconds": 30,
	})
	s := b.getSchedule(t, tok, id)
	require.Equal(t, api.OverlapPolicySKIP, s.OverlapPolicy)
	require.Equal(t, api.ExecutorHttp, s.Executor, "the server's default executor")
	require.Equal(t, 3, s.RetryPolicy.MaxAttempts)
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, describeTemporal(t, id).Schedule.Policy.Overlap)

	handle := env.tc.ScheduleClient().GetHandle(context.Background(), "schedule-"+id)
	require.NoError(t, handle.Trigger(context.Background(), client.ScheduleTriggerOptions{}))
	b.waitForRuns(t, tok, id, 30*time.Second, func(rs []api.Run) bool { return len(rs) == 1 })
	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, handle.Trigger(context.Background(), client.ScheduleTriggerOptions{}))
	runs := b.waitForRuns(t, tok, id, 60*time.Second, func(rs []api.Run) bool {
		return len(rs) == 1 && rs[0].Status != api.RunStatusRUNNING
	})
	require.Equal(t, api.RunStatusCOMPLETED, runs[0].Status)
	require.EqualValues(t, 1, b.getSchedule(t, tok, id).SkippedRuns, "the second trigger came while the first run went on")

	resp := b.do(t, request{method: http.MethodPut, path: "/api/v1/schedules/" + id, token: tok, body: map[string]any{"overlap_policy": "BUFFER_ONE"}})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE, describeTemporal(t, id).Schedule.Policy.Overlap)

	resp = b.do(t, request{method: http.MethodPut, path: "/api/v1/schedules/" + id, token: tok, body: map[string]any{
		"retry_policy": map[string]any{"max_attempts": 2, "initial_backoff_seconds": 30, "max_backoff_seconds": 5},
	}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status)
	require.Equal(t, "https://schedsvc.dev/problems/invalid-field", string(resp.problem(t).Type))
	resp = b.do(t, request{method: http.MethodPut, path: "/api/v1/schedules/" + id, token: tok, body: map[string]any{"executor": "echo"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status, "echo is not enabled on this server")
}

func (b *testBundle) getRun(t *testing.T, token, scheduleID, runID string) api.RunDetail {
	t.Helper()
	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules/" + scheduleID + "/runs/" + runID, token: token})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	var d api.RunDetail
	resp.decode(t, &d)
	return d
}

func saveHistory(t *testing.T, workflowID, name string) {
	t.Helper()
	ctx := context.Background()
	it := env.tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, e)
	}
	raw, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("..", "workflows", "testdata", name), raw, 0o644))
}
