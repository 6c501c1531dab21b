package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"schedsvc/schedules"
)

type workflowBundle struct {
	env       *testsuite.TestWorkflowEnvironment
	a         *Activities
	completed []CompleteInput
	executed  []ExecuteInput
}

func setupWorkflow(t *testing.T, plan RunPlan) *workflowBundle {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	b := &workflowBundle{env: s.NewTestWorkflowEnvironment(), a: &Activities{}}
	b.env.RegisterActivity(b.a)
	b.env.OnActivity(b.a.RecordStart, mock.Anything, mock.Anything).Return(plan, nil)
	b.env.OnActivity(b.a.RecordCompletion, mock.Anything, mock.Anything).Return(func(_ context.Context, in CompleteInput) error {
		b.completed = append(b.completed, in)
		return nil
	})
	return b
}

// onExecute answers successive attempts with results.
func (b *workflowBundle) onExecute(results ...AttemptResult) {
	b.env.OnActivity(b.a.Execute, mock.Anything, mock.Anything).Return(func(_ context.Context, in ExecuteInput) (AttemptResult, error) {
		b.executed = append(b.executed, in)
		return results[min(len(b.executed), len(results))-1], nil
	})
}

func (b *workflowBundle) run(t *testing.T, in schedules.RunInput) RunResult {
	t.Helper()
	b.env.ExecuteWorkflow(ScheduledTaskWorkflow, in)
	require.True(t, b.env.IsWorkflowCompleted())
	require.NoError(t, b.env.GetWorkflowError())
	var out RunResult
	require.NoError(t, b.env.GetWorkflowResult(&out))
	require.Len(t, b.completed, 1, "the run is recorded once")
	require.Equal(t, out, b.completed[0].Result, "what is recorded is what the workflow returns")
	return out
}

func runInput(retry schedules.RetryPolicy) schedules.RunInput {
	return schedules.RunInput{
		ScheduleID: "3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05", TaskQuery: "summarise", MaxBudgetPerRunUSD: 1,
		TimeoutSeconds: 600, Executor: schedules.ExecutorLLM, Retry: retry,
	}
}

var llmPlan = RunPlan{Executor: schedules.ExecutorLLM, Available: true}

func TestWorkflowCompleted(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, llmPlan)
	b.onExecute(AttemptResult{Status: schedules.RunCompleted, Result: "ok", Usage: schedules.Usage{PromptTokens: 100, CompletionTokens: 20, TotalTokens: 120,
		TotalCostUSD: 0.01, ModelUsed: "m", Provider: "p"}, MaxTokens: 500})
	out := b.run(t, runInput(schedules.RetryPolicy{MaxAttempts: 3, InitialBackoffSeconds: 1, MaxBackoffSeconds: 1}))
	require.Equal(t, schedules.RunCompleted, out.Status)
	require.Equal(t, "ok", out.Result)
	require.Empty(t, out.ErrorMessage)
	require.EqualValues(t, 120, out.TotalTokens)
	require.Len(t, out.Attempts, 1)
	require.EqualValues(t, 500, out.Attempts[0].MaxTokens)
	require.Len(t, b.executed, 1)
	task := b.executed[0].Task
	require.Equal(t, 1, task.Attempt)
	require.Equal(t, 1.0, task.BudgetUSD)
	require.Equal(t, schedules.ExecutorLLM, b.executed[0].Executor)
	require.NotEmpty(t, task.RunID)
	require.False(t, task.Deadline.IsZero())
}

func TestWorkflowRetriesThenFails(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, llmPlan)
	b.onExecute(AttemptResult{Status: schedules.RunFailed, Retryable: true, ErrorMessage: "model endpoint answered 503", Usage: schedules.Usage{TotalCostUSD: 0.25, TotalTokens: 10}})
	out := b.run(t, runInput(schedules.RetryPolicy{MaxAttempts: 3, InitialBackoffSeconds: 2, MaxBackoffSeconds: 3}))
	require.Equal(t, schedules.RunFailed, out.Status)
	require.Equal(t, "failed after 3 of 3 attempts; last: model endpoint answered 503", out.ErrorMessage)
	require.Len(t, out.Attempts, 3)
	require.InDelta(t, 0.75, out.TotalCostUSD, 1e-9, "failed attempts' cost counts")
	require.EqualValues(t, 30, out.TotalTokens)
	for i, a := range out.Attempts {
		require.Equal(t, i+1, a.Number)
		require.Equal(t, "model endpoint answered 503", a.ErrorMessage)
	}
	require.Equal(t, 2*time.Second, out.Attempts[1].StartedAt.Sub(out.Attempts[0].CompletedAt), "initial backoff")
	require.Equal(t, 3*time.Second, out.Attempts[2].StartedAt.Sub(out.Attempts[1].CompletedAt), "doubled, capped at the maximum")
	require.InDelta(t, 0.75, b.executed[1].Task.BudgetUSD, 1e-9, "each attempt gets what is left of the budget")
	require.InDelta(t, 0.5, b.executed[2].Task.BudgetUSD, 1e-9)
}

