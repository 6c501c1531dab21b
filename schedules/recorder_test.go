package schedules_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"schedsvc/ptrutil"
	. "schedsvc/schedules"
	"schedsvc/store"
	"schedsvc/testenv"
)

// TestRecorderCountsEachRunOnce replays the activities' calls the way
// Temporal retries them: every call twice. The run and the counters move
// once.
func TestRecorderCountsEachRunOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL")
	}
	ctx := context.Background()
	db, err := testenv.CreateDatabase(ctx, "schedsvc_recorder_test")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Drop(context.Background())) })

	id := uuid.New()
	next := time.Now().Add(time.Hour)
	st := store.New(db.Pool)
	_, err = st.ScheduleInsert(ctx, testSchedule(id, "*/5 * * * *", &next, 0))
	require.NoError(t, err)

	r := NewRecorder(st, nil)
	triggered := time.Date(2026, 11, 28, 10, 5, 0, 0, time.UTC)
	start := RunStart{ScheduleID: id, WorkflowID: "wf-1", TemporalRunID: "run-1", Query: "q", TriggeredAt: triggered, StartedAt: triggered.Add(time.Second)}
	require.NoError(t, r.RecordStart(ctx, start))
	require.NoError(t, r.RecordStart(ctx, start))

	row, err := st.ScheduleGetByID(ctx, id, false)
	require.NoError(t, err)
	require.EqualValues(t, 1, row.TotalRuns)
	require.True(t, row.LastRunAt.Equal(triggered))
	require.True(t, row.NextRunAt.Equal(time.Date(2026, 11, 28, 10, 10, 0, 0, time.UTC)), "next_run_at moves to the firing after this one: %s", row.NextRunAt)

	done := RunCompletion{WorkflowID: "wf-1", Status: RunCompleted, Result: ptrutil.Ptr("ok"), Usage: Usage{TotalTokens: 100, TotalCostUSD: 0.25}, CompletedAt: triggered.Add(3 * time.Second)}
	require.NoError(t, r.RecordCompletion(ctx, done))
	require.NoError(t, r.RecordCompletion(ctx, done))
	// A late, different outcome for the same run changes nothing either.
	require.NoError(t, r.RecordCompletion(ctx, RunCompletion{WorkflowID: "wf-1", Status: RunFailed, CompletedAt: time.Now()}))

	row, err = st.ScheduleGetByID(ctx, id, false)
	require.NoError(t, err)
	require.EqualValues(t, 1, row.TotalRuns)
	require.EqualValues(t, 1, row.SuccessfulRuns)
	require.EqualValues(t, 0, row.FailedRuns)
	require.EqualValues(t, 100, row.TotalTokens)
	require.InDelta(t, 0.25, row.TotalCostUSD, 1e-9)

	runs, err := st.RunList(ctx, id, ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, RunCompleted, runs[0].Status)
	require.EqualValues(t, 2000, *runs[0].DurationMS)

	require.ErrorIs(t, r.RecordStart(ctx, RunStart{ScheduleID: uuid.New(), WorkflowID: "wf-x", TriggeredAt: triggered, StartedAt: triggered}), ErrNotFound)
}

// testSchedule is a minimal valid schedule row.
func testSchedule(id uuid.UUID, cron string, next *time.Time, pauseAfterFailures int) Schedule {
	return Schedule{
		ID: id, Owner: Owner{UserID: "u", TenantID: "t"}, Name: "n", CronExpression: cron, Timezone: "UTC",
		TaskQuery: "q", MaxBudgetPerRunUSD: 1, TimeoutSeconds: 60, NextRunAt: next, Executor: ExecutorHTTP,
		Retry:   RetryPolicy{MaxAttempts: 1, InitialBackoffSeconds: 10, MaxBackoffSeconds: 300},
		Overlap: OverlapSkip, PauseAfterFailures: pauseAfterFailures,
	}
}

