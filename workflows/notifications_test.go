package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"schedsvc/notify"
	"schedsvc/schedules"
)

// TestWorkflowStartsNotificationDeliveries: once the run is recorded, each
// event of the plan is delivered by a child workflow named after the
// event, and the run's own result is untouched.
func TestWorkflowStartsNotificationDeliveries(t *testing.T) {
	t.Parallel()
	b := setupWorkflow(t, llmPlan)
	b.onExecute(AttemptResult{Status: schedules.RunCompleted, Result: "ok"})
	ev := notify.Event{ID: "4c8a2d71-e5b3-5f90-a6c2-7d1e9b3f0a68", Kind: notify.Completed, OccurredAt: time.Unix(1_800_000_000, 0).UTC(), ScheduleID: "s"}
	plan := NotifyPlan{Deliveries: []notify.WorkflowInput{{
		DeliverInput:   notify.DeliverInput{URL: "https://hooks.example.com/x", Event: ev, Retry: notify.DefaultRetry},
		AttemptTimeout: 10 * time.Second,
	}}}
	var prepared []NotifyInput
	b.env.OnActivity(b.a.PrepareNotifications, mock.Anything, mock.Anything).Return(func(_ context.Context, in NotifyInput) (NotifyPlan, error) {
		prepared = append(prepared, in)
		return plan, nil
	})
	var delivered []notify.WorkflowInput
	b.env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in notify.WorkflowInput) (notify.Result, error) {
		delivered = append(delivered, in)
		require.Equal(t, notify.DeliveryWorkflowID(ev.ID), workflow.GetInfo(ctx).WorkflowExecution.ID)
		return notify.Result{Delivered: true}, nil
	}, workflow.RegisterOptions{Name: notify.WorkflowName})

	out := b.run(t, runInput(schedules.RetryPolicy{MaxAttempts: 1}))
	require.Equal(t, schedules.RunCompleted, out.Status)
	require.Len(t, prepared, 1)
	require.Equal(t, runInput(schedules.RetryPolicy{}).ScheduleID, prepared[0].ScheduleID)
	require.Len(t, delivered, 1)
	require.Equal(t, plan.Deliveries[0], delivered[0])
}

// TestPrepareNotificationsWithoutSender: a worker without a signing
// secret sends nothing and reads nothing.
func TestPrepareNotificationsWithoutSender(t *testing.T) {
	t.Parallel()
	plan, err := (&Activities{}).PrepareNotifications(context.Background(), NotifyInput{ScheduleID: "not even a uuid"})
	require.NoError(t, err)
	require.Empty(t, plan.Deliveries)
}
