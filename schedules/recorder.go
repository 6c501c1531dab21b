package schedules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	dbgen "schedsvc/gen/db"
	"schedsvc/ptrutil"
	"schedsvc/schedules/cron"
)

// recorderTemporalTimeout bounds the recorder's calls to Temporal: reading
// the skipped-firing count and pausing a schedule after failures.
const recorderTemporalTimeout = 5 * time.Second

// Recorder writes run history for the worker. Both methods are idempotent
// per workflow id: a retried activity never records a run or moves a
// schedule's counters twice.
type Recorder struct {
	pool     *pgxpool.Pool
	q        *dbgen.Queries
	temporal client.ScheduleClient
}

// NewRecorder returns a Recorder over the pool. sc reads each schedule's
// skipped-firing count and pauses schedules under their failure policy.
func NewRecorder(pool *pgxpool.Pool, sc client.ScheduleClient) *Recorder {
	return &Recorder{pool: pool, q: dbgen.New(pool), temporal: sc}
}

// RunStart is the beginning of one firing of a schedule.
type RunStart struct {
	ScheduleID    uuid.UUID
	WorkflowID    string
	TemporalRunID string
	Query         string
	Executor      Executor
	TriggeredAt   time.Time // the nominal time the schedule fired for
	StartedAt     time.Time
}

// RunCompletion is the outcome of a run.
type RunCompletion struct {
	ScheduleID   uuid.UUID
	WorkflowID   string
	Status       RunStatus
	Result       *string
	ErrorMessage *string
	Usage        // the run's total over all its attempts
	Attempts     []Attempt
	CompletedAt  time.Time
}

// RecordStart inserts the run and moves the schedule's run counter,
// last_run_at and next_run_at in one transaction. Returns ErrNotFound when
// the schedule does not exist.
func (r *Recorder) RecordStart(ctx context.Context, in RunStart) error {
	return r.inTx(ctx, func(q *dbgen.Queries) error {
		sched, err := q.ScheduleGetByID(ctx, in.ScheduleID)
		if err != nil {
			return dbErr("get schedule", err)
		}
		_, err = q.RunInsertStart(ctx, dbgen.RunInsertStartParams{
			ScheduleID:    in.ScheduleID,
			WorkflowID:    in.WorkflowID,
			TemporalRunID: in.TemporalRunID,
			Query:         in.Query,
			TriggeredAt:   in.TriggeredAt,
			StartedAt:     in.StartedAt,
			Executor:      optional(string(in.Executor)),
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // recorded by an earlier attempt
		}
		if err != nil {
			return dbErr("insert run", err)
		}
		var next *time.Time
		if cron, err := cron.Parse(sched.CronExpression, sched.Timezone); err == nil {
			n := cron.Next(in.StartedAt)
			next = &n
		}
		return dbErr("count run start", q.ScheduleRecordRunStart(ctx, dbgen.ScheduleRecordRunStartParams{
			ID: in.ScheduleID, TriggeredAt: in.TriggeredAt, NextRunAt: next,
		}))
	})
}

// RecordCompletion stores the outcome of a RUNNING run and adds it to the
// schedule's counters and totals in one transaction. When the run is the
// schedule's pause_after_failures-th consecutive failure, the same
// transaction pauses the schedule, and the Temporal schedule is paused
// before it commits (a failure to reach Temporal rolls everything back, so
// the retried activity does it all again).
func (r *Recorder) RecordCompletion(ctx context.Context, in RunCompletion) error {
	attempts, err := json.Marshal(nonNil(in.Attempts))
	if err != nil {
		return fmt.Errorf("encode attempts: %w", err)
	}
	// Outside the transaction: a Temporal call must not hold row locks
	// longer than needed, and the count is only ever copied upwards.
	skipped := r.skippedFirings(ctx, in.ScheduleID)
	return r.inTx(ctx, func(q *dbgen.Queries) error {
		scheduleID, err := q.RunComplete(ctx, dbgen.RunCompleteParams{
			WorkflowID:       in.WorkflowID,
			Status:           string(in.Status),
			Result:           in.Result,
			ErrorMessage:     in.ErrorMessage,
			ModelUsed:        ptrutil.NilIfZero(in.ModelUsed),
			Provider:         ptrutil.NilIfZero(in.Provider),
			TotalTokens:      in.TotalTokens,
			TotalCostUsd:     floatToNumeric(in.TotalCostUSD),
			CompletedAt:      &in.CompletedAt,
			PromptTokens:     in.PromptTokens,
			CompletionTokens: in.CompletionTokens,
			AttemptCount:     int32(len(in.Attempts)),
			Attempts:         attempts,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // already completed by an earlier attempt
		}
		if err != nil {
			return dbErr("complete run", err)
		}
		succeeded := in.Status == RunCompleted
		st, err := q.ScheduleRecordRunCompletion(ctx, dbgen.ScheduleRecordRunCompletionParams{
			ID:               scheduleID,
			Succeeded:        succeeded,
			Tokens:           in.TotalTokens,
			PromptTokens:     in.PromptTokens,
			CompletionTokens: in.CompletionTokens,
			CostUsd:          floatToNumeric(in.TotalCostUSD),
			SkippedRuns:      skipped,
		})
		if err != nil {
			return dbErr("count run completion", err)
		}
		if succeeded || st.PauseAfterFailures == 0 || st.ConsecutiveFailures < st.PauseAfterFailures || Status(st.Status) != StatusActive {
			return nil
		}
		return r.pauseAfterFailures(ctx, q, scheduleID, in, int(st.ConsecutiveFailures))
	})
}

func (r *Recorder) pauseAfterFailures(ctx context.Context, q *dbgen.Queries, scheduleID uuid.UUID, in RunCompletion, failures int) error {
	reason := fmt.Sprintf("paused automatically: %d consecutive runs did not complete (pause_after_failures is %d); the last one ended %s",
		failures, failures, in.Status)
	if in.ErrorMessage != nil {
		reason += ": " + truncate(*in.ErrorMessage, 300)
	}
	if err := q.SchedulePauseAfterFailures(ctx, dbgen.SchedulePauseAfterFailuresParams{ID: scheduleID, PauseReason: &reason}); err != nil {
		return dbErr("pause schedule after failures", err)
	}
	if err := q.RunMarkPausedSchedule(ctx, in.WorkflowID); err != nil {
		return dbErr("mark run as pausing its schedule", err)
	}
	return pauseTemporal(ctx, r.temporal, recorderTemporalTimeout, scheduleID, reason)
}

// skippedFirings is Temporal's count of the schedule's firings skipped for
// overlap, or 0 when it cannot be read (the next completion copies it).
func (r *Recorder) skippedFirings(ctx context.Context, id uuid.UUID) int64 {
	if r.temporal == nil || id == uuid.Nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, recorderTemporalTimeout)
	defer cancel()
	d, err := r.temporal.GetHandle(ctx, TemporalScheduleID(id)).Describe(ctx)
	if err != nil {
		return 0
	}
	return int64(d.Info.NumActionsSkippedOverlap)
}

func (r *Recorder) inTx(ctx context.Context, fn func(*dbgen.Queries) error) error {
	tx, err := r.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return dbErr("begin", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after commit
	if err := fn(r.q.WithTx(tx)); err != nil {
		return err
	}
	return dbErr("commit", tx.Commit(ctx))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
