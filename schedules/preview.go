package schedules

import "time"

// Preview is when an expression fires, computed without creating anything.
type Preview struct {
	Description string
	Times       []time.Time // in the zone, so they print with its offset
	Previous    *time.Time  // the last firing before From, if any within reach
}

// Preview validates an expression and zone as Create does, minimum
// interval included, and returns its next count firings after from.
func (m *Manager) Preview(expr, timezone string, count int, from time.Time) (Preview, error) {
	cron, err := m.rules.parseCron(expr, timezone)
	if err != nil {
		return Preview{}, err
	}
	return cronPreview(cron, count, from), nil
}

func cronPreview(cron *CronSchedule, count int, from time.Time) Preview {
	p := Preview{Description: cron.Describe(), Times: cron.NextN(from, count)}
	if prev := cron.Prev(from); !prev.IsZero() {
		p.Previous = &prev
	}
	return p
}

// UpcomingRuns is what a schedule shows about its timing: its next five
// firings and the last one before now. A paused schedule has no next runs.
func UpcomingRuns(s Schedule, now time.Time) (next []time.Time, previous *time.Time) {
	cron, err := ParseCron(s.CronExpression, s.Timezone)
	if err != nil {
		return nil, nil
	}
	p := cronPreview(cron, 5, now)
	if s.Status != StatusActive {
		p.Times = []time.Time{}
	}
	return p.Times, p.Previous
}
