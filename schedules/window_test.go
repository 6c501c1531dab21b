package schedules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/ptrutil"
	"schedsvc/schedules/cron"
)

func TestWindowAndRunLimit(t *testing.T) {
	t.Parallel()
	timing, err := cron.Parse("0 * * * *", "UTC")
	require.NoError(t, err)
	now := time.Date(2026, 12, 3, 10, 15, 0, 0, time.UTC)
	s := Schedule{Status: StatusActive, CronExpression: "0 * * * *", Timezone: "UTC"}

	require.True(t, nextRunAt(s, timing, now).Equal(now.Add(45*time.Minute)))
	require.False(t, exhausted(s, timing, now))

	s.MaxRuns, s.TotalRuns, s.ScheduledRuns = ptrutil.Ptr(2), 1, 1
	next, _ := UpcomingRuns(s, now)
	require.Len(t, next, 1, "one run left")
	s.TotalRuns = 5
	next, _ = UpcomingRuns(s, now)
	require.Len(t, next, 1, "manual and backfilled runs do not use max_runs")
	s.ScheduledRuns = 2
	require.Nil(t, nextRunAt(s, timing, now))
	require.True(t, exhausted(s, timing, now))
	require.Equal(t, "max_runs (2) reached", completedReason(s))

	s.MaxRuns = nil
	s.EndAt = ptrutil.Ptr(now.Add(45 * time.Minute))
	require.False(t, exhausted(s, timing, now), "the firing at end_at is in the window")
	require.True(t, exhausted(s, timing, now.Add(45*time.Minute)))

	var m Manager
	old := s
	old.Status = StatusCompleted
	s.EndAt = nil
	require.False(t, m.updateLifecycle(old, &s, timing, now))
	require.Equal(t, StatusActive, s.Status, "clearing end_at reactivates")
}

func TestValidateWindow(t *testing.T) {
	t.Parallel()
	timing, err := cron.Parse("0 9 * * *", "UTC")
	require.NoError(t, err)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { return ptrutil.Ptr(now.Add(d)) }
	for name, s := range map[string]Schedule{
		"end before start": {StartAt: at(2 * time.Hour), EndAt: at(time.Hour)},
		"end in the past":  {EndAt: at(-time.Minute)},
		"no firing":        {StartAt: at(time.Hour), EndAt: at(2 * time.Hour)},
		"max_runs zero":    {MaxRuns: ptrutil.Ptr(0)},
	} {
		require.Error(t, validateWindow(s, timing, now), name)
	}
	require.NoError(t, validateWindow(Schedule{StartAt: at(time.Hour), EndAt: at(23 * time.Hour)}, timing, now))
}
