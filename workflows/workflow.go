// Package workflows holds ScheduledTaskWorkflow, its activities and the
// executors that perform a run.
package workflows

import (
	"errors"
	"fmt"
	"time"

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

// executeSlack lets the activity report a timeout itself before Temporal's
// own start-to-close timer fires.
const executeSlack = 10 * time.Second

// ScheduledTaskWorkflow performs one firing of a schedule: it records the
// run's start, performs the task through the executor, and records the
// outcome.
func ScheduledTaskWorkflow(ctx workflow.Context, in schedules.RunInput) (ExecuteResult, error) {
	var a *Activities
	info := workflow.GetInfo(ctx)
	triggeredAt, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartTime)
	if !ok {
		triggeredAt = info.WorkflowStartTime
	}

	recordCtx := workflow.WithActivityOptions(ctx, recordOptions)
	err := workflow.ExecuteActivity(recordCtx, a.RecordStart, StartInput{
		ScheduleID:    in.ScheduleID,
		WorkflowID:    info.WorkflowExecution.ID,
		TemporalRunID: info.WorkflowExecution.RunID,
		Query:         in.TaskQuery,
		TriggeredAt:   triggeredAt,
	}).Get(ctx, nil)
	if err != nil {
		return ExecuteResult{}, fmt.Errorf("record run start: %w", err)
	}

	timeout := time.Duration(in.TimeoutSeconds) * time.Second
	execCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout + executeSlack,
		// A run is performed at most once per firing: a retry would spend
		// the user's budget again.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var result ExecuteResult
	err = workflow.ExecuteActivity(execCtx, a.Execute, ExecuteInput{
		Task: Task{
			ScheduleID:         in.ScheduleID,
			TaskQuery:          in.TaskQuery,
			TaskContext:        in.TaskContext,
			MaxBudgetPerRunUSD: in.MaxBudgetPerRunUSD,
		},
		TimeoutSeconds: in.TimeoutSeconds,
	}).Get(ctx, &result)
	if err != nil {
		result = failedResult(err, in.TimeoutSeconds)
	}

	// A cancelled workflow still records how its run ended.
	if errors.Is(ctx.Err(), workflow.ErrCanceled) {
		var cancel workflow.CancelFunc
		recordCtx, cancel = workflow.NewDisconnectedContext(recordCtx)
		defer cancel()
	}
	err = workflow.ExecuteActivity(recordCtx, a.RecordCompletion, CompleteInput{
		WorkflowID: info.WorkflowExecution.ID,
		Result:     result,
	}).Get(recordCtx, nil)
	if err != nil {
		return result, fmt.Errorf("record run completion: %w", err)
	}
	return result, nil
}

// failedResult turns an activity failure (as opposed to a task failure the
// activity reported) into the run's outcome.
func failedResult(err error, timeoutSeconds int) ExecuteResult {
	var canceled *temporal.CanceledError
	switch {
	case errors.As(err, &canceled):
		return ExecuteResult{Status: schedules.RunCancelled, ErrorMessage: "the run was cancelled"}
	case temporal.IsTimeoutError(err):
		return ExecuteResult{Status: schedules.RunTimedOut,
			ErrorMessage: fmt.Sprintf("the task did not finish within timeout_seconds (%d s)", timeoutSeconds)}
	default:
		return ExecuteResult{Status: schedules.RunFailed, ErrorMessage: err.Error()}
	}
}
