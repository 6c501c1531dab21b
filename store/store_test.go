package store_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"schedsvc/schedules"
	"schedsvc/store"
	"schedsvc/testenv"
)

// pool is one migrated database for the package's tests; each test works
// in a transaction it rolls back, so they never see each other's rows.
var pool *pgxpool.Pool

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	db, err := testenv.CreateDatabase(context.Background(), "schedsvc_store_test")
	if err != nil {
		panic(err)
	}
	pool = db.Pool
	code := m.Run()
	_ = db.Drop(context.Background())
	os.Exit(code)
}

type testBundle struct {
	ctx   context.Context
	store *store.Store
	tx    pgx.Tx
	owner schedules.Owner
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	if pool == nil {
		t.Skip("integration test: needs PostgreSQL (run without -short)")
	}
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	// An owner of its own: tests run in parallel transactions, and one
	// owner's reservations and count serialise on its lock and count row.
	return &testBundle{ctx: ctx, store: store.New(tx), tx: tx, owner: schedules.Owner{UserID: "u-" + uuid.NewString(), TenantID: "t"}}
}

func (b *testBundle) schedule(t *testing.T) schedules.Schedule {
	t.Helper()
	next := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	s, err := b.store.ScheduleInsert(b.ctx, schedules.Schedule{
		ID: uuid.New(), Owner: b.owner, Name: "digest", Description: "d", CronExpression: "0 9 * * *", Timezone: "Europe/Berlin",
		TaskQuery: "summarise", TaskContext: map[string]any{"k": "v"}, MaxBudgetPerRunUSD: 1.2345678, TimeoutSeconds: 60,
		NextRunAt: &next, Executor: schedules.ExecutorHTTP, Overlap: schedules.OverlapBufferOne, PauseAfterFailures: 3,
		Retry: schedules.RetryPolicy{MaxAttempts: 2, InitialBackoffSeconds: 10, MaxBackoffSeconds: 300},
	})
	require.NoError(t, err)
	return s
}

func TestScheduleRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := b.schedule(t)
	require.Equal(t, schedules.StatusActive, in.Status)
	require.InDelta(t, 1.234568, in.MaxBudgetPerRunUSD, 1e-12, "money keeps six decimals")

	got, err := b.store.ScheduleGet(b.ctx, b.owner, in.ID, false)
	require.NoError(t, err)
	require.Equal(t, in, got)
	require.Equal(t, map[string]any{"k": "v"}, got.TaskContext)
	require.Equal(t, schedules.RetryPolicy{MaxAttempts: 2, InitialBackoffSeconds: 10, MaxBackoffSeconds: 300}, got.Retry)

	n, err := b.store.ScheduleCount(b.ctx, b.owner, nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	paused := schedules.StatusPaused
	n, err = b.store.ScheduleCount(b.ctx, b.owner, &paused)
	require.NoError(t, err)
	require.Zero(t, n)

	list, err := b.store.ScheduleList(b.ctx, b.owner, nil, schedules.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []schedules.Schedule{in}, list)
	list, err = b.store.ScheduleList(b.ctx, b.owner, nil, schedules.ListQuery{Limit: 10, After: &schedules.Keyset{At: in.CreatedAt, ID: in.ID}})
	require.NoError(t, err)
	require.Empty(t, list, "nothing after the only schedule")
}

// TestNotFoundKeepsItsCause: another owner's schedule is ErrNotFound, and
// the driver's error is still there for errors.Is.
func TestNotFoundKeepsItsCause(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.schedule(t)
	_, err := b.store.ScheduleGet(b.ctx, schedules.Owner{UserID: b.owner.UserID, TenantID: "other"}, s.ID, false)
	require.ErrorIs(t, err, schedules.ErrNotFound)
	require.ErrorIs(t, err, pgx.ErrNoRows)

	require.NoError(t, b.store.ScheduleSoftDelete(b.ctx, s.ID))
	_, err = b.store.ScheduleGet(b.ctx, b.owner, s.ID, true)
	require.ErrorIs(t, err, schedules.ErrNotFound, "a deleted schedule reads as missing")
	status, err := b.store.ScheduleStatus(b.ctx, s.ID)
	require.NoError(t, err)
	require.Equal(t, schedules.StatusDeleted, status)
}

