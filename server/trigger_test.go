package server_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/gen/api"
)

// runCount counts the schedule's recorded runs in the database, deleted
// schedules' included.
func runCount(t *testing.T, id string) int {
	t.Helper()
	var n int
	require.NoError(t, env.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM schedule_runs WHERE schedule_id = $1", id).Scan(&n))
	return n
}

// intentCount counts the schedule's unclaimed trigger intents.
func intentCount(t *testing.T, id string) int {
	t.Helper()
	var n int
	require.NoError(t, env.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM schedule_triggers WHERE schedule_id = $1", id).Scan(&n))
	return n
}

func finished(n int) func([]api.Run) bool {
	return func(rs []api.Run) bool {
		if len(rs) < n {
			return false
		}
		for _, r := range rs {
			if r.Status == api.RunStatusRUNNING {
				return false
			}
		}
		return true
	}
}

// nextSecond waits for the next whole second: two triggers of a schedule
// in one second are one run (the nominal second is the workflow id's).
func nextSecond() { time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second))) }

func (b *testBundle) trigger(t *testing.T, tok, id string, body any, header map[string]string) response {
	t.Helper()
	return b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/trigger", token: tok, body: body, header: header})
}

// TestTrigger: run now starts one run through the real Temporal server and
// worker, recorded MANUAL at the nominal time answered and counted; a
// paused schedule runs and stays paused; a deleted one is refused.
func TestTrigger(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())
	body := dailyBody("trigger")
	body["task_query"] = "trigger " + randomHex()
	id := b.createSchedule(t, tok, body)

	resp := b.trigger(t, tok, id, nil, nil)
	require.Equal(t, http.StatusAccepted, resp.status, "body: %s", resp.body)
	var accepted api.TriggerAccepted
	resp.decode(t, &accepted)
	require.Equal(t, id, accepted.ScheduleId.String())
	require.Zero(t, accepted.TriggeredAt.Nanosecond(), "the nominal time is whole seconds")
	require.WithinDuration(t, time.Now(), accepted.TriggeredAt, 10*time.Second)

	runs := b.waitForRuns(t, tok, id, 60*time.Second, finished(1))
	require.Len(t, runs, 1)
	require.Equal(t, api.RunTriggerMANUAL, runs[0].Trigger)
	require.Equal(t, api.RunStatusCOMPLETED, runs[0].Status, "error: %v", runs[0].ErrorMessage)
	require.True(t, runs[0].TriggeredAt.Equal(accepted.TriggeredAt), "%s vs %s", runs[0].TriggeredAt, accepted.TriggeredAt)
	s := b.getSchedule(t, tok, id)
	require.EqualValues(t, 1, s.TotalRuns)
	require.EqualValues(t, 1, s.SuccessfulRuns)
	require.InDelta(t, 0.0123, s.TotalCostUsd, 1e-9, "the run counts in the totals")
	require.Zero(t, intentCount(t, id), "the run claimed its intent")

	// Paused: the run happens, the schedule stays paused.
	require.Equal(t, http.StatusOK, b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/pause", token: tok}).status)
	nextSecond()
	resp = b.trigger(t, tok, id, map[string]any{"overlap_policy": "ALLOW_ALL"}, nil)
	require.Equal(t, http.StatusAccepted, resp.status, "body: %s", resp.body)
	runs = b.waitForRuns(t, tok, id, 60*time.Second, finished(2))
	require.Len(t, runs, 2)
	require.Equal(t, api.RunTriggerMANUAL, runs[0].Trigger)
	s = b.getSchedule(t, tok, id)
	require.Equal(t, api.ScheduleStatusPAUSED, s.Status)
	require.EqualValues(t, 2, s.TotalRuns)
	require.True(t, describeTemporal(t, id).Schedule.State.Paused, "Temporal's schedule stays paused")

	events, _ := b.events(t, tok, id, 50)
	var triggered int
	for _, e := range events {
		if e.Kind == api.ScheduleEventKindTriggered {
			triggered++
			require.Equal(t, s.UserId, e.Actor)
			require.NotNil(t, e.Reason)
		}
	}
	require.Equal(t, 2, triggered, "one triggered event per trigger")

	// Deleted: 404, and nothing runs.
	require.Equal(t, http.StatusNoContent, b.do(t, request{method: http.MethodDelete, path: "/api/v1/schedules/" + id, token: tok}).status)
	resp = b.trigger(t, tok, id, nil, nil)
	require.Equal(t, http.StatusNotFound, resp.status)
	require.Zero(t, intentCount(t, id))
	time.Sleep(2 * time.Second)
	require.Equal(t, 2, runCount(t, id))

	// Another tenant's schedule is 404.
	other := b.createSchedule(t, tok, dailyBody("not yours"))
	resp = b.trigger(t, tokenFor(t, newOwner()), other, nil, nil)
	require.Equal(t, http.StatusNotFound, resp.status)
	require.Zero(t, intentCount(t, other))
}

