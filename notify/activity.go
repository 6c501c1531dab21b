package notify

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Delivery is the state of one event's delivery after an attempt: what
// the run detail shows. Recorders keep one record per event id; attempts
// only grow and delivered, once true, stays true, so a late or repeated
// write cannot undo a later one.
type Delivery struct {
	EventID       string
	ScheduleID    string
	WorkflowID    string // the run's workflow id; empty for a pause no run caused
	Kind          Kind
	URL           string
	Attempts      int
	Delivered     bool
	StatusCode    int    // of the last attempt; 0 when none answered
	LastError     string // of the last attempt; empty when delivered
	LastAttemptAt time.Time
	// NextAttemptAt is when Temporal makes the next attempt; nil when
	// this attempt was the last (delivered, permanent, or attempts spent).
	NextAttemptAt *time.Time
}

// Recorder keeps delivery state; the store implements it.
type Recorder interface {
	// RecordDelivery upserts d by EventID (see Delivery for the rules).
	RecordDelivery(ctx context.Context, d Delivery) error
}

// Activities hold the delivery activity's dependencies.
type Activities struct {
	Sender   *Sender
	Recorder Recorder
	Now      func() time.Time // nil is time.Now
}

// DeliverInput is one event to deliver, and the retry policy Temporal
// applies to its attempts (to tell the last attempt and the next one's
// time).
type DeliverInput struct {
	URL   string
	Event Event
	Retry Retry
}

// Deliver is the delivery activity: one attempt, recorded, and an error
// that makes Temporal retry by the policy (or stop, for attempts that
// cannot succeed). Delivery is at least once: an attempt that reached the
// receiver but whose record failed is made again, with the same event id
// in Idempotency-Key.
func (a *Activities) Deliver(ctx context.Context, in DeliverInput) (Result, error) {
	attempt := int(activity.GetInfo(ctx).Attempt)
	res := a.Sender.Deliver(ctx, in.URL, in.Event, attempt)
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	at := now().UTC()
	d := Delivery{
		EventID:       in.Event.ID,
		ScheduleID:    in.Event.ScheduleID,
		Kind:          in.Event.Kind,
		URL:           in.URL,
		Attempts:      attempt,
		Delivered:     res.Delivered,
		StatusCode:    res.StatusCode,
		LastError:     res.Error,
		LastAttemptAt: at,
	}
	if detail := res.LogDetail(); detail != "" {
		activity.GetLogger(ctx).Warn("notification URL refused", "schedule_id", in.Event.ScheduleID, "event_id", in.Event.ID, "detail", detail)
	}
	if in.Event.Run != nil {
		d.WorkflowID = in.Event.Run.WorkflowID
	}
	if !res.Delivered && !res.Permanent && attempt < in.Retry.MaxAttempts {
		next := at.Add(in.Retry.Backoff(attempt))
		d.NextAttemptAt = &next
	}
	if err := a.Recorder.RecordDelivery(ctx, d); err != nil {
		return res, temporal.NewApplicationErrorWithCause(fmt.Sprintf("record notification delivery: %v", err), "NotifyRecordFailed", err)
	}
	return res, res.ActivityError()
}

// WorkflowInput is what DeliveryWorkflow needs. The policy and the
// attempt timeout travel in the input, so the workflow is deterministic
// whatever the worker's configuration becomes: the parent takes them
// (Sender.Retry, Sender.AttemptTimeout) from an activity result.
type WorkflowInput struct {
	DeliverInput
	AttemptTimeout time.Duration
}

// WorkflowName is the name DeliveryWorkflow is registered and started by.
const WorkflowName = "NotificationDeliveryWorkflow"

// DeliveryWorkflow delivers one event with the retry policy and returns
// the last attempt's Result. A run's workflow starts it as a child with
// ParentClosePolicy ABANDON and returns once it has started, so retries
// do not keep the run open (the schedule's overlap policy would skip or
// buffer the next firing) and are not cut short by the run's
// WorkflowRunTimeout. Give it a run timeout of at least Timeout(in).
func DeliveryWorkflow(ctx workflow.Context, in WorkflowInput) (Result, error) {
	var a *Activities
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// A little over the attempt's own bound, so an attempt reports its
		// own timeout rather than being cut off.
		StartToCloseTimeout: in.AttemptTimeout + 5*time.Second,
		RetryPolicy:         in.Retry.TemporalPolicy(),
	})
	var res Result
	err := workflow.ExecuteActivity(ctx, a.Deliver, in.DeliverInput).Get(ctx, &res)
	return res, err
}

// Timeout is the longest DeliveryWorkflow can take with in's policy:
// every attempt at its bound plus every wait, with a minute to spare.
func Timeout(in WorkflowInput) time.Duration {
	return time.Duration(in.Retry.MaxAttempts)*(in.AttemptTimeout+5*time.Second) + in.Retry.Total() + time.Minute
}

// DeliveryWorkflowID names the delivery workflow of an event, so that a parent
// replayed or retried starts it at most once.
func DeliveryWorkflowID(eventID string) string { return "notify-" + eventID }
