package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"schedsvc/schedules"
)

// Activities hold the worker's dependencies; the workflow calls them by
// method value.
type Activities struct {
	Recorder *schedules.Recorder
	Executor Executor
}

// StartInput identifies the run being started.
type StartInput struct {
	ScheduleID    string
	WorkflowID    string
	TemporalRunID string
	Query         string
	TriggeredAt   time.Time
}

// ExecuteInput is the task and its time budget.
type ExecuteInput struct {
	Task           Task
	TimeoutSeconds int
}

// ExecuteResult is the run's outcome as the workflow records it.
type ExecuteResult struct {
	Status       schedules.RunStatus
	Result       string
	ErrorMessage string
	TotalTokens  int64
	TotalCostUSD float64
	ModelUsed    string
	Provider     string
}

// CompleteInput is the outcome to record for a workflow id.
type CompleteInput struct {
	WorkflowID string
	Result     ExecuteResult
}

// RecordStart records the run; idempotent per workflow id.
func (a *Activities) RecordStart(ctx context.Context, in StartInput) error {
	id, err := uuid.Parse(in.ScheduleID)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("bad schedule id", "BadInput", err)
	}
	err = a.Recorder.RecordStart(ctx, schedules.RunStart{
		ScheduleID:    id,
		WorkflowID:    in.WorkflowID,
		TemporalRunID: in.TemporalRunID,
		Query:         in.Query,
		TriggeredAt:   in.TriggeredAt,
		StartedAt:     time.Now(),
	})
	if errors.Is(err, schedules.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError("schedule no longer exists", "ScheduleNotFound", err)
	}
	return err
}

// Execute performs the task under its deadline. Task failures are results,
// not activity errors, so that they are recorded once and not retried.
func (a *Activities) Execute(ctx context.Context, in ExecuteInput) (ExecuteResult, error) {
	timeout := time.Duration(in.TimeoutSeconds) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	task := in.Task
	task.Deadline, _ = ctx.Deadline()
	task.RunID = activity.GetInfo(ctx).WorkflowExecution.ID
	out, err := a.Executor.Execute(ctx, task)
	switch {
	case err == nil:
		return ExecuteResult{
			Status:       schedules.RunCompleted,
			Result:       out.Result,
			TotalTokens:  out.TotalTokens,
			TotalCostUSD: out.TotalCostUSD,
			ModelUsed:    out.ModelUsed,
			Provider:     out.Provider,
		}, nil
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ExecuteResult{
			Status:       schedules.RunTimedOut,
			ErrorMessage: fmt.Sprintf("the task did not finish within timeout_seconds (%d s): %v", in.TimeoutSeconds, err),
		}, nil
	default:
		return ExecuteResult{Status: schedules.RunFailed, ErrorMessage: err.Error()}, nil
	}
}

// RecordCompletion records the outcome; idempotent per workflow id.
func (a *Activities) RecordCompletion(ctx context.Context, in CompleteInput) error {
	r := in.Result
	return a.Recorder.RecordCompletion(ctx, schedules.RunCompletion{
		WorkflowID:   in.WorkflowID,
		Status:       r.Status,
		Result:       nonEmpty(r.Result),
		ErrorMessage: nonEmpty(r.ErrorMessage),
		ModelUsed:    nonEmpty(r.ModelUsed),
		Provider:     nonEmpty(r.Provider),
		TotalTokens:  r.TotalTokens,
		TotalCostUSD: r.TotalCostUSD,
		CompletedAt:  time.Now(),
	})
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
