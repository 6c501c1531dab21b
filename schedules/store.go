package schedules

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Store is the persistence the schedules package works through. Package
// store implements it over PostgreSQL and is the only code that knows
// rows, SQL or the driver; everything here speaks domain types.
//
// Error contract, for every method: a missing row is ErrNotFound, a taken
// unique key ErrConflict, an unreachable database ErrUnavailable; each
// wraps its cause, so errors.As still finds the driver's error.
type Store interface {
	// InTx runs fn in one transaction (a savepoint when the Store already is
	// one) and commits when fn returns nil. afterCommitFailure, when set,
	// runs if the commit itself fails: it undoes what fn did outside the
	// database.
	InTx(ctx context.Context, fn func(Store) error, afterCommitFailure func()) error
	EventStore

	// OwnerLock takes the owner's transaction-scoped lock: counting an
	// owner's schedules and inserting one become atomic across replicas.
	OwnerLock(ctx context.Context, owner Owner) error
	// ScheduleCount counts the owner's live schedules, only those in
	// status when it is set.
	ScheduleCount(ctx context.Context, owner Owner, status *Status) (int64, error)
	// ScheduleInsert stores a new schedule; Status, counters and times are
	// the database's.
	ScheduleInsert(ctx context.Context, s Schedule) (Schedule, error)
	// ScheduleGet returns the owner's live schedule; forUpdate locks its
	// row until the transaction ends.
	ScheduleGet(ctx context.Context, owner Owner, id uuid.UUID, forUpdate bool) (Schedule, error)
	// ScheduleGetByID returns a schedule whatever its owner or status;
	// forUpdate locks its row until the transaction ends.
	ScheduleGetByID(ctx context.Context, id uuid.UUID, forUpdate bool) (Schedule, error)
	// ScheduleList returns up to q.Limit of the owner's live schedules,
	// newest first.
	ScheduleList(ctx context.Context, owner Owner, status *Status, q ListQuery) ([]Schedule, error)
	// ScheduleUpdateConfig writes the configuration fields of s.
	ScheduleUpdateConfig(ctx context.Context, s Schedule) (Schedule, error)
	SchedulePause(ctx context.Context, id uuid.UUID, by, reason string) (Schedule, error)
	ScheduleResume(ctx context.Context, id uuid.UUID, by, reason string, next time.Time) (Schedule, error)
	ScheduleSoftDelete(ctx context.Context, id uuid.UUID) error
	// ScheduleSetSpecRefresh records when the Temporal spec must be compiled
	// again.
	ScheduleSetSpecRefresh(ctx context.Context, id uuid.UUID, at time.Time) error
	// ScheduleSetNextRun stores next_run_at of an active schedule.
	ScheduleSetNextRun(ctx context.Context, id uuid.UUID, at time.Time) error

	// ScheduleListLive returns up to limit live schedules with ids above
	// after, in id order: the reconciler's walk.
	ScheduleListLive(ctx context.Context, after uuid.UUID, limit int) ([]LiveSchedule, error)
	// ScheduleLockLive locks a live schedule's row, or returns ErrNotFound
	// when it is gone or another transaction holds it (skipped, not waited
	// for).
	ScheduleLockLive(ctx context.Context, id uuid.UUID) (Schedule, error)
	// ScheduleStatus returns a schedule's status, DELETED included.
	ScheduleStatus(ctx context.Context, id uuid.UUID) (Status, error)
	// WithReconcileLock runs fn while holding the one reconciler lock
	// shared by all replicas; ran is false when another holder has it.
	WithReconcileLock(ctx context.Context, fn func() error) (ran bool, err error)

	// RunInsertStart records a started run, numbered after the schedule's
	// latest (the caller holds the schedule's row lock); inserted is false
	// when the workflow id was recorded before.
	RunInsertStart(ctx context.Context, in RunStart) (inserted bool, err error)
	// ScheduleRecordRunStart moves the run counter, last_run_at and
	// next_run_at (left alone when next is nil).
	ScheduleRecordRunStart(ctx context.Context, id uuid.UUID, triggeredAt time.Time, next *time.Time) error
	// RunComplete stores the outcome of a RUNNING run and returns its
	// schedule; ErrNotFound when no such run is RUNNING.
	RunComplete(ctx context.Context, in RunCompletion) (scheduleID uuid.UUID, err error)
	// ScheduleRecordRunCompletion adds a finished run to the schedule's
	// counters and totals and returns what the failure policy needs.
	ScheduleRecordRunCompletion(ctx context.Context, c RunCounted) (FailureState, error)
	// SchedulePauseAfterFailures pauses an active schedule as the system.
	SchedulePauseAfterFailures(ctx context.Context, id uuid.UUID, reason string) error
	// RunMarkPausedSchedule notes that the run paused its schedule.
	RunMarkPausedSchedule(ctx context.Context, workflowID string) error
	// RunList returns up to q.Limit of the schedule's runs, newest (highest
	// Seq) first; q.After is a Seq and q.Offset counts down from the latest.
	RunList(ctx context.Context, scheduleID uuid.UUID, q ListQuery) ([]Run, error)
	// RunGet returns one of the schedule's runs with its attempts.
	RunGet(ctx context.Context, scheduleID, runID uuid.UUID) (RunDetail, error)
}

// ListQuery selects the rows of one newest-first page: those after the
// keyset position After when it is set, else from Offset.
type ListQuery struct {
	After  *Keyset
	Offset int
	Limit  int
}

// Keyset is a position in a newest-first list: schedules are ordered by
// creation time and id, runs by their sequence number.
type Keyset struct {
	At  time.Time
	ID  uuid.UUID
	Seq int64 // set for runs only
}

// LiveSchedule is a schedule as the reconciler's walk sees it.
type LiveSchedule struct {
	ID            uuid.UUID
	SpecRefreshAt *time.Time
}

// RunCounted is a finished run as the schedule's counters take it.
type RunCounted struct {
	ScheduleID  uuid.UUID
	Succeeded   bool
	Usage       Usage
	SkippedRuns int64 // Temporal's running count of firings skipped for overlap
}

// FailureState is what the failure policy decides on after a run.
type FailureState struct {
	Status              Status
	ConsecutiveFailures int
	PauseAfterFailures  int
}