func TestConflictKeepsItsCause(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k := store.APIKey{ID: uuid.New(), Prefix: "sk_" + uuid.NewString()[:8], Owner: b.owner, Tier: "default"}
	_, err := b.store.APIKeyInsert(b.ctx, k, []byte("hash"))
	require.NoError(t, err)
	k.ID = uuid.New()
	_, err = b.store.APIKeyInsert(b.ctx, k, []byte("hash"))
	require.ErrorIs(t, err, schedules.ErrConflict)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "23505", pgErr.Code)
}

func TestUnavailableKeepsItsCause(t *testing.T) {
	t.Parallel()
	if pool == nil {
		t.Skip("integration test: needs PostgreSQL (run without -short)")
	}
	// Nothing listens on port 1: every query fails to connect.
	dead, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/none?connect_timeout=1")
	require.NoError(t, err)
	defer dead.Close()
	_, err = store.New(dead).ScheduleGetByID(context.Background(), uuid.New(), false)
	require.ErrorIs(t, err, schedules.ErrUnavailable)
	var connErr *pgconn.ConnectError
	require.ErrorAs(t, err, &connErr)
	require.ErrorIs(t, store.New(dead).Ping(context.Background()), schedules.ErrUnavailable)
}

// TestInTxRollsBack: an error from fn undoes everything fn wrote, and a
// failed commit runs the undo hook.
func TestInTxRollsBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	boom := errors.New("boom")
	var id uuid.UUID
	err := b.store.InTx(b.ctx, func(st schedules.Store) error {
		s, err := st.ScheduleInsert(b.ctx, schedules.Schedule{
			ID: uuid.New(), Owner: b.owner, Name: "n", CronExpression: "* * * * *", Timezone: "UTC", TaskQuery: "q",
			TimeoutSeconds: 60, Executor: schedules.ExecutorHTTP, Overlap: schedules.OverlapSkip,
			Retry: schedules.RetryPolicy{MaxAttempts: 1, InitialBackoffSeconds: 1, MaxBackoffSeconds: 1},
		})
		id = s.ID
		require.NoError(t, err)
		return boom
	}, func() { t.Fatal("the commit was never tried") })
	require.ErrorIs(t, err, boom)
	_, err = b.store.ScheduleGetByID(b.ctx, id, false)
	require.ErrorIs(t, err, schedules.ErrNotFound)
}

// TestRunRecordedOnce: a second start of the same workflow id and a second
// completion are no-ops the caller can see.
func TestRunRecordedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.schedule(t)
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	start := schedules.RunStart{ScheduleID: s.ID, WorkflowID: "wf", TemporalRunID: "r", Query: "q", Executor: schedules.ExecutorHTTP, TriggeredAt: at, StartedAt: at}
	inserted, err := b.store.RunInsertStart(b.ctx, start)
	require.NoError(t, err)
	require.True(t, inserted)
	inserted, err = b.store.RunInsertStart(b.ctx, start)
	require.NoError(t, err)
	require.False(t, inserted)

	done := schedules.RunCompletion{
		WorkflowID: "wf", Status: schedules.RunCompleted, CompletedAt: at.Add(1500 * time.Millisecond),
		Usage:    schedules.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7, TotalCostUSD: 0.0000014, ModelUsed: "m"},
		Attempts: []schedules.Attempt{{Number: 1, Status: schedules.RunCompleted, TotalTokens: 7, StartedAt: at, CompletedAt: at}},
	}
	completed, err := b.store.RunComplete(b.ctx, done)
	require.NoError(t, err)
	require.Equal(t, s.ID, completed.ScheduleID)
	_, err = b.store.RunComplete(b.ctx, done)
	require.ErrorIs(t, err, schedules.ErrNotFound, "no RUNNING run is left")

	runs, err := b.store.RunList(b.ctx, s.ID, schedules.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, runs, 1)
	r := runs[0]
	require.Equal(t, schedules.RunCompleted, r.Status)
	require.EqualValues(t, 1500, *r.DurationMS)
	require.Equal(t, "m", *r.ModelUsed)
	require.Nil(t, r.Provider, "an empty provider is stored as NULL")
	require.InDelta(t, 0.000001, r.TotalCostUSD, 1e-12, "rounded to six decimals")
	d, err := b.store.RunGet(b.ctx, s.ID, r.ID)
	require.NoError(t, err)
	require.Len(t, d.Attempts, 1)
	require.EqualValues(t, 7, d.Attempts[0].TotalTokens)
	_, err = b.store.RunGet(b.ctx, uuid.New(), r.ID)
	require.ErrorIs(t, err, schedules.ErrNotFound, "a run is found only through its schedule")
}