// TestRecorderPausesAfterFailures: the pause_after_failures-th consecutive
// failed run pauses the schedule (row and Temporal) with a reason, once,
// however often the completion is retried; a completed run resets the count.
func TestRecorderPausesAfterFailures(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL")
	}
	ctx := context.Background()
	db, err := testenv.CreateDatabase(ctx, "schedsvc_recorder_test")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Drop(context.Background())) })

	id := uuid.New()
	st := store.New(db.Pool)
	_, err = st.ScheduleInsert(ctx, testSchedule(id, "* * * * *", nil, 2))
	require.NoError(t, err)

	sc := &fakeScheduleClient{skipped: 4}
	r := NewRecorder(st, sc)
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	run := func(wf string, status RunStatus, cost float64) {
		t.Helper()
		require.NoError(t, r.RecordStart(ctx, RunStart{ScheduleID: id, WorkflowID: wf, TemporalRunID: "r", Query: "q", Executor: ExecutorHTTP, TriggeredAt: at, StartedAt: at}))
		done := RunCompletion{ScheduleID: id, WorkflowID: wf, Status: status, ErrorMessage: ptrutil.Ptr("boom"), Usage: Usage{TotalTokens: 10, PromptTokens: 7, CompletionTokens: 3,
			TotalCostUSD: cost}, CompletedAt: at.Add(time.Second),
			Attempts: []Attempt{{Number: 1, Status: status, ErrorMessage: "boom", CostUSD: cost, StartedAt: at, CompletedAt: at.Add(time.Second)}}}
		require.NoError(t, r.RecordCompletion(ctx, done))
		require.NoError(t, r.RecordCompletion(ctx, done))
		at = at.Add(time.Minute)
	}

	run("wf-1", RunFailed, 0.1)
	run("wf-2", RunCompleted, 0.1) // resets the count
	run("wf-3", RunTimedOut, 0.1)
	row, err := st.ScheduleGetByID(ctx, id, false)
	require.NoError(t, err)
	require.Equal(t, StatusActive, row.Status)
	require.EqualValues(t, 1, row.ConsecutiveFailures)
	require.Zero(t, sc.pauses)

	// A failed pause of the Temporal schedule rolls the whole completion back.
	sc.pauseErr = errors.New("temporal is down")
	require.NoError(t, r.RecordStart(ctx, RunStart{ScheduleID: id, WorkflowID: "wf-4", TemporalRunID: "r", Query: "q", TriggeredAt: at, StartedAt: at}))
	failed := RunCompletion{ScheduleID: id, WorkflowID: "wf-4", Status: RunFailed, ErrorMessage: ptrutil.Ptr("502 from upstream"), Usage: Usage{TotalCostUSD: 0.1}, CompletedAt: at}
	require.Error(t, r.RecordCompletion(ctx, failed))
	row, err = st.ScheduleGetByID(ctx, id, false)
	require.NoError(t, err)
	require.Equal(t, StatusActive, row.Status)
	require.EqualValues(t, 2, row.FailedRuns, "rolled back")
	events, err := st.EventList(ctx, id, ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, events, "the rolled-back pause left no event")

	sc.pauseErr = nil
	require.NoError(t, r.RecordCompletion(ctx, failed))
	require.NoError(t, r.RecordCompletion(ctx, failed))
	row, err = st.ScheduleGetByID(ctx, id, false)
	require.NoError(t, err)
	require.Equal(t, StatusPaused, row.Status)
	require.Equal(t, "system", *row.PausedBy)
	require.Contains(t, *row.PauseReason, "2 consecutive runs did not complete")
	require.Contains(t, *row.PauseReason, "502 from upstream")
	require.Nil(t, row.NextRunAt)
	require.EqualValues(t, 3, row.FailedRuns)
	require.EqualValues(t, 1, row.SuccessfulRuns)
	require.InDelta(t, 0.4, row.TotalCostUSD, 1e-9, "failed runs' cost counts")
	require.EqualValues(t, 21, row.TotalPromptTokens)
	require.EqualValues(t, 4, row.SkippedRuns, "copied from Temporal's describe")
	require.Equal(t, 1, sc.pauses, "Temporal paused once")
	events, err = st.EventList(ctx, id, ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, events, 1, "one event however often the completion is retried")
	require.Equal(t, EventPausedAfterFailures, events[0].Kind)
	require.Equal(t, ActorSystem, events[0].Actor)
	require.Equal(t, *row.PauseReason, events[0].Reason)

	d, err := st.RunGet(ctx, id, mustRunID(t, st, id, "wf-4"))
	require.NoError(t, err)
	require.True(t, d.PausedSchedule)
	require.Empty(t, d.Attempts)
	d, err = st.RunGet(ctx, id, mustRunID(t, st, id, "wf-1"))
	require.NoError(t, err)
	require.Len(t, d.Attempts, 1)
	require.Equal(t, "boom", d.Attempts[0].ErrorMessage)
	require.Equal(t, 1, d.AttemptCount)
	require.Equal(t, "http", *d.Executor)
}

func mustRunID(t *testing.T, st *store.Store, scheduleID uuid.UUID, workflowID string) uuid.UUID {
	t.Helper()
	runs, err := st.RunList(context.Background(), scheduleID, ListQuery{Limit: 100})
	require.NoError(t, err)
	for _, r := range runs {
		if r.WorkflowID == workflowID {
			return r.ID
		}
	}
	t.Fatalf("no run %s", workflowID)
	return uuid.Nil
}

// fakeScheduleClient answers the recorder's two Temporal calls.
type fakeScheduleClient struct {
	client.ScheduleClient
	skipped  int
	pauses   int
	pauseErr error
}

func (f *fakeScheduleClient) GetHandle(context.Context, string) client.ScheduleHandle {
	return fakeScheduleHandle{f}
}

type fakeScheduleHandle struct{ f *fakeScheduleClient }

func (h fakeScheduleHandle) Pause(context.Context, client.SchedulePauseOptions) error {
	if h.f.pauseErr != nil {
		return h.f.pauseErr
	}
	h.f.pauses++
	return nil
}

func (h fakeScheduleHandle) Describe(context.Context) (*client.ScheduleDescription, error) {
	d := &client.ScheduleDescription{}
	d.Info.NumActionsSkippedOverlap = h.f.skipped
	return d, nil
}

func (fakeScheduleHandle) GetID() string                { return "fake" }
func (fakeScheduleHandle) Delete(context.Context) error { return nil }
func (fakeScheduleHandle) Backfill(context.Context, client.ScheduleBackfillOptions) error {
	return nil
}
func (fakeScheduleHandle) Update(context.Context, client.ScheduleUpdateOptions) error { return nil }
func (fakeScheduleHandle) Trigger(context.Context, client.ScheduleTriggerOptions) error {
	return nil
}
func (fakeScheduleHandle) Unpause(context.Context, client.ScheduleUnpauseOptions) error {
	return nil
}
