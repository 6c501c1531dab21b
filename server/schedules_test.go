package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"schedsvc/gen/api"
	"schedsvc/schedules"
	"schedsvc/schedules/cron"
)

func describeTemporal(t *testing.T, id string) *client.ScheduleDescription {
	t.Helper()
	d, err := env.tc.ScheduleClient().GetHandle(context.Background(), "schedule-"+id).Describe(context.Background())
	require.NoError(t, err)
	return d
}

func scheduleRowCount(t *testing.T, o schedules.Owner) int {
	t.Helper()
	var n int
	require.NoError(t, env.db.Pool.QueryRow(context.Background(),
		"SELECT count(*) FROM schedules WHERE tenant_id = $1 AND user_id = $2", o.TenantID, o.UserID).Scan(&n))
	return n
}

func TestCreateGetList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	tok := tokenFor(t, o)

	id := b.createSchedule(t, tok, dailyBody("digest"))
	s := b.getSchedule(t, tok, id)
	require.Equal(t, o.UserID, s.UserId)
	require.Equal(t, o.TenantID, s.TenantId)
	require.Equal(t, "digest", s.Name)
	require.Equal(t, "0 9 * * MON-FRI", s.CronExpression)
	require.Equal(t, "Europe/Berlin", s.Timezone)
	require.Equal(t, api.ScheduleStatusACTIVE, s.Status)
	require.Equal(t, map[string]any{"channel": "#support"}, *s.TaskContext)
	require.Equal(t, 1.0, s.MaxBudgetPerRunUsd, "default budget")
	require.Equal(t, 600, s.TimeoutSeconds, "default timeout")
	require.Zero(t, s.TotalRuns)
	require.NotNil(t, s.NextRunAt)

	// next_run_at is 09:00 Berlin on a weekday, and is what Temporal will run.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	next := s.NextRunAt.In(berlin)
	require.Equal(t, 9, next.Hour())
	require.Zero(t, next.Minute())
	require.NotContains(t, []time.Weekday{time.Saturday, time.Sunday}, next.Weekday())
	d := describeTemporal(t, id)
	require.NotEmpty(t, d.Info.NextActionTimes)
	require.True(t, d.Info.NextActionTimes[0].Equal(*s.NextRunAt), "ours %s, Temporal's %s", s.NextRunAt, d.Info.NextActionTimes[0])
	require.False(t, d.Schedule.State.Paused)

	// A second schedule, then list both, newest first, by page and by cursor.
	id2 := b.createSchedule(t, tok, map[string]any{"name": "hourly", "cron_expression": "0 * * * *", "task_query": "ping"})
	s2 := b.getSchedule(t, tok, id2)
	require.Equal(t, "UTC", s2.Timezone, "timezone defaults to UTC")
	require.Nil(t, s2.TaskContext)

	resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
	require.Equal(t, http.StatusOK, resp.status)
	var list api.ScheduleList
	resp.decode(t, &list)
	require.EqualValues(t, 2, list.Total)
	require.Equal(t, 1, list.Page)
	require.Equal(t, 50, list.PageSize)
	require.Len(t, list.Schedules, 2)
	require.Equal(t, id2, list.Schedules[0].Id.String())
	require.Nil(t, list.NextCursor)

	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules?page_size=1", token: tok})
	resp.decode(t, &list)
	require.Len(t, list.Schedules, 1)
	require.Equal(t, id2, list.Schedules[0].Id.String())
	require.NotNil(t, list.NextCursor)
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules?page_size=1&cursor=" + *list.NextCursor, token: tok})
	resp.decode(t, &list)
	require.Len(t, list.Schedules, 1)
	require.Equal(t, id, list.Schedules[0].Id.String())
	require.Nil(t, list.NextCursor)
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules?page=2&page_size=1", token: tok})
	resp.decode(t, &list)
	require.Equal(t, id, list.Schedules[0].Id.String())

	// Status filter.
	b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/pause", token: tok})
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules?status=PAUSED", token: tok})
	resp.decode(t, &list)
	require.EqualValues(t, 1, list.Total)
	require.Equal(t, id, list.Schedules[0].Id.String())
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules?status=ACTIVE", token: tok})
	resp.decode(t, &list)
	require.EqualValues(t, 1, list.Total)
	require.Equal(t, id2, list.Schedules[0].Id.String())

	// A tampered cursor is the caller's error.
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules?cursor=bm90LWEtY3Vyc29y", token: tok})
	require.Equal(t, http.StatusBadRequest, resp.status)
	require.Equal(t, "https://schedsvc.dev/problems/invalid-request", string(resp.problem(t).Type))
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	tok := tokenFor(t, o)
	id := b.createSchedule(t, tok, dailyBody("before"))
	before := b.getSchedule(t, tok, id)
	path := "/api/v1/schedules/" + id

	// Only the name: everything else keeps its value, Temporal is untouched.
	resp := b.do(t, request{method: http.MethodPut, path: path, token: tok, body: map[string]any{"name": "after"}})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	var s api.Schedule
	resp.decode(t, &s)
	require.Equal(t, "after", s.Name)
	require.Equal(t, before.CronExpression, s.CronExpression)
	require.Equal(t, before.Timezone, s.Timezone)
	require.Equal(t, before.TaskContext, s.TaskContext)
	require.Equal(t, before.NextRunAt, s.NextRunAt)

	// The cron and zone change: Temporal's spec is replaced, not appended to.
	for _, tz := range []string{"America/New_York", "Asia/Tokyo"} {
		resp = b.do(t, request{method: http.MethodPut, path: path, token: tok,
			body: map[string]any{"cron_expression": "30 7 * * *", "timezone": tz, "task_query": "new query"}})
		require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	}
	resp.decode(t, &s)
	require.Equal(t, "30 7 * * *", s.CronExpression)
	require.Equal(t, "Asia/Tokyo", s.Timezone)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	require.Equal(t, "07:30", s.NextRunAt.In(tokyo).Format("15:04"))
	d := describeTemporal(t, id)
	fresh, err := cron.Parse("30 7 * * *", "Asia/Tokyo")
	require.NoError(t, err)
	want := fresh.TemporalSpec(time.Now())
	require.Len(t, d.Schedule.Spec.Calendars, len(want.Calendars), "calendars must not pile up across updates")
	require.Equal(t, "Asia/Tokyo", d.Schedule.Spec.TimeZoneName)
	require.True(t, d.Info.NextActionTimes[0].Equal(*s.NextRunAt))
	action := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.Equal(t, env.taskQueue, action.TaskQueue)

	// Clear the context; then set a new one.
	resp = b.do(t, request{method: http.MethodPut, path: path, token: tok, body: map[string]any{"clear_task_context": true}})
	resp.decode(t, &s)
	require.Nil(t, s.TaskContext)
	resp = b.do(t, request{method: http.MethodPut, path: path, token: tok, body: map[string]any{"task_context": map[string]any{"k": "v"}}})
	resp.decode(t, &s)
	require.Equal(t, map[string]any{"k": "v"}, *s.TaskContext)

	// Rejected updates change nothing.
	for _, bad := range []map[string]any{
		{"timezone": ""},
		{"timezone": "Mars/Olympus"},
		{"cron_expression": "*/5 * * * * *"},
		{"max_budget_per_run_usd": 11},
		{"name": "x", "surprise": true},
		{"task_context": map[string]any{"a": 1}, "clear_task_context": true},
	} {
		resp = b.do(t, request{method: http.MethodPut, path: path, token: tok, body: bad})
		require.Contains(t, []int{400, 422}, resp.status, "%v: %s", bad, resp.body)
	}
	after := b.getSchedule(t, tok, id)
	require.Equal(t, s.Name, after.Name)
	require.Equal(t, s.Timezone, after.Timezone)
	require.Equal(t, s.CronExpression, after.CronExpression)
	require.Equal(t, s.TaskContext, after.TaskContext)
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	tok := tokenFor(t, o)
	id := b.createSchedule(t, tok, dailyBody("p"))
	path := "/api/v1/schedules/" + id

	resp := b.do(t, request{method: http.MethodPost, path: path + "/pause", token: tok, body: map[string]any{"reason": "holiday"}})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	var s api.Schedule
	resp.decode(t, &s)
	require.Equal(t, api.ScheduleStatusPAUSED, s.Status)
	require.Nil(t, s.NextRunAt, "no next run while paused")
	require.Equal(t, "holiday", *s.PauseReason)
	require.Equal(t, o.UserID, *s.PausedBy)
	require.NotNil(t, s.PausedAt)
	d := describeTemporal(t, id)
	require.True(t, d.Schedule.State.Paused)
	require.Contains(t, d.Schedule.State.Note, "holiday")

	// Pausing again is a no-op that keeps the first reason and time.
	resp = b.do(t, request{method: http.MethodPost, path: path + "/pause", token: tok})
	require.Equal(t, http.StatusOK, resp.status)
	var again api.Schedule
	resp.decode(t, &again)
	require.Equal(t, s.PausedAt, again.PausedAt)
	require.Equal(t, "holiday", *again.PauseReason)

	resp = b.do(t, request{method: http.MethodPost, path: path + "/resume", token: tok, body: map[string]any{"reason": "back"}})
	require.Equal(t, http.StatusOK, resp.status)
	resp.decode(t, &s)
	require.Equal(t, api.ScheduleStatusACTIVE, s.Status)
	require.NotNil(t, s.NextRunAt)
	require.Equal(t, "back", *s.ResumeReason)
	require.Equal(t, o.UserID, *s.ResumedBy)
	d = describeTemporal(t, id)
	require.False(t, d.Schedule.State.Paused)
	require.True(t, d.Info.NextActionTimes[0].Equal(*s.NextRunAt))

	resp = b.do(t, request{method: http.MethodPost, path: path + "/resume", token: tok})
	require.Equal(t, http.StatusOK, resp.status)
	resp.decode(t, &again)
	require.Equal(t, s.ResumedAt, again.ResumedAt)
}

func TestDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	tok := tokenFor(t, o)
	id := b.createSchedule(t, tok, dailyBody("d"))
	path := "/api/v1/schedules/" + id

	resp := b.do(t, request{method: http.MethodDelete, path: path, token: tok})
	require.Equal(t, http.StatusNoContent, resp.status, "body: %s", resp.body)
	require.Empty(t, resp.body)

	_, err := env.tc.ScheduleClient().GetHandle(context.Background(), "schedule-"+id).Describe(context.Background())
	var notFound *serviceerror.NotFound
	require.ErrorAs(t, err, &notFound, "the Temporal schedule is removed")

	var status string
	require.NoError(t, env.db.Pool.QueryRow(context.Background(), "SELECT status FROM schedules WHERE id = $1", id).Scan(&status))
	require.Equal(t, "DELETED", status, "the row is kept, soft-deleted")

	for _, rq := range []request{
		{method: http.MethodGet, path: path},
		{method: http.MethodDelete, path: path},
		{method: http.MethodPut, path: path, body: map[string]any{"name": "zombie"}},
		{method: http.MethodPost, path: path + "/pause"},
		{method: http.MethodPost, path: path + "/resume"},
		{method: http.MethodGet, path: path + "/runs"},
	} {
		rq.token = tok
		resp := b.do(t, rq)
		require.Equal(t, http.StatusNotFound, resp.status, "%s %s: %s", rq.method, rq.path, resp.body)
		require.Equal(t, "https://schedsvc.dev/problems/not-found", string(resp.problem(t).Type))
	}
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules", token: tok})
	var list api.ScheduleList
	resp.decode(t, &list)
	require.Zero(t, list.Total)
}

func TestRejectedInputCreatesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.limits.MinInterval = 2 * time.Hour })
	o := newOwner()
	tok := tokenFor(t, o)
	with := func(k string, v any) map[string]any {
		body := dailyBody("bad")
		body[k] = v
		return body
	}
	cases := []struct {
		name   string
		rq     request
		status int
		kind   string
	}{
		{"invalid cron", request{body: with("cron_expression", "61 * * * *")}, 422, "invalid-cron"},
		{"seconds field", request{body: with("cron_expression", "0 0 9 * * *")}, 422, "invalid-cron"},
		{"question mark", request{body: with("cron_expression", "0 9 ? * MON")}, 422, "invalid-cron"},
		{"never fires", request{body: with("cron_expression", "0 0 30 2 *")}, 422, "invalid-cron"},
		{"unknown timezone", request{body: with("timezone", "Mars/Olympus")}, 422, "unknown-timezone"},
		{"interval too short", request{body: with("cron_expression", "0 8,9 * * *")}, 422, "interval-too-short"},
		{"budget over cap", request{body: with("max_budget_per_run_usd", 10.5)}, 422, "budget-exceeded"},
		{"negative budget", request{body: with("max_budget_per_run_usd", -1)}, 422, "budget-exceeded"},
		{"empty timezone", request{body: with("timezone", "")}, 422, "unknown-timezone"},
		{"unknown field", request{body: with("cron", "0 9 * * *")}, 400, "unknown-field"},
		{"missing name", request{body: map[string]any{"cron_expression": "0 9 * * *", "task_query": "q"}}, 400, "invalid-request"},
		{"malformed json", request{raw: []byte(`{"name": "x",`)}, 400, "invalid-request"},
		{"wrong content type", request{raw: []byte(`name=x`), contentType: "application/x-www-form-urlencoded"}, 415, "unsupported-media-type"},
		{"body too large", request{body: with("description", strings.Repeat("x", 20<<10))}, 413, "body-too-large"},
		{"timeout too long", request{body: with("timeout_seconds", 86401)}, 400, "invalid-request"},
	}
	for _, c := range cases {
		c.rq.method, c.rq.path, c.rq.token = http.MethodPost, "/api/v1/schedules", tok
		resp := b.do(t, c.rq)
		require.Equal(t, c.status, resp.status, "%s: %s", c.name, resp.body)
		p := resp.problem(t)
		require.Equal(t, "https://schedsvc.dev/problems/"+c.kind, p.Type, c.name)
		require.NotEmpty(t, p.Detail, c.name)
	}
	require.Zero(t, scheduleRowCount(t, o), "no rejected create left a row")

	// The interval error names the two firings that are too close.
	resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: with("cron_expression", "0 8,9 * * *")})
	require.Contains(t, *resp.problem(t).Detail, "09:00")

	// Bad parameters.
	for _, path := range []string{
		"/api/v1/schedules?page_size=101",
		"/api/v1/schedules?page=0",
		"/api/v1/schedules?status=DELETED",
		"/api/v1/schedules/not-a-uuid",
	} {
		resp := b.do(t, request{method: http.MethodGet, path: path, token: tok})
		require.Equal(t, http.StatusBadRequest, resp.status, "%s: %s", path, resp.body)
	}
	resp = b.do(t, request{method: http.MethodGet, path: "/api/v1/nothing-here", token: tok})
	require.Equal(t, http.StatusNotFound, resp.status)
}

