package workflows

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"schedsvc/notify"
	"schedsvc/schedules"
)

// notifyChange is the workflow.GetVersion change id under which a run
// that ended sends its notifications. Runs that began on earlier code (no
// marker) send none, so their histories replay unchanged.
const (
	notifyChange  = "notify"
	notifyVersion = 1
)

// Notifications are what the PrepareNotifications activity needs: the
// worker's sender (nil when NOTIFY_SIGNING_SECRET is unset: nothing is
// sent) and the reads of the schedule and the run.
type Notifications struct {
	Sender *notify.Sender
	Store  NotificationStore
}

// NotificationStore reads what an event says; package store implements it.
type NotificationStore interface {
	ScheduleGetByID(ctx context.Context, id uuid.UUID, forUpdate bool) (schedules.Schedule, error)
	RunGetByWorkflowID(ctx context.Context, workflowID string) (schedules.Run, error)
}

// NotifyInput names the run whose end is to be notified.
type NotifyInput struct {
	ScheduleID string
	WorkflowID string
}

// NotifyPlan is the deliveries to start: an activity result, so the
// schedule's notify setting, the events and the worker's retry policy are
// in the history and the workflow stays deterministic.
type NotifyPlan struct {
	Deliveries []notify.WorkflowInput
}

// PrepareNotifications reads the recorded run and its schedule and returns
// the events the schedule subscribes to: the run's end (its status's
// kind) and, when this run's failure paused the schedule, SCHEDULE_PAUSED.
func (a *Activities) PrepareNotifications(ctx context.Context, in NotifyInput) (NotifyPlan, error) {
	if a.Notify == nil || a.Notify.Sender == nil {
		return NotifyPlan{}, nil
	}
	id, err := uuid.Parse(in.ScheduleID)
	if err != nil {
		return NotifyPlan{}, temporal.NewNonRetryableApplicationError("bad schedule id", "BadInput", err)
	}
	s, err := a.Notify.Store.ScheduleGetByID(ctx, id, false)
	if err != nil {
		return NotifyPlan{}, fmt.Errorf("read schedule %s for notifications: %w", id, err)
	}
	if s.Notify.URL == "" {
		return NotifyPlan{}, nil
	}
	r, err := a.Notify.Store.RunGetByWorkflowID(ctx, in.WorkflowID)
	if errors.Is(err, schedules.ErrNotFound) {
		return NotifyPlan{}, nil
	}
	if err != nil {
		return NotifyPlan{}, fmt.Errorf("read run %s for notifications: %w", in.WorkflowID, err)
	}
	run := eventRun(r)
	var events []notify.Event
	if ev, ok := notify.RunEvent(s.ID.String(), s.Name, run); ok && s.Notify.Wants(ev.Kind) {
		events = append(events, ev)
	}
	if r.PausedSchedule && s.PausedAt != nil && s.Notify.Wants(notify.SchedulePaused) {
		p := notify.Pause{PausedAt: *s.PausedAt}
		if s.PauseReason != nil {
			p.Reason = *s.PauseReason
		}
		if s.PausedBy != nil {
			p.PausedBy = *s.PausedBy
		}
		events = append(events, notify.PauseEvent(s.ID.String(), s.Name, p, &run))
	}
	plan := NotifyPlan{}
	for _, ev := range events {
		plan.Deliveries = append(plan.Deliveries, notify.WorkflowInput{
			DeliverInput:   notify.DeliverInput{URL: s.Notify.URL, Event: ev, Retry: a.Notify.Sender.Retry()},
			AttemptTimeout: a.Notify.Sender.AttemptTimeout(),
		})
	}
	return plan, nil
}

func eventRun(r schedules.Run) notify.Run {
	out := notify.Run{
		ID: r.ID.String(), WorkflowID: r.WorkflowID, Status: string(r.Status), Trigger: string(r.Trigger),
		TriggeredAt: r.TriggeredAt.UTC(), StartedAt: r.StartedAt.UTC(), CompletedAt: r.CompletedAt,
		DurationMS: r.DurationMS, ErrorMessage: r.ErrorMessage, AttemptCount: r.AttemptCount,
		ModelUsed: r.ModelUsed, Provider: r.Provider, PromptTokens: r.PromptTokens,
		CompletionTokens: r.CompletionTokens, TotalTokens: r.TotalTokens, TotalCostUSD: r.TotalCostUSD,
	}
	if r.Executor != nil {
		out.Executor = *r.Executor
	}
	if out.CompletedAt != nil {
		c := out.CompletedAt.UTC()
		out.CompletedAt = &c
	}
	return out
}

// sendNotifications starts a DeliveryWorkflow per event the plan holds, as
// an abandoned child, and returns once each has started: retries neither
// keep the run open nor die with it. A failure here is logged, never the
// run's: the run is recorded already.
func sendNotifications(ctx workflow.Context, record func(workflow.Context, any, any) workflow.Future, in NotifyInput) {
	var a *Activities
	log := workflow.GetLogger(ctx)
	var plan NotifyPlan
	if err := record(ctx, a.PrepareNotifications, in).Get(ctx, &plan); err != nil {
		log.Error("prepare notifications", "schedule_id", in.ScheduleID, "error", err)
		return
	}
	for _, d := range plan.Deliveries {
		childCtx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:         notify.DeliveryWorkflowID(d.Event.ID),
			WorkflowRunTimeout: notify.Timeout(d),
			ParentClosePolicy:  enumspb.PARENT_CLOSE_POLICY_ABANDON,
			// A parent reset or replayed onto new history must not deliver
			// an event again once its delivery has finished.
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		})
		err := workflow.ExecuteChildWorkflow(childCtx, notify.WorkflowName, d).GetChildWorkflowExecution().Get(ctx, nil)
		if err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			log.Error("start notification delivery", "schedule_id", in.ScheduleID, "event_id", d.Event.ID, "error", err)
		}
	}
}
