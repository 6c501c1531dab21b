// Package workflows holds ScheduledTaskWorkflow, its activities and the
// executors that perform a run.
package workflows

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"schedsvc/schedules"
)

// scheduledStartTime is the search attribute Temporal sets on workflows a
// schedule starts: the nominal time of the firing.
var scheduledStartTime = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// recordOptions retry the bookkeeping activities until PostgreSQL answers;
// they are idempotent, so retries never double-count.
var recordOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 30 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
	},
}

// recordLocalOptions are recordOptions for the bookkeeping activities run as
// local activities: in the workflow task that needs them, on the worker that
// holds the workflow, without a round trip through Temporal's task queues.
// They are idempotent per workflow id like the activities they replace, so
// the at-least-once retries of a local activity never double-count either.
var recordLocalOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    recordOptions.StartToCloseTimeout,
	ScheduleToCloseTimeout: recordOptions.ScheduleToCloseTimeout,
	RetryPolicy:            recordOptions.RetryPolicy,
}

// localRecordingChange is the workflow.GetVersion change id under which the
// bookkeeping moved from activities to local activities. Runs that began on
// earlier code (no version marker) keep recording through activities.
const (
	localRecordingChange  = "local-recording"
	localRecordingVersion = 1
)

// executeSlack lets the activity report a timeout itself before Temporal's
// own start-to-close timer fires.
const executeSlack = 10 * time.Second

// executeHeartbeatTimeout is how long an attempt may go without a
// heartbeat before Temporal considers its worker lost.
const executeHeartbeatTimeout = 30 * time.Second

// RunResult is how a run ended, as the workflow records and returns it.
type RunResult struct {
	Status       schedules.RunStatus
	Result       string
	ErrorMessage string
	schedules.Usage
	Attempts []schedules.Attempt
}

// ChildInput is what the `workflow` executor passes to its child workflow.
type ChildInput struct {
	ScheduleID  string         `json:"schedule_id"`
	RunID       string         `json:"run_id"`
	Attempt     int            `json:"attempt"`
	TaskQuery   string         `json:"task_query"`
	TaskContext map[string]any `json:"task_context,omitempty"`
	BudgetUSD   float64        `json:"budget_remaining_usd"`
	Deadline    time.Time      `json:"deadline"`
}