func TestLimitHoldsUnderConcurrentCreates(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *setupOptions) { o.limits.MaxPerUser = 3 })
	o := newOwner()
	tok := tokenFor(t, o)
	const attempts = 12
	statuses := make(chan int, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: dailyBody(fmt.Sprintf("race-%d", i))})
			statuses <- resp.status
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	require.Equal(t, map[int]int{http.StatusCreated: 3, http.StatusConflict: attempts - 3}, counts)
	require.Equal(t, 3, scheduleRowCount(t, o))
}

func TestTemporalUnavailableCreatesNothing(t *testing.T) {
	t.Parallel()
	dead, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Namespace: "default", Logger: quietLogger{}})
	require.NoError(t, err)
	t.Cleanup(dead.Close)
	b := setup(t, func(o *setupOptions) { o.temporal = dead; o.callTO = time.Second })
	o := newOwner()
	tok := tokenFor(t, o)

	resp := b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules", token: tok, body: dailyBody("x")})
	require.Equal(t, http.StatusServiceUnavailable, resp.status, "body: %s", resp.body)
	require.Equal(t, "https://schedsvc.dev/problems/service-unavailable", string(resp.problem(t).Type))
	require.NotEmpty(t, resp.header.Get("Retry-After"))
	require.Zero(t, scheduleRowCount(t, o))

	resp = b.do(t, request{method: http.MethodGet, path: "/readyz"})
	require.Equal(t, http.StatusServiceUnavailable, resp.status)
	var ready api.Readiness
	resp.decode(t, &ready)
	require.Equal(t, api.ReadinessStatusNotReady, ready.Status)
	require.Equal(t, "ok", ready.Checks.Postgres)
	require.NotEqual(t, "ok", ready.Checks.Temporal)
}

func TestHealth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp := b.do(t, request{method: http.MethodGet, path: "/healthz"})
	require.Equal(t, http.StatusOK, resp.status)
	resp = b.do(t, request{method: http.MethodGet, path: "/readyz"})
	require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
	var ready api.Readiness
	resp.decode(t, &ready)
	require.Equal(t, api.ReadinessStatusReady, ready.Status)

	down := setup(t, func(o *setupOptions) { o.redisURL = "redis://127.0.0.1:1/0" })
	resp = down.do(t, request{method: http.MethodGet, path: "/readyz"})
	require.Equal(t, http.StatusServiceUnavailable, resp.status)
	resp.decode(t, &ready)
	require.NotEqual(t, "ok", ready.Checks.Redis)
}

// runsOf polls the runs endpoint until done says the list is complete.
func (b *testBundle) waitForRuns(t *testing.T, tok, id string, timeout time.Duration, done func([]api.Run) bool) []api.Run {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp := b.do(t, request{method: http.MethodGet, path: "/api/v1/schedules/" + id + "/runs", token: tok})
		require.Equal(t, http.StatusOK, resp.status, "body: %s", resp.body)
		var list api.RunList
		resp.decode(t, &list)
		if done(list.Runs) {
			return list.Runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs of %s not as expected after %s: %+v", id, timeout, list.Runs)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
