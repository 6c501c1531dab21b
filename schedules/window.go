package schedules

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"schedsvc/problem"
	"schedsvc/schedules/cron"
)

// window is the schedule's start_at/end_at as the cron module takes them.
func window(s Schedule) cron.Window {
	var w cron.Window
	if s.StartAt != nil {
		w.Start = *s.StartAt
	}
	if s.EndAt != nil {
		w.End = *s.EndAt
	}
	return w
}

// countedRuns is the one rule for what max_runs counts: scheduled firings,
// exactly what Temporal's RemainingActions counts (its scheduler decrements
// it only for actions it takes on schedule, never for a trigger or a
// backfill, see canTakeScheduledAction in service/worker/scheduler of
// go.temporal.io/server v1.32.0): the runs recorded with trigger SCHEDULED,
// counted in scheduled_runs by the recording transaction. Manual and
// backfilled runs count in total_runs only.
func countedRuns(s Schedule) int64 { return s.ScheduledRuns }

// remainingRuns is how many runs max_runs still allows; limited is false
// when the schedule has no max_runs.
func remainingRuns(s Schedule) (n int, limited bool) {
	if s.MaxRuns == nil {
		return 0, false
	}
	return max(*s.MaxRuns-int(countedRuns(s)), 0), true
}

// nextRunAt is the schedule's next firing after `after` that may still
// run: inside the window and within max_runs, nil when there is none or
// the schedule is not active.
func nextRunAt(s Schedule, timing *cron.Schedule, after time.Time) *time.Time {
	if s.Status != StatusActive {
		return nil
	}
	if n, limited := remainingRuns(s); limited && n == 0 {
		return nil
	}
	next := timing.NextIn(after, window(s))
	if next.IsZero() {
		return nil
	}
	return &next
}

// exhausted reports whether the schedule can never run again as it is:
// its max_runs are used, or its window has no firing after now.
func exhausted(s Schedule, timing *cron.Schedule, now time.Time) bool {
	if n, limited := remainingRuns(s); limited && n == 0 {
		return true
	}
	return s.EndAt != nil && timing.NextIn(now, window(s)).IsZero()
}

// temporalSpec is the schedule's compiled spec bounded by its window, so
// that Temporal and the row agree on when it may fire.
func temporalSpec(s Schedule, timing *cron.Schedule, now time.Time) client.ScheduleSpec {
	spec := timing.TemporalSpec(now)
	w := window(s)
	spec.StartAt, spec.EndAt = w.Start, w.End
	return spec
}

// temporalState is the Temporal schedule state that carries max_runs as
// limited actions, with paused kept from the described state.
func temporalState(s Schedule, described *client.ScheduleState) *client.ScheduleState {
	state := &client.ScheduleState{}
	if described != nil {
		*state = *described
	}
	n, limited := remainingRuns(s)
	state.LimitedActions, state.RemainingActions = limited, n
	return state
}

// validateWindow refuses a window or limit that can never let the
// schedule run: end_at not after start_at, max_runs below 1, or no firing
// of the expression in the window after now. Create checks every
// schedule; update checks when the window changes.
func validateWindow(s Schedule, timing *cron.Schedule, now time.Time) error {
	if s.MaxRuns != nil && *s.MaxRuns < 1 {
		return problem.Invalid(problem.InvalidField, "max_runs", "max_runs must be at least 1; send null for no limit")
	}
	if s.StartAt != nil && s.EndAt != nil && !s.EndAt.After(*s.StartAt) {
		return problem.Invalid(problem.InvalidField, "end_at", "end_at (%s) must be after start_at (%s)",
			s.EndAt.UTC().Format(time.RFC3339), s.StartAt.UTC().Format(time.RFC3339))
	}
	if s.EndAt != nil && !s.EndAt.After(now) {
		return problem.Invalid(problem.InvalidField, "end_at", "end_at (%s) must be in the future", s.EndAt.UTC().Format(time.RFC3339))
	}
	if s.EndAt != nil && timing.NextIn(now, window(s)).IsZero() {
		return problem.Invalid(problem.InvalidField, "end_at", "%q never fires in %s between the window's start and end_at (%s): widen the window or change the expression",
			s.CronExpression, s.Timezone, s.EndAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// completedReason says why a schedule completed, for its completed event.
func completedReason(s Schedule) string {
	if n, limited := remainingRuns(s); limited && n == 0 {
		return fmt.Sprintf("max_runs (%d) reached", *s.MaxRuns)
	}
	if s.EndAt != nil {
		return fmt.Sprintf("no firing left before end_at (%s)", s.EndAt.UTC().Format(time.RFC3339))
	}
	return "no firing left"
}

// completedRefusal answers a pause or resume of a COMPLETED schedule.
func completedRefusal(verb string) error {
	return problem.Invalid(problem.ScheduleCompleted, "",
		"the schedule is COMPLETED and cannot be %s; update start_at, end_at or max_runs to let it run again, or delete it", verb)
}
