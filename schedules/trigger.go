package schedules

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"schedsvc/problem"
	"schedsvc/schedules/cron"
)

// RunTrigger says what started a run: the schedule's own firing, a user's
// "run now", or a backfill of past firings.
type RunTrigger string

const (
	TriggerScheduled RunTrigger = "SCHEDULED"
	TriggerManual    RunTrigger = "MANUAL"
	TriggerBackfill  RunTrigger = "BACKFILL"
)

// TriggerStore is the persistence of trigger intents, part of Store.
// Temporal does not tell a started workflow whether the schedule fired it,
// a trigger or a backfill; an intent written before asking Temporal says so,
// and recording the run's start claims it.
type TriggerStore interface {
	// TriggerIntentInsert notes that a run of the schedule for the nominal
	// time at (truncated to the second) is being asked for as kind; an
	// intent already there for that second stands.
	TriggerIntentInsert(ctx context.Context, scheduleID uuid.UUID, at time.Time, kind RunTrigger) error
	// TriggerIntentClaim removes the intent of the schedule for the nominal
	// second of at and returns its kind; TriggerScheduled when there is none.
	TriggerIntentClaim(ctx context.Context, scheduleID uuid.UUID, at time.Time) (RunTrigger, error)
	// TriggerIntentDeleteStale removes the intents written before before
	// and returns how many.
	TriggerIntentDeleteStale(ctx context.Context, before time.Time) (int64, error)
}

// staleIntentAge is when the reconciler takes an unclaimed intent for a
// start Temporal skipped (its overlap policy) rather than one still
// buffered: a week outlasts any buffered backfill short of 100 runs of
// hours each, and a start claiming nothing is only recorded as SCHEDULED.
const staleIntentAge = 7 * 24 * time.Hour

// Triggered is the run a trigger asked Temporal for.
type Triggered struct {
	ScheduleID  uuid.UUID
	TriggeredAt time.Time // the run's nominal time: now, to the second
}

// Trigger starts one run of the owner's schedule now, through Temporal's
// trigger, paused or not; overlap, when set, replaces the schedule's
// overlap policy for this run. The run is recorded as MANUAL and counts
// like any other. Returns ErrNotFound (deleted or another owner's),
// *problem.Error or ErrUnavailable; on error nothing is started or stored.
func (m *Manager) Trigger(ctx context.Context, owner Owner, id uuid.UUID, overlap *OverlapPolicy) (Triggered, error) {
	if err := checkOverlap(overlap); err != nil {
		return Triggered{}, err
	}
	at := m.now().UTC().Truncate(time.Second)
	err := m.store.InTx(ctx, func(st Store) error {
		// The row lock holds the run's start record back until the intent is
		// committed: the worker locks the row before it claims the intent.
		s, err := st.ScheduleGet(ctx, owner, id, true)
		if err != nil {
			return err
		}
		if err := st.TriggerIntentInsert(ctx, id, at, TriggerManual); err != nil {
			return err
		}
		reason := fmt.Sprintf("run now for %s%s", at.Format(time.RFC3339), overlapNote(overlap))
		if err := recordEvent(ctx, st, Event{ScheduleID: id, Kind: EventTriggered, Actor: owner.UserID, Reason: reason}); err != nil {
			return err
		}
		if err := m.joinTrace(ctx, s); err != nil {
			return err
		}
		return m.temporal.trigger(ctx, id, at, overlap)
	}, nil)
	if err != nil {
		return Triggered{}, fmt.Errorf("trigger schedule %s: %w", id, err)
	}
	return Triggered{ScheduleID: id, TriggeredAt: at}, nil
}

// BackfillInput is a past range whose firings are to be run.
type BackfillInput struct {
	Start, End time.Time      // both included
	Overlap    *OverlapPolicy // nil: the schedule's own
}

// Backfilled is what a backfill asked Temporal for.
type Backfilled struct {
	ScheduleID uuid.UUID
	Times      []time.Time // the nominal times of the runs, oldest first
}

// backfillCountCap bounds the counting of a range's firings for the
// error of a range that holds too many: past it the error says "more than".
const backfillCountCap = 100_000