// TestTriggerIdempotent: a retried trigger with the same Idempotency-Key
// gets the first answer and starts no second run.
func TestTriggerIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := tokenFor(t, newOwner())
	id := b.createSchedule(t, tok, dailyBody("trigger once"))
	key := map[string]string{"Idempotency-Key": randomHex()}

	first := b.trigger(t, tok, id, nil, key)
	require.Equal(t, http.StatusAccepted, first.status, "body: %s", first.body)
	nextSecond() // a second trigger would have another nominal time, so another run
	again := b.trigger(t, tok, id, nil, key)
	require.Equal(t, http.StatusAccepted, again.status)
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.body), string(again.body))

	b.waitForRuns(t, tok, id, 60*time.Second, finished(1))
	time.Sleep(3 * time.Second)
	require.Equal(t, 1, runCount(t, id), "the replay started nothing")
	require.EqualValues(t, 1, b.getSchedule(t, tok, id).TotalRuns)
}

// TestBackfill: a past range's firings run as BACKFILL at their nominal
// times; ranges too large, in the future, reversed or empty are refused
// with nothing started or stored; another tenant's schedule is 404.
func TestBackfill(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := newOwner()
	tok := tokenFor(t, o)
	body := map[string]any{"name": "backfill", "cron_expression": "0 9 * * *", "task_query": "backfill " + randomHex()}
	id := b.createSchedule(t, tok, body)
	backfill := func(tok, id string, rq map[string]any) response {
		return b.do(t, request{method: http.MethodPost, path: "/api/v1/schedules/" + id + "/backfill", token: tok, body: rq})
	}
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -4)
	want := []time.Time{day.Add(9 * time.Hour), day.Add(33 * time.Hour), day.Add(57 * time.Hour)}

	refused := func(rq map[string]any, kind, detail string) {
		t.Helper()
		resp := backfill(tok, id, rq)
		require.Equal(t, http.StatusUnprocessableEntity, resp.status, "body: %s", resp.body)
		p := resp.problem(t)
		require.Equal(t, "https://schedsvc.dev/problems/"+kind, string(p.Type))
		require.Contains(t, *p.Detail, detail)
	}
	refused(map[string]any{"start": day.AddDate(0, 0, -200), "end": day}, "backfill-too-large", "holds 200 firings")
	refused(map[string]any{"start": day, "end": time.Now().Add(time.Hour)}, "invalid-range", "in the future")
	refused(map[string]any{"start": day, "end": day.Add(-time.Hour)}, "invalid-range", "before start")
	refused(map[string]any{"start": day, "end": day}, "invalid-range", "no firing")
	require.Zero(t, intentCount(t, id), "a refused backfill stores nothing")

	resp := backfill(tokenFor(t, newOwner()), id, map[string]any{"start": day, "end": day.Add(72*time.Hour - time.Second)})
	require.Equal(t, http.StatusNotFound, resp.status)

	events, _ := b.events(t, tok, id, 50)
	require.Len(t, events, 1, "only the create: refused backfills record nothing")
	time.Sleep(2 * time.Second)
	require.Zero(t, runCount(t, id), "a refused backfill starts nothing")

	resp = backfill(tok, id, map[string]any{"start": day, "end": day.Add(72*time.Hour - time.Second), "overlap_policy": "ALLOW_ALL"})
	require.Equal(t, http.StatusAccepted, resp.status, "body: %s", resp.body)
	var accepted api.BackfillAccepted
	resp.decode(t, &accepted)
	require.Equal(t, 3, accepted.Count)
	require.Len(t, accepted.TriggeredAt, 3)
	for i := range want {
		require.True(t, accepted.TriggeredAt[i].Equal(want[i]), "%s vs %s", accepted.TriggeredAt[i], want[i])
	}

	runs := b.waitForRuns(t, tok, id, 90*time.Second, finished(3))
	require.Len(t, runs, 3)
	var got []time.Time
	for _, r := range runs {
		require.Equal(t, api.RunTriggerBACKFILL, r.Trigger)
		require.Equal(t, api.RunStatusCOMPLETED, r.Status, "error: %v", r.ErrorMessage)
		got = append(got, r.TriggeredAt.UTC())
	}
	slices.SortFunc(got, time.Time.Compare)
	require.Equal(t, want, got)
	require.Zero(t, intentCount(t, id), "every run claimed its intent")
	require.EqualValues(t, 3, b.getSchedule(t, tok, id).TotalRuns)

	events, _ = b.events(t, tok, id, 50)
	require.Equal(t, api.ScheduleEventKindBackfilled, events[0].Kind)
	require.Contains(t, *events[0].Reason, "3 firings")

	// Firings with a run are never run again: a wider range starts only the new one.
	refused(map[string]any{"start": day, "end": day.Add(72*time.Hour - time.Second)}, "invalid-range", "already has a run")
	resp = backfill(tok, id, map[string]any{"start": day, "end": day.Add(96*time.Hour - time.Second), "overlap_policy": "ALLOW_ALL"})
	require.Equal(t, http.StatusAccepted, resp.status, "body: %s", resp.body)
	resp.decode(t, &accepted)
	require.Equal(t, 1, accepted.Count)
	require.True(t, accepted.TriggeredAt[0].Equal(day.Add(81*time.Hour)))
	b.waitForRuns(t, tok, id, 60*time.Second, finished(4))
	time.Sleep(2 * time.Second)
	require.Equal(t, 4, runCount(t, id))
}
