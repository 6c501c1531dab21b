package schedules

import (
	"time"

	"schedsvc/schedules/cron"
)

// Preview is when an expression fires, computed without creating anything.
type Preview = cron.Preview

// Preview validates an expression and zone as Create does, minimum
// interval included, and returns its next count firings after from.
func (m *Manager) Preview(expr, timezone string, count int, from time.Time) (Preview, error) {
	sched, err := m.rules.parseCron(expr, timezone)
	if err != nil {
		return Preview{}, err
	}
	return sched.Preview(from, count), nil
}

// UpcomingRuns is what a schedule shows about its timing: its next five
// firings and the last one before now. A paused schedule has no next runs.
func UpcomingRuns(s Schedule, now time.Time) (next []time.Time, previous *time.Time) {
	sched, err := cron.Parse(s.CronExpression, s.Timezone)
	if err != nil {
		return nil, nil
	}
	p := sched.Preview(now, 5)
	if s.Status != StatusActive {
		p.Times = []time.Time{}
	}
	return p.Times, p.Previous
}
