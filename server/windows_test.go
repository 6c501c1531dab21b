package server_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
)

// Time windows and run limits (issue 11 item 3), against the real stack.

func TestWindowCreateHonouredByRowTemporalAndPreview(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())
	start := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Hour).Add(30 * time.Minute)
	end := start.Add(24 * time.Hour)
	body := map[string]any{
		"name": "windowed", "cron_expression": "0 * * * *", "task_query": "q",
		"start_at": start.Format(time.RFC3339), "end_at": end.Format(time.RFC3339), "max_runs": 3,
	}
	id := b.createSchedule(t, tok, body)
	s := b.getSchedule(t, tok, id)

	firstInWindow := start.Add(30 * time.Minute)
	require.NotNil(t, s.NextRunAt)
	require.True(t, s.NextRunAt.Equal(firstInWindow), "next_run_at %s is the first firing at or after start_at", s.NextRunAt)
	require.True(t, s.StartAt.Equal(start))
	require.True(t, s.EndAt.Equal(end))
	require.Equal(t, 3, *s.MaxRuns)
	require.Nil(t, s.CompletedAt)
	require.Len(t, s.NextRuns, 3, "next_runs stop at max_runs")
	require.True(t, s.NextRuns[0].Equal(firstInWindow))

	d := describeTemporal(t, id)
	require.True(t, d.Schedule.Spec.StartAt.Equal(start))
	require.True(t, d.Schedule.Spec.EndAt.Equal(end))
	require.True(t, d.Schedule.State.LimitedActions)
	require.Equal(t, 3, d.Schedule.State.RemainingActions)
	require.NotEmpty(t, d.Info.NextActionTimes)
	require.True(t, d.Info.NextActionTimes[0].Equal(firstInWindow), "Temporal's next action %s", d.Info.NextActionTimes[0])

	q := url.Values{"cron_expression": {"0 * * * *"}, "count": {"100"},
		"start_at": {start.Format(time.RFC3339)}, "end_at": {end.Format(time.RFC3339)}}
	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/cron/preview?" + q.Encode(), token: tok})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	var p api.CronPreview
	resp.decode(t, &p)
	require.Len(t, p.Times, 24, "one firing an hour, the last at end_at minus 30 minutes")
	for _, at := range p.Times {
		require.False(t, at.Before(start) || at.After(end), "%s is outside the window", at)
	}
}

func TestWindowInvalidWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	tok := tokenFor(t, o)
	now := time.Now().UTC()
	tomorrow10 := now.Add(24 * time.Hour).Truncate(24 * time.Hour).Add(10 * time.Hour)
	cases := []struct {
		name   string
		fields map[string]any
		status int
	}{
		{"end before start", map[string]any{"start_at": now.Add(2 * time.Hour).Format(time.RFC3339), "end_at": now.Add(time.Hour).Format(time.RFC3339)}, http.StatusUnprocessableEntity},
		{"end in the past", map[string]any{"end_at": now.Add(-time.Hour).Format(time.RFC3339)}, http.StatusUnprocessableEntity},
		{"no firing in the window", map[string]any{"cron_expression": "0 9 * * *",
			"start_at": tomorrow10.Format(time.RFC3339), "end_at": tomorrow10.Add(time.Hour).Format(time.RFC3339)}, http.StatusUnprocessableEntity},
		{"max_runs zero", map[string]any{"max_runs": 0}, http.StatusBadRequest},
	}
	for _, c := range cases {
		body := map[string]any{"name": c.name, "cron_expression": "0 * * * *", "task_query": "q"}
		for k, v := range c.fields {
			body[k] = v
		}
		resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: body})
		require.Equal(t, c.status, resp.status, "%s: %s", c.name, resp.body)
	}
	require.Zero(t, scheduleRowCount(t, o), "no invalid window wrote a schedule")

	// An update to an impossible window is refused and changes nothing.
	id := b.createSchedule(t, tok, map[string]any{"name": "ok", "cron_expression": "0 * * * *", "task_query": "q"})
	before := b.getSchedule(t, tok, id)
	resp := b.do(t, request{method: http.MethodPut, path: "/api/v1/schedules/" + id, token: tok,
		body: map[string]any{"end_at": now.Add(-time.Minute).Format(time.RFC3339)}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status, "body: %s", resp.body)
	after := b.getSchedule(t, tok, id)
	require.Nil(t, after.EndAt)
	require.Equal(t, before.UpdatedAt, after.UpdatedAt)
}

