package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"schedsvc/metrics"
	"schedsvc/ptrutil"
	"schedsvc/schedules"
)

// ChildWorkflowConfig names the workflow the `workflow` executor starts as
// a child, and the task queue of the platform's workers that run it.
type ChildWorkflowConfig struct {
	WorkflowType string
	TaskQueue    string
}

// Activities hold the worker's dependencies; the workflow calls them by
// method value.
type Activities struct {
	Recorder *schedules.Recorder
	// Executors are the executors this worker performs in the Execute
	// activity; DefaultExecutor serves runs whose action names none (actions
	// written before executors were chosen per schedule).
	Executors       map[schedules.Executor]Executor
	DefaultExecutor schedules.Executor
	Child           ChildWorkflowConfig
	// Metrics counts runs, fire lag and executor attempts; nil counts nothing.
	Metrics *metrics.Metrics
	// Notify sends completion notifications; nil sends none.
	Notify *Notifications
}

// StartInput identifies the run being started.
type StartInput struct {
	ScheduleID    string
	WorkflowID    string
	TemporalRunID string
	Query         string
	Executor      schedules.Executor
	TriggeredAt   time.Time
}

// RunPlan is how the worker performs a run: decided by the worker's
// configuration, and recorded in the workflow's history by being an activity
// result, so that the workflow stays deterministic when configuration
// changes.
type RunPlan struct {
	Executor  schedules.Executor
	Available bool // the worker can perform this executor
	Child     ChildWorkflowConfig
}

// ExecuteInput is one attempt and its deadline.
type ExecuteInput struct {
	Executor       schedules.Executor
	Task           Task
	TimeoutSeconds int
}

// AttemptResult is how one attempt ended.
type AttemptResult struct {
	Status       schedules.RunStatus
	Retryable    bool // a FAILED attempt that another attempt might cure
	Result       string
	ErrorMessage string
	schedules.Usage
	MaxTokens int64
}

// CompleteInput is the outcome to record for a workflow id.
type CompleteInput struct {
	ScheduleID string
	WorkflowID string
	Executor   schedules.Executor `json:",omitempty"` // for the run metrics; empty in runs begun before it was sent
	Result     RunResult
}

// RecordStart records the run, idempotently per workflow id, and returns
// how this worker performs it.
func (a *Activities) RecordStart(ctx context.Context, in StartInput) (RunPlan, error) {
	id, err := uuid.Parse(in.ScheduleID)
	if err != nil {
		return RunPlan{}, temporal.NewNonRetryableApplicationError("bad schedule id", "BadInput", err)
	}
	plan := RunPlan{Executor: in.Executor}
	if plan.Executor == "" {
		plan.Executor = a.DefaultExecutor
	}
	if plan.Executor == schedules.ExecutorWorkflow {
		plan.Child = a.Child
		plan.Available = a.Child.WorkflowType != "" && a.Child.TaskQueue != ""
	} else {
		_, plan.Available = a.Executors[plan.Executor]
	}
	startedAt := time.Now()
	err = a.Recorder.RecordStart(ctx, schedules.RunStart{
		ScheduleID:    id,
		WorkflowID:    in.WorkflowID,
		TemporalRunID: in.TemporalRunID,
		Query:         in.Query,
		Executor:      plan.Executor,
		TriggeredAt:   in.TriggeredAt,
		StartedAt:     startedAt,
	})
	if errors.Is(err, schedules.ErrNotFound) {
		return RunPlan{}, temporal.NewNonRetryableApplicationError("schedule no longer exists", "ScheduleNotFound", err)
	}
	if err == nil {
		a.Metrics.RunStarted(string(plan.Executor), startedAt.Sub(in.TriggeredAt))
	}
	return plan, err
}

// heartbeatInterval keeps Temporal informed while an executor works, so a
// cancelled run (overlap policy CANCEL_OTHER) reaches the executor's ctx and
// a lost worker is noticed within executeHeartbeatTimeout.
const heartbeatInterval = 5 * time.Second

// Execute performs one attempt under the run's deadline. Task failures are
// results, not activity errors, so that each attempt is recorded with its
// usage and the workflow alone decides about retries.
func (a *Activities) Execute(ctx context.Context, in ExecuteInput) (AttemptResult, error) {
	exec, ok := a.Executors[in.Executor]
	if !ok {
		return AttemptResult{Status: schedules.RunFailed,
			ErrorMessage: fmt.Sprintf("executor %q is not configured on this worker", in.Executor)}, nil
	}
	ctx, cancel := context.WithDeadline(ctx, in.Task.Deadline)
	defer cancel()
	stop := heartbeat(ctx)
	defer stop()
	began := time.Now()
	out, err := exec.Execute(ctx, in.Task)
	r := attemptResult(ctx, out, err, in.TimeoutSeconds)
	a.Metrics.ExecutorAttempt(string(in.Executor), string(r.Status), time.Since(began))
	a.Metrics.ExecutorUsage(string(in.Executor), r.ModelUsed, r.PromptTokens, r.CompletionTokens, r.TotalCostUSD)
	return r, nil
}

func attemptResult(ctx context.Context, out Outcome, err error, timeoutSeconds int) AttemptResult {
	r := AttemptResult{Status: schedules.RunCompleted, Result: out.Result, Usage: out.Usage, MaxTokens: out.MaxTokens}
	switch {
	case err == nil:
		return r
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.Status = schedules.RunTimedOut
		r.ErrorMessage = timeoutMessage(timeoutSeconds, err)
	case errors.Is(ctx.Err(), context.Canceled):
		r.Status = schedules.RunCancelled
		r.ErrorMessage = "the run was cancelled: " + err.Error()
	default:
		r.Status = schedules.RunFailed
		r.ErrorMessage = err.Error()
		r.Retryable = !IsPermanent(err)
	}
	r.Result = ""
	return r
}

func heartbeat(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(heartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(done) }
}

// RecordCompletion records the outcome; idempotent per workflow id.
func (a *Activities) RecordCompletion(ctx context.Context, in CompleteInput) error {
	r := in.Result
	id, err := uuid.Parse(in.ScheduleID)
	if err != nil && in.ScheduleID != "" {
		return temporal.NewNonRetryableApplicationError("bad schedule id", "BadInput", err)
	}
	err = a.Recorder.RecordCompletion(ctx, schedules.RunCompletion{
		ScheduleID:   id,
		WorkflowID:   in.WorkflowID,
		Status:       r.Status,
		Result:       ptrutil.NilIfZero(r.Result),
		ErrorMessage: ptrutil.NilIfZero(r.ErrorMessage),
		Usage:        r.Usage,
		Attempts:     r.Attempts,
		CompletedAt:  time.Now(),
	})
	if err == nil {
		a.Metrics.RunCompleted(string(in.Executor), string(r.Status))
	}
	return err
}

func timeoutMessage(timeoutSeconds int, cause error) string {
	msg := fmt.Sprintf("the run did not finish within timeout_seconds (%d s)", timeoutSeconds)
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return msg
}