// TestRunTextFromOutsideIsStored: an executor's answer with NUL bytes or
// invalid UTF-8 is recorded with U+FFFD in their place, not refused.
func TestRunTextFromOutsideIsStored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.schedule(t)
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	_, err := b.store.RunInsertStart(b.ctx, schedules.RunStart{ScheduleID: s.ID, WorkflowID: "wf-nul", TemporalRunID: "r", Query: "q", TriggeredAt: at, StartedAt: at})
	require.NoError(t, err)
	hostile := "a\x00b\xffc"
	_, err = b.store.RunComplete(b.ctx, schedules.RunCompletion{
		WorkflowID: "wf-nul", Status: schedules.RunFailed, CompletedAt: at, Result: &hostile, ErrorMessage: &hostile,
		Usage:    schedules.Usage{ModelUsed: hostile, Provider: hostile},
		Attempts: []schedules.Attempt{{Number: 1, Status: schedules.RunFailed, ErrorMessage: hostile, ModelUsed: hostile}},
	})
	require.NoError(t, err)
	runs, err := b.store.RunList(b.ctx, s.ID, schedules.ListQuery{Limit: 1})
	require.NoError(t, err)
	want := "a\uFFFDb\uFFFDc"
	require.Equal(t, want, *runs[0].Result)
	require.Equal(t, want, *runs[0].ErrorMessage)
	require.Equal(t, want, *runs[0].ModelUsed)
	require.Equal(t, want, *runs[0].Provider)
	d, err := b.store.RunGet(b.ctx, s.ID, runs[0].ID)
	require.NoError(t, err)
	require.Equal(t, want, d.Attempts[0].ErrorMessage)
}

func TestIdempotencyKeyLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k := store.IdempotencyKey{Owner: b.owner, Key: "k-" + uuid.NewString()}
	_, err := b.store.IdempotencyGet(b.ctx, k)
	require.ErrorIs(t, err, schedules.ErrNotFound)

	claim := uuid.New()
	claimed, err := b.store.IdempotencyClaim(b.ctx, k, []byte("h"), claim, time.Minute, time.Hour)
	require.NoError(t, err)
	require.True(t, claimed)
	claimed, err = b.store.IdempotencyClaim(b.ctx, k, []byte("h"), uuid.New(), time.Minute, time.Hour)
	require.NoError(t, err)
	require.False(t, claimed, "held by the first claim")
	rec, err := b.store.IdempotencyGet(b.ctx, k)
	require.NoError(t, err)
	require.Nil(t, rec.Response, "in flight")

	stored, err := b.store.IdempotencyComplete(b.ctx, k, uuid.New(), store.StoredResponse{Status: 201})
	require.NoError(t, err)
	require.False(t, stored, "only the holder of the claim stores the answer")
	resp := store.StoredResponse{Status: 201, Headers: map[string]string{"Location": "/x"}, Body: []byte(`{}`)}
	stored, err = b.store.IdempotencyComplete(b.ctx, k, claim, resp)
	require.NoError(t, err)
	require.True(t, stored)
	rec, err = b.store.IdempotencyGet(b.ctx, k)
	require.NoError(t, err)
	require.Equal(t, &resp, rec.Response)
	require.Equal(t, []byte("h"), rec.RequestHash)

	other := store.IdempotencyKey{Owner: b.owner, Key: "k-" + uuid.NewString()}
	claim = uuid.New()
	_, err = b.store.IdempotencyClaim(b.ctx, other, []byte("h"), claim, time.Minute, time.Hour)
	require.NoError(t, err)
	require.NoError(t, b.store.IdempotencyRelease(b.ctx, other, claim))
	_, err = b.store.IdempotencyGet(b.ctx, other)
	require.ErrorIs(t, err, schedules.ErrNotFound, "released")
}

