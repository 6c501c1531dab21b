package schedules

import (
	"context"
	"errors"
	"fmt"
	"schedsvc/schedules/cron"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
)

// recorderTemporalTimeout bounds the recorder's calls to Temporal: reading
// the skipped-firing count and pausing a schedule after failures.
const recorderTemporalTimeout = 5 * time.Second

// Recorder writes run history for the worker. Both methods are idempotent
// per workflow id: a retried activity never records a run or moves a
// schedule's counters twice.
type Recorder struct {
	store    Store
	temporal temporalSchedules
}

// NewRecorder returns a Recorder over the store. sc reads each schedule's
// skipped-firing count and pauses schedules under their failure policy.
func NewRecorder(st Store, sc client.ScheduleClient) *Recorder {
	return &Recorder{store: st, temporal: temporalSchedules{client: sc, cfg: TemporalConfig{CallTimeout: recorderTemporalTimeout}}}
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
	// Trigger is what started the run; RecordStart sets it from the
	// trigger intent it claims.
	Trigger RunTrigger
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
// last_run_at and next_run_at in one transaction, claiming the trigger or
// backfill intent of the run's nominal second in it (none: the schedule
// fired it); when the run is the last its window and max_runs allow, the
// same transaction completes the schedule. Returns ErrNotFound when the
// schedule does not exist.
func (r *Recorder) RecordStart(ctx context.Context, in RunStart) error {
	return r.store.InTx(ctx, func(st Store) error {
		// The row lock numbers this schedule's runs one at a time.
		sched, err := st.ScheduleGetByID(ctx, in.ScheduleID, true)
		if err != nil {
			return err
		}
		// After the row lock: a trigger holds it until its intent commits.
		if in.Trigger, err = st.TriggerIntentClaim(ctx, in.ScheduleID, in.TriggeredAt); err != nil {
			return err
		}
		inserted, err := st.RunInsertStart(ctx, in)
		if err != nil || !inserted {
			return err // !inserted: recorded by an earlier attempt
		}
		scheduled := in.Trigger == TriggerScheduled || in.Trigger == ""
		timing, err := cron.Parse(sched.CronExpression, sched.Timezone)
		if err != nil {
			return st.ScheduleRecordRunStart(ctx, in.ScheduleID, in.TriggeredAt, scheduled, nil)
		}
		sched.TotalRuns++ // as ScheduleRecordRunStart counts them
		if scheduled {
			sched.ScheduledRuns++
		}
		if err := st.ScheduleRecordRunStart(ctx, in.ScheduleID, in.TriggeredAt, scheduled, nextRunAt(sched, timing, in.StartedAt)); err != nil {
			return err
		}
		return completeIfExhausted(ctx, st, sched, timing, in.StartedAt, ActorSystem)
	}, nil)
}

// completeIfExhausted marks an active schedule COMPLETED, with its
// completed event, when its window and run limit allow no more runs after
// now; the caller holds the row lock. Temporal needs no call: its
// remaining actions and end time stop it by themselves.
func completeIfExhausted(ctx context.Context, st Store, s Schedule, timing *cron.Schedule, now time.Time, actor string) error {
	if s.Status != StatusActive || !exhausted(s, timing, now) {
		return nil
	}
	if err := st.ScheduleComplete(ctx, s.ID); err != nil {
		return err
	}
	return recordEvent(ctx, st, Event{ScheduleID: s.ID, Kind: EventCompleted, Actor: actor, Reason: completedReason(s)})
}

// CompletedRun is a run RunComplete has just completed.
type CompletedRun struct {
	ScheduleID     uuid.UUID
	TriggeredAt    time.Time
	StartedAt      time.Time
	CronExpression string // the schedule's
	Timezone       string
}

// skipCheckAfter is how long a run must have gone on before its completion
// asks Temporal whether a firing was skipped meanwhile; see mayHaveSkipped.
const skipCheckAfter = time.Second

// RecordCompletion stores the outcome of a RUNNING run and adds it to the
// schedule's counters and totals in one transaction. When the run is the
// schedule's pause_after_failures-th consecutive failure, the same
// transaction pauses the schedule, and the Temporal schedule is paused
// before it commits (a failure to reach Temporal rolls everything back, so
// the retried activity does it all again). When Temporal can have skipped a
// firing while the run went on, the schedule's skipped count is then copied
// from Temporal.
func (r *Recorder) RecordCompletion(ctx context.Context, in RunCompletion) error {
	var done CompletedRun
	err := r.store.InTx(ctx, func(st Store) error {
		var err error
		done, err = st.RunComplete(ctx, in)
		if errors.Is(err, ErrNotFound) {
			return nil // already completed by an earlier attempt
		}
		if err != nil {
			return err
		}
		succeeded := in.Status == RunCompleted
		fs, err := st.ScheduleRecordRunCompletion(ctx, RunCounted{ScheduleID: done.ScheduleID, Succeeded: succeeded, Usage: in.Usage})
		if err != nil {
			return err
		}
		if succeeded || fs.PauseAfterFailures == 0 || fs.ConsecutiveFailures < fs.PauseAfterFailures || fs.Status != StatusActive {
			return nil
		}
		return r.pauseAfterFailures(ctx, st, done.ScheduleID, in, fs)
	}, nil)
	if err != nil || done.ScheduleID == uuid.Nil || !mayHaveSkipped(done, in.CompletedAt) {
		return err
	}
	// After the commit: a Temporal call must not hold row locks, and the
	// count is only ever copied upwards, so a failure here only leaves it
	// for the next long run or the reconciler (CopySkippedFirings).
	if skipped := r.temporal.skippedFirings(ctx, done.ScheduleID); skipped > 0 {
		return r.store.ScheduleRaiseSkippedRuns(ctx, done.ScheduleID, skipped)
	}
	return nil
}

// mayHaveSkipped tells whether Temporal can have skipped one of the
// schedule's firings, under its overlap policy, while the run went on: a
// firing of the cron fell between the run's nominal time and its
// completion, or the run lasted skipCheckAfter or longer, long enough for a
// trigger or backfill to have come meanwhile. Most runs are short and
// between firings, and their completion then makes no call to Temporal (a
// describe of a schedule is a query of its scheduler workflow on the
// Temporal server, the dearest call a run made).
func mayHaveSkipped(run CompletedRun, completedAt time.Time) bool {
	if completedAt.Sub(run.StartedAt) >= skipCheckAfter {
		return true
	}
	timing, err := cron.Parse(run.CronExpression, run.Timezone)
	if err != nil {
		return true
	}
	return !timing.Next(run.TriggeredAt).After(completedAt)
}

// CopySkippedFirings copies Temporal's count of the schedule's firings
// skipped for overlap (from a describe the caller made anyway, such as the
// reconciler's) when it is above the count the row holds. Completions of
// short runs do not ask Temporal (see mayHaveSkipped), so a trigger that
// came during one is counted here.
func CopySkippedFirings(ctx context.Context, st Store, id uuid.UUID, known int64, desc *client.ScheduleDescription) error {
	if desc == nil || int64(desc.Info.NumActionsSkippedOverlap) <= known {
		return nil
	}
	return st.ScheduleRaiseSkippedRuns(ctx, id, int64(desc.Info.NumActionsSkippedOverlap))
}

func (r *Recorder) pauseAfterFailures(ctx context.Context, st Store, scheduleID uuid.UUID, in RunCompletion, fs FailureState) error {
	reason := fmt.Sprintf("paused automatically: %d consecutive runs did not complete (pause_after_failures is %d); the last one ended %s",
		fs.ConsecutiveFailures, fs.PauseAfterFailures, in.Status)
	if in.ErrorMessage != nil {
		reason += ": " + truncate(*in.ErrorMessage, 300)
	}
	if err := st.SchedulePauseAfterFailures(ctx, scheduleID, reason); err != nil {
		return err
	}
	if err := recordEvent(ctx, st, Event{ScheduleID: scheduleID, Kind: EventPausedAfterFailures, Actor: ActorSystem, Reason: reason}); err != nil {
		return err
	}
	if err := st.RunMarkPausedSchedule(ctx, in.WorkflowID); err != nil {
		return err
	}
	return r.temporal.pause(ctx, scheduleID, reason)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