func TestWorkflowRetrySucceeds(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, llmPlan)
	b.onExecute(
		AttemptResult{Status: schedules.RunFailed, Retryable: true, ErrorMessage: "503"},
		AttemptResult{Status: schedules.RunCompleted, Result: "second time lucky", Usage: schedules.Usage{TotalTokens: 5}},
	)
	out := b.run(t, runInput(schedules.RetryPolicy{MaxAttempts: 3, InitialBackoffSeconds: 1, MaxBackoffSeconds: 1}))
	require.Equal(t, schedules.RunCompleted, out.Status)
	require.Equal(t, "second time lucky", out.Result)
	require.Empty(t, out.ErrorMessage)
	require.Len(t, out.Attempts, 2)
	require.Equal(t, b.executed[0].Task.RunID, b.executed[1].Task.RunID, "one run id for every attempt")
}

func TestWorkflowPermanentFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, llmPlan)
	b.onExecute(AttemptResult{Status: schedules.RunFailed, ErrorMessage: "budget: the prompt alone may cost up to 2 USD"})
	out := b.run(t, runInput(schedules.RetryPolicy{MaxAttempts: 5, InitialBackoffSeconds: 1, MaxBackoffSeconds: 1}))
	require.Equal(t, schedules.RunFailed, out.Status)
	require.Equal(t, "budget: the prompt alone may cost up to 2 USD", out.ErrorMessage)
	require.Len(t, out.Attempts, 1)
}

func TestWorkflowStopsRetryingWhenNoTimeIsLeft(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, llmPlan)
	b.onExecute(AttemptResult{Status: schedules.RunFailed, Retryable: true, ErrorMessage: "503"})
	in := runInput(schedules.RetryPolicy{MaxAttempts: 5, InitialBackoffSeconds: 60, MaxBackoffSeconds: 60})
	in.TimeoutSeconds = 30
	out := b.run(t, in)
	require.Equal(t, schedules.RunFailed, out.Status)
	require.Contains(t, out.ErrorMessage, "no time left within timeout_seconds for attempt 2")
	require.Len(t, out.Attempts, 1)
}

func TestWorkflowTimedOut(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, llmPlan)
	b.env.OnActivity(b.a.Execute, mock.Anything, mock.Anything).Return(AttemptResult{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_START_TO_CLOSE, nil))
	in := runInput(schedules.RetryPolicy{MaxAttempts: 3, InitialBackoffSeconds: 1, MaxBackoffSeconds: 1})
	in.TimeoutSeconds = 45
	out := b.run(t, in)
	require.Equal(t, schedules.RunTimedOut, out.Status)
	require.Equal(t, "the run did not finish within timeout_seconds (45 s)", out.ErrorMessage)
	require.Len(t, out.Attempts, 1, "a timed-out run is not retried: its time is spent")
}

func TestWorkflowLostWorkerIsRetried(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, llmPlan)
	calls := 0
	b.env.OnActivity(b.a.Execute, mock.Anything, mock.Anything).Return(func(_ context.Context, _ ExecuteInput) (AttemptResult, error) {
		if calls++; calls == 1 {
			return AttemptResult{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_HEARTBEAT, nil)
		}
		return AttemptResult{Status: schedules.RunCompleted, Result: "ok"}, nil
	})
	out := b.run(t, runInput(schedules.RetryPolicy{MaxAttempts: 2, InitialBackoffSeconds: 1, MaxBackoffSeconds: 1}))
	require.Equal(t, schedules.RunCompleted, out.Status)
	require.Contains(t, out.Attempts[0].ErrorMessage, "stopped responding")
}

func TestWorkflowCancelled(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, llmPlan)
	b.env.OnActivity(b.a.Execute, mock.Anything, mock.Anything).After(time.Minute).Return(AttemptResult{Status: schedules.RunCompleted}, nil)
	b.env.RegisterDelayedCallback(b.env.CancelWorkflow, 10*time.Second)
	b.env.ExecuteWorkflow(ScheduledTaskWorkflow, runInput(schedules.RetryPolicy{MaxAttempts: 1}))
	require.True(t, b.env.IsWorkflowCompleted())
	require.Len(t, b.completed, 1, "a cancelled run is still recorded")
	got := b.completed[0].Result
	require.Equal(t, schedules.RunCancelled, got.Status)
	require.Equal(t, "the run was cancelled", got.ErrorMessage)
}

func TestWorkflowCancelledWhileWaitingToRetry(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, llmPlan)
	b.onExecute(AttemptResult{Status: schedules.RunFailed, Retryable: true, ErrorMessage: "503"})
	b.env.RegisterDelayedCallback(b.env.CancelWorkflow, 30*time.Second)
	b.env.ExecuteWorkflow(ScheduledTaskWorkflow, runInput(schedules.RetryPolicy{MaxAttempts: 3, InitialBackoffSeconds: 120, MaxBackoffSeconds: 120}))
	require.Len(t, b.completed, 1)
	got := b.completed[0].Result
	require.Equal(t, schedules.RunCancelled, got.Status)
	require.Contains(t, got.ErrorMessage, "cancelled while waiting to retry")
	require.Len(t, got.Attempts, 1)
}

