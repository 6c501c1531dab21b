package workflows

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/activity"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"schedsvc/schedules"
)

// The attributes that name a run on its spans. The run is named by its
// workflow id, the key it is recorded under (a run's `workflow_id` in the
// API); its API id is assigned when RecordStart inserts the row.
const (
	AttrScheduleID = attribute.Key("schedsvc.schedule.id")
	AttrWorkflowID = attribute.Key("schedsvc.run.workflow_id")
	AttrExecutor   = attribute.Key("schedsvc.run.executor")
	AttrOutcome    = attribute.Key("schedsvc.run.outcome")
)

// outcomeError is the outcome of a run that ended without a result: its
// start could not be recorded (the schedule is gone).
const outcomeError = "ERROR"

// RunSpans puts the run's schedule id, workflow id, executor and outcome on
// the spans the SDK's OpenTelemetry interceptor makes for the run's
// workflow and its activities, local activities included (the SDK runs
// both through the activity interceptors). It must come after that
// interceptor, which the worker gets from its client, so that the span is
// in the context by the time RunSpans sees it.
type RunSpans struct {
	interceptor.WorkerInterceptorBase
	// DefaultExecutor is the worker's, for actions that name no executor
	// (RecordStart plans them with it too).
	DefaultExecutor schedules.Executor
}

var _ interceptor.WorkerInterceptor = (*RunSpans)(nil)

func (r *RunSpans) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	if workflow.GetInfo(ctx).WorkflowType.Name != schedules.WorkflowName {
		return next
	}
	i := &runWorkflowSpan{defaultExecutor: r.DefaultExecutor}
	i.Next = next
	return i
}

func (r *RunSpans) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &runActivitySpan{}
	i.Next = next
	return i
}

type runWorkflowSpan struct {
	interceptor.WorkflowInboundInterceptorBase
	defaultExecutor schedules.Executor
}

func (i *runWorkflowSpan) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	span, traced := temporalotel.SpanFromWorkflowContext(ctx)
	if !traced {
		return i.Next.ExecuteWorkflow(ctx, in)
	}
	span.SetAttributes(AttrWorkflowID.String(workflow.GetInfo(ctx).WorkflowExecution.ID))
	if len(in.Args) > 0 {
		if run, ok := in.Args[0].(schedules.RunInput); ok {
			executor := run.Executor
			if executor == "" {
				executor = i.defaultExecutor
			}
			span.SetAttributes(AttrScheduleID.String(run.ScheduleID), AttrExecutor.String(string(executor)))
		}
	}
	ret, err := i.Next.ExecuteWorkflow(ctx, in)
	setOutcome(span, ret)
	return ret, err
}

// setOutcome records how the run ended; a run that failed or timed out
// marks its span as an error, so trace views show it.
func setOutcome(span trace.Span, ret any) {
	var status schedules.RunStatus
	var message string
	switch r := ret.(type) {
	case RunResult:
		status, message = r.Status, r.ErrorMessage
	case AttemptResult:
		status, message = r.Status, r.ErrorMessage
	}
	if status == "" {
		span.SetAttributes(AttrOutcome.String(outcomeError))
		return
	}
	span.SetAttributes(AttrOutcome.String(string(status)))
	if status == schedules.RunFailed || status == schedules.RunTimedOut {
		span.SetStatus(codes.Error, message)
	}
}

type runActivitySpan struct {
	interceptor.ActivityInboundInterceptorBase
}

func (i *runActivitySpan) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return i.Next.ExecuteActivity(ctx, in)
	}
	span.SetAttributes(AttrWorkflowID.String(activity.GetInfo(ctx).WorkflowExecution.ID))
	if len(in.Args) > 0 {
		if run, ok := in.Args[0].(runActivityInput); ok {
			span.SetAttributes(AttrScheduleID.String(run.scheduleID()))
			if e := run.executor(); e != "" {
				span.SetAttributes(AttrExecutor.String(string(e)))
			}
		}
	}
	ret, err := i.Next.ExecuteActivity(ctx, in)
	switch r := ret.(type) {
	case RunPlan:
		span.SetAttributes(AttrExecutor.String(string(r.Executor)))
	case AttemptResult:
		setOutcome(span, r)
	}
	return ret, err
}

// runActivityInput is the input of each of the run's activities.
type runActivityInput interface {
	scheduleID() string
	executor() schedules.Executor // empty when the input does not say
}

func (in StartInput) scheduleID() string             { return in.ScheduleID }
func (in StartInput) executor() schedules.Executor   { return in.Executor }
func (in ExecuteInput) scheduleID() string           { return in.Task.ScheduleID }
func (in ExecuteInput) executor() schedules.Executor { return in.Executor }
func (in CompleteInput) scheduleID() string          { return in.ScheduleID }
func (CompleteInput) executor() schedules.Executor   { return "" }
