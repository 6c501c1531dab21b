package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"schedsvc/gen/api"
)

// TestReconcileRepairsDrift breaks the Temporal side of schedules behind the
// manager's back, in each way the two stores can drift, and checks one pass
// repairs all of it. It is not parallel: a pass looks at every schedule.
func TestReconcileRepairsDrift(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	tok := tokenFor(t, newOwner())
	sc := env.tc.ScheduleClient()

	missing := b.createSchedule(t, tok, dailyBody("temporal schedule lost"))
	require.NoError(t, sc.GetHandle(ctx, "schedule-"+missing).Delete(ctx))

	pausedBehindOurBack := b.createSchedule(t, tok, dailyBody("paused in temporal only"))
	require.NoError(t, sc.GetHandle(ctx, "schedule-"+pausedBehindOurBack).Pause(ctx, client.SchedulePauseOptions{}))

	pausedRow := b.createSchedule(t, tok, dailyBody("paused row, running temporal"))
	b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + pausedRow + "/pause", token: tok})
	require.NoError(t, sc.GetHandle(ctx, "schedule-"+pausedRow).Unpause(ctx, client.ScheduleUnpauseOptions{}))

	wrongNext := b.createSchedule(t, tok, dailyBody("stale next_run_at"))
	_, err := env.db.Pool.Exec(ctx, "UPDATE schedules SET next_run_at = now() - interval '1 day' WHERE id = $1", wrongNext)
	require.NoError(t, err)

	refreshDue := b.createSchedule(t, tok, map[string]any{"name": "DST horizon ran out", "cron_expression": "30 1 * * *", "timezone": "Europe/London", "task_query": "q"})
	_, err = env.db.Pool.Exec(ctx, "UPDATE schedules SET spec_refresh_at = now() - interval '1 minute' WHERE id = $1", refreshDue)
	require.NoError(t, err)

	deleted := b.createSchedule(t, tok, dailyBody("deleted, but temporal came back"))
	b.do(t, request{method: http.MethodDelete, path: "/api/v1/schedules/" + deleted, token: tok})
	_, err = sc.Create(ctx, client.ScheduleOptions{
		ID:     "schedule-" + deleted,
		Spec:   client.ScheduleSpec{CronExpressions: []string{"0 9 * * *"}},
		Action: &client.ScheduleWorkflowAction{Workflow: "ScheduledTaskWorkflow", TaskQueue: env.taskQueue},
	})
	require.NoError(t, err)

	rep, err := b.reconciler.Reconcile(ctx)
	require.NoError(t, err)
	require.False(t, rep.Skipped)
	require.Zero(t, rep.Failed)
	require.GreaterOrEqual(t, rep.Recreated, 1)
	require.GreaterOrEqual(t, rep.PauseFixed, 2)
	require.GreaterOrEqual(t, rep.OrphansDeleted, 1)
	require.GreaterOrEqual(t, rep.SpecRefreshed, 1)
	var refreshAt time.Time
	require.NoError(t, env.db.Pool.QueryRow(ctx, "SELECT spec_refresh_at FROM schedules WHERE id = $1", refreshDue).Scan(&refreshAt))
	require.True(t, refreshAt.After(time.Now().Add(300*24*time.Hour)), "the new spec covers the next transitions: refresh at %s", refreshAt)

	d := describeTemporal(t, missing)
	require.False(t, d.Schedule.State.Paused)
	require.True(t, d.Info.NextActionTimes[0].Equal(*b.getSchedule(t, tok, missing).NextRunAt))
	require.False(t, describeTemporal(t, pausedBehindOurBack).Schedule.State.Paused)
	require.True(t, describeTemporal(t, pausedRow).Schedule.State.Paused)
	require.Equal(t, api.ScheduleStatusPAUSED, b.getSchedule(t, tok, pausedRow).Status)
	s := b.getSchedule(t, tok, wrongNext)
	require.True(t, s.NextRunAt.After(time.Now()), "next_run_at is Temporal's next action again: %s", s.NextRunAt)
	require.True(t, describeTemporal(t, wrongNext).Info.NextActionTimes[0].Equal(*s.NextRunAt))
	_, err = sc.GetHandle(ctx, "schedule-"+deleted).Describe(ctx)
	var notFound *serviceerror.NotFound
	require.ErrorAs(t, err, &notFound, "the deleted schedule's Temporal schedule is removed again")

	// Every spec was written with its refresh time, so a second pass finds
	// nothing to do.
	rep, err = b.reconciler.Reconcile(ctx)
	require.NoError(t, err)
	require.Zero(t, rep.Recreated+rep.PauseFixed+rep.SpecRefreshed+rep.NextRunFixed+rep.OrphansDeleted+rep.Failed, "%+v", rep)
}
