package schedules

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbgen "schedsvc/gen/db"
)

// Recorder writes run history for the worker. Both methods are idempotent
// per workflow id: a retried activity never records a run or moves a
// schedule's counters twice.
type Recorder struct {
	pool *pgxpool.Pool
	q    *dbgen.Queries
}

// NewRecorder returns a Recorder over the pool.
func NewRecorder(pool *pgxpool.Pool) *Recorder {
	return &Recorder{pool: pool, q: dbgen.New(pool)}
}

// RunStart is the beginning of one firing of a schedule.
type RunStart struct {
	ScheduleID    uuid.UUID
	WorkflowID    string
	TemporalRunID string
	Query         string
	TriggeredAt   time.Time // the nominal time the schedule fired for
	StartedAt     time.Time
}

// RunCompletion is the outcome of a run.
type RunCompletion struct {
	WorkflowID   string
	Status       RunStatus
	Result       *string
	ErrorMessage *string
	ModelUsed    *string
	Provider     *string
	TotalTokens  int64
	TotalCostUSD float64
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
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // recorded by an earlier attempt
		}
		if err != nil {
			return dbErr("insert run", err)
		}
		var next *time.Time
		if cron, err := ParseCron(sched.CronExpression, sched.Timezone); err == nil {
			n := cron.Next(in.StartedAt)
			next = &n
		}
		return dbErr("count run start", q.ScheduleRecordRunStart(ctx, dbgen.ScheduleRecordRunStartParams{
			ID: in.ScheduleID, TriggeredAt: in.TriggeredAt, NextRunAt: next,
		}))
	})
}

// RecordCompletion stores the outcome of a RUNNING run and adds it to the
// schedule's counters and totals in one transaction.
func (r *Recorder) RecordCompletion(ctx context.Context, in RunCompletion) error {
	return r.inTx(ctx, func(q *dbgen.Queries) error {
		scheduleID, err := q.RunComplete(ctx, dbgen.RunCompleteParams{
			WorkflowID:   in.WorkflowID,
			Status:       string(in.Status),
			Result:       in.Result,
			ErrorMessage: in.ErrorMessage,
			ModelUsed:    in.ModelUsed,
			Provider:     in.Provider,
			TotalTokens:  in.TotalTokens,
			TotalCostUsd: floatToNumeric(in.TotalCostUSD),
			CompletedAt:  &in.CompletedAt,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // already completed by an earlier attempt
		}
		if err != nil {
			return dbErr("complete run", err)
		}
		return dbErr("count run completion", q.ScheduleRecordRunCompletion(ctx, dbgen.ScheduleRecordRunCompletionParams{
			ID:        scheduleID,
			Succeeded: in.Status == RunCompleted,
			Tokens:    in.TotalTokens,
			CostUsd:   floatToNumeric(in.TotalCostUSD),
		}))
	})
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
