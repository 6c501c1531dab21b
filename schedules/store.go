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
	TriggerStore

	// ScheduleCount counts the owner's live schedules, only those in
	// status when it is set.
	ScheduleCount(ctx context.Context, owner Owner, status *Status) (int64, error)
	// ScheduleCountForLimit counts what the per-user limit counts: the
	// owner's live schedules plus their reservations (creates in flight),
	// in one snapshot.
	ScheduleCountForLimit(ctx context.Context, owner Owner) (int64, error)
	// ScheduleReserve takes one slot of the owner's limit for the schedule
	// id being created when the owner has fewer than maxPerUser live
	// schedules and reservations, atomically under the owner's lock; it
	// returns that count as it was before (a count >= maxPerUser reserved
	// nothing). Reads never see a reservation.
	ScheduleReserve(ctx context.Context, owner Owner, id uuid.UUID, maxPerUser int) (int64, error)
	// ScheduleReservationDelete ends the reservation of id; ErrNotFound when
	// there is none (never made, ended, or reclaimed by the reconciler).
	ScheduleReservationDelete(ctx context.Context, id uuid.UUID) error
	// ScheduleInsert stores a new schedule; Status, counters and times are
	// the database's.
	ScheduleInsert(ctx context.Context, s Schedule) (Schedule, error)
	// ScheduleInsertReserved finishes a create in one atomic statement: it
	// ends the reservation of s.ID and inserts s with its spec refresh
	// time; ErrNotFound (nothing inserted) when the reservation is gone.
	ScheduleInsertReserved(ctx context.Context, s Schedule, specRefreshAt time.Time, actor string) (Schedule, error)
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
	// ScheduleReservationsStale returns up to limit ids of reservations
	// made before before, oldest first: creates whose creator is gone.
	ScheduleReservationsStale(ctx context.Context, before time.Time, limit int) ([]uuid.UUID, error)
	// ScheduleReservationLockStale locks the reservation of id if it is
	// still there and was made before before; ErrNotFound when it is gone,
	// newer, or being finished by its creator right now (skipped, not
	// waited for).
	ScheduleReservationLockStale(ctx context.Context, id uuid.UUID, before time.Time) error
	// ScheduleStatus returns a schedule's status, DELETED included.
	ScheduleStatus(ctx context.Context, id uuid.UUID) (Status, error)
	// WithReconcileLock runs fn while holding the one reconciler lock
	// shared by all replicas; ran is false when another holder has it.
	WithReconcileLock(ctx context.Context, fn func() error) (ran bool, err error)

	// RunInsertStart records a started run, numbered after the schedule's
	// latest (the caller holds the schedule's row lock); inserted is false
	// when the workflow id was recorded before.
	RunInsertStart(ctx context.Context, in RunStart) (inserted bool, err error)
	// RunWorkflowIDsRecorded returns those of workflowIDs that have a
	// recorded run.
	RunWorkflowIDsRecorded(ctx context.Context, workflowIDs []string) ([]string, error)
	// ScheduleComplete marks an active schedule COMPLETED (no next run).
	ScheduleComplete(ctx context.Context, id uuid.UUID) error
	// ScheduleRecordRunStart moves the run counter, last_run_at and
	// next_run_at (left alone when next is nil).
	ScheduleRecordRunStart(ctx context.Context, id uuid.UUID, triggeredAt time.Time, scheduled bool, next *time.Time) error
	// RunComplete stores the outcome of a RUNNING run and returns it with
	// its schedule's cron; ErrNotFound when no such run is RUNNING.
	RunComplete(ctx context.Context, in RunCompletion) (CompletedRun, error)
	// ScheduleRaiseSkippedRuns raises the schedule's skipped-firing count to
	// n (Temporal's running total); a lower n changes nothing.
	ScheduleRaiseSkippedRuns(ctx context.Context, id uuid.UUID, n int64) error
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
