package schedules

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	dbgen "schedsvc/gen/db"
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
	_, err = dbgen.New(db.Pool).ScheduleInsert(ctx, dbgen.ScheduleInsertParams{
		ID: id, UserID: "u", TenantID: "t", Name: "n", CronExpression: "*/5 * * * *", Timezone: "UTC",
		TaskQuery: "q", MaxBudgetPerRunUsd: floatToNumeric(1), TimeoutSeconds: 60,
		TemporalScheduleID: TemporalScheduleID(id), NextRunAt: &next,
	})
	require.NoError(t, err)

	r := NewRecorder(db.Pool)
	triggered := time.Date(2026, 11, 28, 10, 5, 0, 0, time.UTC)
	start := RunStart{ScheduleID: id, WorkflowID: "wf-1", TemporalRunID: "run-1", Query: "q", TriggeredAt: triggered, StartedAt: triggered.Add(time.Second)}
	require.NoError(t, r.RecordStart(ctx, start))
	require.NoError(t, r.RecordStart(ctx, start))

	row, err := dbgen.New(db.Pool).ScheduleGetByID(ctx, id)
	require.NoError(t, err)
	require.EqualValues(t, 1, row.TotalRuns)
	require.True(t, row.LastRunAt.Equal(triggered))
	require.True(t, row.NextRunAt.Equal(time.Date(2026, 11, 28, 10, 10, 0, 0, time.UTC)), "next_run_at moves to the firing after this one: %s", row.NextRunAt)

	done := RunCompletion{WorkflowID: "wf-1", Status: RunCompleted, Result: ptrTo("ok"), TotalTokens: 100, TotalCostUSD: 0.25, CompletedAt: triggered.Add(3 * time.Second)}
	require.NoError(t, r.RecordCompletion(ctx, done))
	require.NoError(t, r.RecordCompletion(ctx, done))
	// A late, different outcome for the same run changes nothing either.
	require.NoError(t, r.RecordCompletion(ctx, RunCompletion{WorkflowID: "wf-1", Status: RunFailed, CompletedAt: time.Now()}))

	row, err = dbgen.New(db.Pool).ScheduleGetByID(ctx, id)
	require.NoError(t, err)
	require.EqualValues(t, 1, row.TotalRuns)
	require.EqualValues(t, 1, row.SuccessfulRuns)
	require.EqualValues(t, 0, row.FailedRuns)
	require.EqualValues(t, 100, row.TotalTokens)
	require.InDelta(t, 0.25, numericToFloat(row.TotalCostUsd), 1e-9)

	runs, err := dbgen.New(db.Pool).RunHistoryListBySchedule(ctx, dbgen.RunHistoryListByScheduleParams{ScheduleID: id, PageSize: 10})
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, "COMPLETED", runs[0].Status)
	require.EqualValues(t, 2000, *runs[0].DurationMs)

	require.ErrorIs(t, r.RecordStart(ctx, RunStart{ScheduleID: uuid.New(), WorkflowID: "wf-x", TriggeredAt: triggered, StartedAt: triggered}), ErrNotFound)
}

func ptrTo[T any](v T) *T { return &v }