// Backfill runs the firings the schedule's expression has in [Start, End],
// through Temporal's backfill, paused or not; each run is recorded as
// BACKFILL with its nominal time. Firings with a recorded run are left out. Refused with InvalidRange when End is in
// the future or before Start or the range holds no firing, and with
// BackfillTooLarge when it holds more than the configured maximum.
// Returns ErrNotFound as Trigger does; on error nothing is started or
// stored.
func (m *Manager) Backfill(ctx context.Context, owner Owner, id uuid.UUID, in BackfillInput) (Backfilled, error) {
	if err := checkOverlap(in.Overlap); err != nil {
		return Backfilled{}, err
	}
	if in.End.After(m.now()) {
		return Backfilled{}, problem.Invalid(problem.InvalidRange, "end",
			"end %s is in the future; a backfill runs past firings only (trigger runs one now)", in.End.UTC().Format(time.RFC3339))
	}
	if in.End.Before(in.Start) {
		return Backfilled{}, problem.Invalid(problem.InvalidRange, "end", "end %s is before start %s",
			in.End.UTC().Format(time.RFC3339), in.Start.UTC().Format(time.RFC3339))
	}
	var times []time.Time
	err := m.store.InTx(ctx, func(st Store) error {
		s, err := st.ScheduleGet(ctx, owner, id, true)
		if err != nil {
			return err
		}
		timing, err := cron.Parse(s.CronExpression, s.Timezone)
		if err != nil {
			return fmt.Errorf("stored cron of schedule %s: %w", id, err)
		}
		max := m.rules.limits.BackfillMaxFirings
		var total int
		times, total = firingsBetween(timing, in.Start, in.End, max)
		switch {
		case total == 0:
			return problem.Invalid(problem.InvalidRange, "", "%q in %s has no firing from %s to %s",
				s.CronExpression, s.Timezone, in.Start.UTC().Format(time.RFC3339), in.End.UTC().Format(time.RFC3339))
		case total > max:
			count := fmt.Sprint(total)
			if total > backfillCountCap {
				count = fmt.Sprintf("more than %d", backfillCountCap)
			}
			return problem.Invalid(problem.BackfillTooLarge, "", "the range holds %s firings of %q; at most %d may be backfilled per request: split the range",
				count, s.CronExpression, max)
		}
		if times, err = m.leaveOutRecorded(ctx, st, id, times); err != nil {
			return err
		}
		if len(times) == 0 {
			return problem.Invalid(problem.InvalidRange, "", "every firing from %s to %s already has a run",
				in.Start.UTC().Format(time.RFC3339), in.End.UTC().Format(time.RFC3339))
		}
		for _, t := range times {
			if err := st.TriggerIntentInsert(ctx, id, t, TriggerBackfill); err != nil {
				return err
			}
		}
		reason := fmt.Sprintf("backfill of %d firings from %s to %s%s", len(times),
			times[0].UTC().Format(time.RFC3339), times[len(times)-1].UTC().Format(time.RFC3339), overlapNote(in.Overlap))
		if err := recordEvent(ctx, st, Event{ScheduleID: id, Kind: EventBackfilled, Actor: owner.UserID, Reason: reason}); err != nil {
			return err
		}
		if err := m.joinTrace(ctx, s); err != nil {
			return err
		}
		return m.temporal.backfill(ctx, id, times, in.Overlap)
	}, nil)
	if err != nil {
		return Backfilled{}, fmt.Errorf("backfill schedule %s: %w", id, err)
	}
	return Backfilled{ScheduleID: id, Times: times}, nil
}

// leaveOutRecorded drops the times whose run is recorded already: Temporal
// would start a second workflow of the same id for them, which performs
// the task again but cannot be recorded.
func (m *Manager) leaveOutRecorded(ctx context.Context, st Store, id uuid.UUID, times []time.Time) ([]time.Time, error) {
	ids := make([]string, len(times))
	for i, t := range times {
		ids[i] = runWorkflowID(id, t)
	}
	recorded, err := st.RunWorkflowIDsRecorded(ctx, ids)
	if err != nil || len(recorded) == 0 {
		return times, err
	}
	out := make([]time.Time, 0, len(times))
	for i, t := range times {
		if !slices.Contains(recorded, ids[i]) {
			out = append(out, t)
		}
	}
	return out, nil
}

// firingsBetween returns the first limit firings of timing in [start, end]
// and how many there are in all, counted up to backfillCountCap+1.
func firingsBetween(timing *cron.Schedule, start, end time.Time, limit int) ([]time.Time, int) {
	var times []time.Time
	total := 0
	// Next is strictly after a whole second: one nanosecond back includes
	// a firing exactly at start.
	for t := timing.Next(start.Add(-time.Nanosecond)); !t.IsZero() && !t.After(end) && total <= backfillCountCap; t = timing.Next(t) {
		total++
		if len(times) < limit {
			times = append(times, t.UTC())
		}
	}
	return times, total
}

func checkOverlap(o *OverlapPolicy) error {
	if o == nil {
		return nil
	}
	if _, ok := overlapPolicies[*o]; !ok {
		return problem.Invalid(problem.InvalidField, "overlap_policy", "unknown overlap policy %q", *o)
	}
	return nil
}

func overlapNote(o *OverlapPolicy) string {
	if o == nil {
		return ""
	}
	return fmt.Sprintf(" (overlap policy %s)", *o)
}

// joinTrace writes the schedule's action again, unchanged but for the
// trace context the Temporal client puts in its header: Temporal starts a
// triggered or backfilled run with the action's header, so without this
// the run would be in the trace of the create or update that last wrote
// the action, not of the request that caused it (issue 11 item 8). Later
// scheduled runs are in this request's trace too, as after an update.
func (m *Manager) joinTrace(ctx context.Context, s Schedule) error {
	return m.temporal.update(ctx, s, nil, true, false, "")
}
