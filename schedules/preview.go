package schedules

import (
	"time"

	"schedsvc/problem"
	"schedsvc/schedules/cron"
)

// Preview is when an expression fires, computed without creating anything.
type Preview = cron.Preview

// Window is a time window as the preview takes it; zero bounds are open.
type Window = cron.Window

// Preview validates an expression and zone as Create does, minimum
// interval included, and returns its next count firings after from inside
// the window w (fewer when the window ends first). A window that ends
// before it starts is refused as Create refuses it.
func (m *Manager) Preview(expr, timezone string, count int, from time.Time, w Window) (Preview, error) {
	sched, err := m.rules.parseCron(expr, timezone)
	if err != nil {
		return Preview{}, err
	}
	if !w.Start.IsZero() && !w.End.IsZero() && !w.End.After(w.Start) {
		return Preview{}, problem.Invalid(problem.InvalidField, "end_at", "end_at (%s) must be after start_at (%s)",
			w.End.UTC().Format(time.RFC3339), w.Start.UTC().Format(time.RFC3339))
	}
	return sched.PreviewIn(from, count, w), nil
}

// UpcomingRuns is what a schedule shows about its timing: its next five
// firings inside its window and within its max_runs, and the last one
// before now. A schedule that is not active has no next runs.
func UpcomingRuns(s Schedule, now time.Time) (next []time.Time, previous *time.Time) {
	sched, err := cron.Parse(s.CronExpression, s.Timezone)
	if err != nil {
		return nil, nil
	}
	p := sched.PreviewIn(now, 5, window(s))
	if n, limited := remainingRuns(s); limited && n < len(p.Times) {
		p.Times = p.Times[:n]
	}
	if s.Status != StatusActive {
		p.Times = []time.Time{}
	}
	return p.Times, p.Previous
}