// ChildResult is a result and its usage as the platform reports them: what
// the child workflow returns, and the JSON a task endpoint answers with.
type ChildResult struct {
	Result           string  `json:"result"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	TotalTokens      int64   `json:"total_tokens"`
	TotalCostUSD     float64 `json:"total_cost_usd"`
	ModelUsed        string  `json:"model_used"`
	Provider         string  `json:"provider"`
}

func (c ChildResult) usage() schedules.Usage {
	return schedules.Usage{
		PromptTokens: c.PromptTokens, CompletionTokens: c.CompletionTokens, TotalTokens: c.TotalTokens,
		TotalCostUSD: c.TotalCostUSD, ModelUsed: c.ModelUsed, Provider: c.Provider,
	}
}

// ScheduledTaskWorkflow performs one firing of a schedule: it records the
// run's start, makes attempts through the run's executor under the
// schedule's retry policy, timeout and budget, and records the outcome with
// every attempt.
func ScheduledTaskWorkflow(ctx workflow.Context, in schedules.RunInput) (RunResult, error) {
	var a *Activities
	info := workflow.GetInfo(ctx)
	deadline := workflow.Now(ctx).Add(time.Duration(in.TimeoutSeconds) * time.Second)
	triggeredAt, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartTime)
	if !ok {
		triggeredAt = info.WorkflowStartTime
	}

	record := recordThroughActivities
	if workflow.GetVersion(ctx, localRecordingChange, workflow.DefaultVersion, localRecordingVersion) >= localRecordingVersion {
		record = recordLocally
	}
	var plan RunPlan
	err := record(ctx, a.RecordStart, StartInput{
		ScheduleID:    in.ScheduleID,
		WorkflowID:    info.WorkflowExecution.ID,
		TemporalRunID: info.WorkflowExecution.RunID,
		Query:         in.TaskQuery,
		Executor:      in.Executor,
		TriggeredAt:   triggeredAt,
	}).Get(ctx, &plan)
	if err != nil {
		return RunResult{}, fmt.Errorf("record run start: %w", err)
	}

	result := performRun(ctx, in, plan, deadline)

	// A cancelled workflow still records how its run ended.
	recordCtx := ctx
	if errors.Is(ctx.Err(), workflow.ErrCanceled) {
		var cancel workflow.CancelFunc
		recordCtx, cancel = workflow.NewDisconnectedContext(ctx)
		defer cancel()
	}
	err = record(recordCtx, a.RecordCompletion, CompleteInput{
		ScheduleID: in.ScheduleID,
		WorkflowID: info.WorkflowExecution.ID,
		Executor:   plan.Executor,
		Result:     result,
	}).Get(recordCtx, nil)
	if err != nil {
		return result, fmt.Errorf("record run completion: %w", err)
	}
	if workflow.GetVersion(recordCtx, notifyChange, workflow.DefaultVersion, notifyVersion) >= notifyVersion {
		sendNotifications(recordCtx, record, NotifyInput{ScheduleID: in.ScheduleID, WorkflowID: info.WorkflowExecution.ID})
	}
	return result, nil
}

// recordThroughActivities runs a bookkeeping activity as an activity task:
// the shape of runs that began before localRecordingChange.
func recordThroughActivities(ctx workflow.Context, activity, input any) workflow.Future {
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, recordOptions), activity, input)
}

// recordLocally runs a bookkeeping activity as a local activity.
func recordLocally(ctx workflow.Context, activity, input any) workflow.Future {
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, recordLocalOptions), activity, input)
}

// performRun makes attempts until one completes, one fails in a way another
// cannot cure, the policy's attempts are spent, or no time or budget is left
// for another.
func performRun(ctx workflow.Context, in schedules.RunInput, plan RunPlan, deadline time.Time) RunResult {
	policy := in.Retry.Normalized()
	var res RunResult
	for n := 1; ; n++ {
		left := deadline.Sub(workflow.Now(ctx))
		if left <= 0 {
			res.Status, res.ErrorMessage = schedules.RunTimedOut, timeoutMessage(in.TimeoutSeconds, nil)
			return res
		}
		task := Task{
			ScheduleID:         in.ScheduleID,
			RunID:              workflow.GetInfo(ctx).WorkflowExecution.ID,
			Attempt:            n,
			TaskQuery:          in.TaskQuery,
			TaskContext:        in.TaskContext,
			MaxBudgetPerRunUSD: in.MaxBudgetPerRunUSD,
			BudgetUSD:          max(in.MaxBudgetPerRunUSD-res.TotalCostUSD, 0),
			Deadline:           deadline,
		}
		began := workflow.Now(ctx)
		ar := attempt(ctx, plan, task, left, in.TimeoutSeconds)
		res.add(n, ar, began, workflow.Now(ctx))
		if ar.Status != schedules.RunFailed || !ar.Retryable {
			break
		}
		if n >= policy.MaxAttempts {
			break
		}
		wait := policy.Backoff(n)
		if !workflow.Now(ctx).Add(wait).Before(deadline) {
			res.ErrorMessage += fmt.Sprintf(" (no time left within timeout_seconds for attempt %d)", n+1)
			break
		}
		if res.TotalCostUSD >= in.MaxBudgetPerRunUSD && in.MaxBudgetPerRunUSD > 0 {
			res.ErrorMessage += fmt.Sprintf(" (the attempts so far spent the run's budget of %.6f USD)", in.MaxBudgetPerRunUSD)
			break
		}
		if err := workflow.Sleep(ctx, wait); err != nil {
			res.Status, res.ErrorMessage = schedules.RunCancelled, "the run was cancelled while waiting to retry; last attempt: "+res.ErrorMessage
			return res
		}
	}
	if len(res.Attempts) > 1 && res.Status != schedules.RunCompleted {
		res.ErrorMessage = fmt.Sprintf("%s after %d of %d attempts; last: %s", verb(res.Status), len(res.Attempts), policy.MaxAttempts, res.ErrorMessage)
	}
	return res
}

func verb(s schedules.RunStatus) string {
	switch s {
	case schedules.RunTimedOut:
		return "timed out"
	case schedules.RunCancelled:
		return "cancelled"
	}
	return "failed"
}

// add folds one attempt into the run: usage adds up over attempts, the
// status and message are the last attempt's.
func (r *RunResult) add(n int, ar AttemptResult, began, ended time.Time) {
	r.Attempts = append(r.Attempts, schedules.Attempt{
		Number:           n,
		Status:           ar.Status,
		ErrorMessage:     ar.ErrorMessage,
		ModelUsed:        ar.ModelUsed,
		PromptTokens:     ar.PromptTokens,
		CompletionTokens: ar.CompletionTokens,
		TotalTokens:      ar.TotalTokens,
		CostUSD:          ar.TotalCostUSD,
		MaxTokens:        ar.MaxTokens,
		StartedAt:        began,
		CompletedAt:      ended,
	})
	r.Status, r.Result, r.ErrorMessage = ar.Status, ar.Result, ar.ErrorMessage
	r.Usage = r.Usage.Add(ar.Usage)
}

// attempt performs one attempt: through the Execute activity, or for the
// `workflow` executor as a child workflow on the platform's task queue.
func attempt(ctx workflow.Context, plan RunPlan, task Task, left time.Duration, timeoutSeconds int) AttemptResult {
	if !plan.Available {
		return AttemptResult{Status: schedules.RunFailed,
			ErrorMessage: fmt.Sprintf("executor %q is not configured on this worker", plan.Executor)}
	}
	if plan.Executor == schedules.ExecutorWorkflow {
		return childAttempt(ctx, plan.Child, task, left, timeoutSeconds)
	}
	var a *Activities
	execCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: left + executeSlack,
		HeartbeatTimeout:    executeHeartbeatTimeout,
		// The workflow decides about retries: an attempt may spend the
		// user's budget, so Temporal must never repeat one on its own.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var ar AttemptResult
	err := workflow.ExecuteActivity(execCtx, a.Execute, ExecuteInput{
		Executor: plan.Executor, Task: task, TimeoutSeconds: timeoutSeconds,
	}).Get(ctx, &ar)
	if err != nil {
		return failedAttempt(err, timeoutSeconds)
	}
	return ar
}

func childAttempt(ctx workflow.Context, child ChildWorkflowConfig, task Task, left time.Duration, timeoutSeconds int) AttemptResult {
	childCtx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:               fmt.Sprintf("%s/attempt-%d", task.RunID, task.Attempt),
		TaskQueue:                child.TaskQueue,
		WorkflowExecutionTimeout: left,
		ParentClosePolicy:        enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
	})
	var out ChildResult
	err := workflow.ExecuteChildWorkflow(childCtx, child.WorkflowType, ChildInput{
		ScheduleID:  task.ScheduleID,
		RunID:       task.RunID,
		Attempt:     task.Attempt,
		TaskQuery:   task.TaskQuery,
		TaskContext: task.TaskContext,
		BudgetUSD:   task.BudgetUSD,
		Deadline:    task.Deadline,
	}).Get(ctx, &out)
	if err != nil {
		return failedAttempt(err, timeoutSeconds)
	}
	u := out.usage()
	if u.TotalTokens < 0 || u.PromptTokens < 0 || u.CompletionTokens < 0 || u.TotalCostUSD < 0 {
		return AttemptResult{Status: schedules.RunFailed,
			ErrorMessage: fmt.Sprintf("child workflow %s reported negative usage (tokens %d, cost %v)", child.WorkflowType, u.TotalTokens, u.TotalCostUSD)}
	}
	u.TotalTokens = max(u.TotalTokens, u.PromptTokens+u.CompletionTokens)
	return AttemptResult{Status: schedules.RunCompleted, Result: out.Result, Usage: u}
}

// failedAttempt turns an activity or child workflow failure (as opposed to
// a task failure the activity reported) into the attempt's outcome.
func failedAttempt(err error, timeoutSeconds int) AttemptResult {
	var canceled *temporal.CanceledError
	var timeout *temporal.TimeoutError
	var app *temporal.ApplicationError
	switch {
	case errors.As(err, &canceled):
		return AttemptResult{Status: schedules.RunCancelled, ErrorMessage: "the run was cancelled"}
	case errors.As(err, &timeout) && timeout.TimeoutType() == enumspb.TIMEOUT_TYPE_HEARTBEAT:
		return AttemptResult{Status: schedules.RunFailed, Retryable: true,
			ErrorMessage: "the worker performing the attempt stopped responding"}
	case errors.As(err, &timeout):
		return AttemptResult{Status: schedules.RunTimedOut, ErrorMessage: timeoutMessage(timeoutSeconds, nil)}
	case errors.As(err, &app):
		return AttemptResult{Status: schedules.RunFailed, Retryable: !app.NonRetryable(), ErrorMessage: app.Message()}
	default:
		return AttemptResult{Status: schedules.RunFailed, Retryable: true, ErrorMessage: err.Error()}
	}
}