func TestMaxRunsCompletesAndUpdateReactivates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())
	id := b.createSchedule(t, tok, map[string]any{
		"name": "once", "cron_expression": "* * * * *", "task_query": "one run only", "max_runs": 1,
	})
	b.waitForRuns(t, tok, id, 150*time.Second, func(rs []api.Run) bool { return len(rs) > 0 })

	s := b.getSchedule(t, tok, id)
	require.Equal(t, api.ScheduleStatusCOMPLETED, s.Status)
	require.NotNil(t, s.CompletedAt)
	require.Nil(t, s.NextRunAt)
	require.Empty(t, s.NextRuns)
	require.EqualValues(t, 1, s.TotalRuns)

	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules/" + id + "/events", token: tok})
	require.Equal(t, http.StatusOK, resp.status)
	var events api.ScheduleEventList
	resp.decode(t, &events)
	require.Equal(t, api.ScheduleEventKindCompleted, events.Events[0].Kind, "the newest event")

	d := describeTemporal(t, id)
	require.True(t, d.Schedule.State.LimitedActions)
	require.Zero(t, d.Schedule.State.RemainingActions)

	for _, action := range []string{"pause", "resume"} {
		resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/" + action, token: tok})
		require.Equal(t, http.StatusConflict, resp.status, "%s: %s", action, resp.body)
		require.Equal(t, api.ProblemType("https://schedsvc.dev/problems/schedule-completed"), resp.problem(t).Type)
	}
	require.Equal(t, api.ScheduleStatusCOMPLETED, b.getSchedule(t, tok, id).Status)

	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules?status=COMPLETED", token: tok})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	var list api.ScheduleList
	resp.decode(t, &list)
	require.Len(t, list.Schedules, 1)

	resp = b.do(t, request{method: http.MethodPut, path: "/api/v1/schedules/" + id, token: tok, body: map[string]any{"max_runs": 2}})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	var updated api.Schedule
	resp.decode(t, &updated)
	require.Equal(t, api.ScheduleStatusACTIVE, updated.Status)
	require.Nil(t, updated.CompletedAt)
	require.NotNil(t, updated.NextRunAt)
	require.Len(t, updated.NextRuns, 1)
	d = describeTemporal(t, id)
	require.Equal(t, 1, d.Schedule.State.RemainingActions, "Temporal gets the one run back")
	require.False(t, d.Schedule.State.Paused)

	resp = b.do(t, request{method: http.MethodDelete, path: "/api/v1/schedules/" + id, token: tok})
	require.Equal(t, http.StatusNoContent, resp.status)
}

func TestReconcilerCompletesEndedWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())
	ctx := context.Background()
	id := b.createSchedule(t, tok, map[string]any{
		"name": "ending", "cron_expression": "0 * * * *", "task_query": "q",
		"end_at": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339),
	})
	// The window ends while nothing runs: the row's end_at is moved into
	// the past as if the time had come.
	_, err := env.db.Pool.Exec(ctx, "UPDATE schedules SET end_at = now() - interval '1 minute' WHERE id = $1", id)
	require.NoError(t, err)
	s := b.getSchedule(t, tok, id)
	require.Equal(t, api.ScheduleStatusACTIVE, s.Status)
	require.Nil(t, s.NextRunAt, "an ended window shows no next run, even before the reconciler")

	_, err = b.reconciler.Reconcile(ctx)
	require.NoError(t, err)
	s = b.getSchedule(t, tok, id)
	require.Equal(t, api.ScheduleStatusCOMPLETED, s.Status)
	require.NotNil(t, s.CompletedAt)

	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules/" + id + "/events", token: tok})
	var events api.ScheduleEventList
	resp.decode(t, &events)
	require.Equal(t, api.ScheduleEventKindCompleted, events.Events[0].Kind)
	require.Equal(t, "reconciler", events.Events[0].Actor)
}

// TestManualRunsDoNotUseMaxRuns: max_runs counts the runs the schedule fires
// itself, as Temporal's remaining actions do; a run now counts in the totals
// but leaves the schedule its allowed run, in the row and in Temporal.
func TestManualRunsDoNotUseMaxRuns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())
	id := b.createSchedule(t, tok, map[string]any{
		"name": "once, yearly", "cron_expression": "0 0 1 1 *", "task_query": "one scheduled run", "max_runs": 1,
	})
	resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/trigger", token: tok, body: map[string]any{}})
	require.Equal(t, http.StatusAccepted, resp.status, "body: %s", resp.body)
	runs := b.waitForRuns(t, tok, id, 60*time.Second, func(rs []api.Run) bool {
		return len(rs) == 1 && rs[0].Status != api.RunStatusRUNNING
	})
	require.Equal(t, api.RunTriggerMANUAL, runs[0].Trigger)

	s := b.getSchedule(t, tok, id)
	require.Equal(t, api.ScheduleStatusACTIVE, s.Status, "a manual run does not use the allowed run")
	require.EqualValues(t, 1, s.TotalRuns)
	require.NotNil(t, s.NextRunAt)
	require.Len(t, s.NextRuns, 1)
	d := describeTemporal(t, id)
	require.True(t, d.Schedule.State.LimitedActions)
	require.Equal(t, 1, d.Schedule.State.RemainingActions, "nor does Temporal count it")
}