// TestWorkflowRecordRetriesRecordOnce: Temporal retries a failed record
// activity with the same input, which the recorder keys by workflow id (see
// schedules.TestRecorderCountsEachRunOnce for the database side).
func TestWorkflowRecordRetriesRecordOnce(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	a := &Activities{}
	env.RegisterActivity(a)
	var starts []StartInput
	env.OnActivity(a.RecordStart, mock.Anything, mock.Anything).Return(func(_ context.Context, in StartInput) (RunPlan, error) {
		if starts = append(starts, in); len(starts) == 1 {
			return RunPlan{}, errors.New("postgres is restarting")
		}
		return llmPlan, nil
	})
	env.OnActivity(a.Execute, mock.Anything, mock.Anything).Return(AttemptResult{Status: schedules.RunCompleted, Result: "ok", Usage: schedules.Usage{TotalCostUSD: 0.5}}, nil).Once()
	var completions []CompleteInput
	env.OnActivity(a.RecordCompletion, mock.Anything, mock.Anything).Return(func(_ context.Context, in CompleteInput) error {
		if completions = append(completions, in); len(completions) < 3 {
			return errors.New("postgres is restarting")
		}
		return nil
	})
	env.ExecuteWorkflow(ScheduledTaskWorkflow, runInput(schedules.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, starts, 2)
	require.Equal(t, starts[0], starts[1], "a retried start carries the same workflow id and data")
	require.Len(t, completions, 3)
	require.Equal(t, completions[0], completions[2], "a retried completion carries the same outcome")
	require.Len(t, completions[2].Result.Attempts, 1, "the task itself ran once")
}

func TestWorkflowUnavailableExecutor(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, RunPlan{Executor: schedules.ExecutorLLM})
	out := b.run(t, runInput(schedules.RetryPolicy{MaxAttempts: 3, InitialBackoffSeconds: 1, MaxBackoffSeconds: 1}))
	require.Equal(t, schedules.RunFailed, out.Status)
	require.Contains(t, out.ErrorMessage, `executor "llm" is not configured on this worker`)
	require.Len(t, out.Attempts, 1)
	require.Empty(t, b.executed)
}

func TestWorkflowChildWorkflowExecutor(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, RunPlan{Executor: schedules.ExecutorWorkflow, Available: true,
		Child: ChildWorkflowConfig{WorkflowType: "PlatformTask", TaskQueue: "platform"}})
	var got []ChildInput
	b.env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in ChildInput) (ChildResult, error) {
		got = append(got, in)
		if in.Attempt == 1 {
			return ChildResult{}, temporal.NewApplicationError("flaky upstream", "Upstream")
		}
		return ChildResult{Result: "child: " + in.TaskQuery, PromptTokens: 7, CompletionTokens: 3, TotalCostUSD: 0.02, ModelUsed: "m", Provider: "platform"}, nil
	}, workflow.RegisterOptions{Name: "PlatformTask"})
	in := runInput(schedules.RetryPolicy{MaxAttempts: 2, InitialBackoffSeconds: 1, MaxBackoffSeconds: 1})
	in.TaskContext = map[string]any{"channel": "#ops"}
	out := b.run(t, in)
	require.Equal(t, schedules.RunCompleted, out.Status)
	require.Equal(t, "child: summarise", out.Result)
	require.EqualValues(t, 10, out.TotalTokens)
	require.InDelta(t, 0.02, out.TotalCostUSD, 1e-9)
	require.Len(t, out.Attempts, 2)
	require.Equal(t, "flaky upstream", out.Attempts[0].ErrorMessage)
	require.Len(t, got, 2)
	require.Equal(t, "#ops", got[1].TaskContext["channel"])
	require.Equal(t, got[0].RunID, got[1].RunID)
}

func TestWorkflowChildNonRetryableFailure(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, RunPlan{Executor: schedules.ExecutorWorkflow, Available: true,
		Child: ChildWorkflowConfig{WorkflowType: "PlatformTask", TaskQueue: "platform"}})
	b.env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in ChildInput) (ChildResult, error) {
		return ChildResult{}, temporal.NewNonRetryableApplicationError("no such report", "BadInput", nil)
	}, workflow.RegisterOptions{Name: "PlatformTask"})
	out := b.run(t, runInput(schedules.RetryPolicy{MaxAttempts: 3, InitialBackoffSeconds: 1, MaxBackoffSeconds: 1}))
	require.Equal(t, schedules.RunFailed, out.Status)
	require.Equal(t, "no such report", out.ErrorMessage)
	require.Len(t, out.Attempts, 1)
}