// TestReconcileLockIsExclusive: a second holder is turned away while the
// first runs.
func TestReconcileLockIsExclusive(t *testing.T) {
	t.Parallel()
	if pool == nil {
		t.Skip("integration test: needs PostgreSQL (run without -short)")
	}
	ctx := context.Background()
	st := store.New(pool)
	ran, err := st.WithReconcileLock(ctx, func() error {
		again, err := st.WithReconcileLock(ctx, func() error { t.Fatal("ran twice at once"); return nil })
		require.NoError(t, err)
		require.False(t, again)
		return nil
	})
	require.NoError(t, err)
	require.True(t, ran)
}

// TestTriggerIntentClaimedOnce: an intent is claimed by the run of its
// nominal second, once; a run without one was scheduled, and the recorder
// stores the kind it claimed.
func TestTriggerIntentClaimedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.schedule(t)
	at := time.Date(2026, 12, 2, 9, 15, 42, 0, time.UTC)
	require.NoError(t, b.store.TriggerIntentInsert(b.ctx, s.ID, at.Add(300*time.Millisecond), schedules.TriggerManual))
	require.NoError(t, b.store.TriggerIntentInsert(b.ctx, s.ID, at, schedules.TriggerBackfill), "a second intent for the second is a no-op")

	kind, err := b.store.TriggerIntentClaim(b.ctx, s.ID, at.Add(900*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, schedules.TriggerManual, kind, "the first intent stands; claims match by the second")
	kind, err = b.store.TriggerIntentClaim(b.ctx, s.ID, at)
	require.NoError(t, err)
	require.Equal(t, schedules.TriggerScheduled, kind, "claimed once")

	require.NoError(t, b.store.TriggerIntentInsert(b.ctx, s.ID, at, schedules.TriggerManual))
	n, err := b.store.TriggerIntentDeleteStale(b.ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "a fresh intent is not stale")
	n, err = b.store.TriggerIntentDeleteStale(b.ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "an intent written before the cut is removed")

	rec := schedules.NewRecorder(b.store, nil)
	require.NoError(t, b.store.TriggerIntentInsert(b.ctx, s.ID, at, schedules.TriggerBackfill))
	require.NoError(t, rec.RecordStart(b.ctx, schedules.RunStart{ScheduleID: s.ID, WorkflowID: "wf-backfill", TemporalRunID: "r", Query: "q", TriggeredAt: at, StartedAt: at}))
	later := at.Add(time.Hour)
	require.NoError(t, rec.RecordStart(b.ctx, schedules.RunStart{ScheduleID: s.ID, WorkflowID: "wf-scheduled", TemporalRunID: "r", Query: "q", TriggeredAt: later, StartedAt: later}))
	runs, err := b.store.RunList(b.ctx, s.ID, schedules.ListQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	require.Equal(t, schedules.TriggerScheduled, runs[0].Trigger)
	require.Equal(t, schedules.TriggerBackfill, runs[1].Trigger)
}
