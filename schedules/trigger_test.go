package schedules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/schedules/cron"
)

// TestFiringsBetween: both ends included, at most limit times returned, the
// whole range counted up to the cap.
func TestFiringsBetween(t *testing.T) {
	t.Parallel()
	daily, err := cron.Parse("0 9 * * *", "UTC")
	require.NoError(t, err)
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

	times, total := firingsBetween(daily, day.Add(9*time.Hour), day.Add(57*time.Hour), 100)
	require.Equal(t, 3, total, "a firing exactly at start and exactly at end are both in")
	require.Equal(t, []time.Time{day.Add(9 * time.Hour), day.Add(33 * time.Hour), day.Add(57 * time.Hour)}, times)

	times, total = firingsBetween(daily, day.Add(9*time.Hour+time.Millisecond), day.Add(57*time.Hour-time.Millisecond), 100)
	require.Equal(t, 1, total, "just after start and just before end are out")
	require.Len(t, times, 1)

	times, total = firingsBetween(daily, day, day.AddDate(0, 0, 200), 100)
	require.Equal(t, 200, total)
	require.Len(t, times, 100)

	minutely, err := cron.Parse("* * * * *", "UTC")
	require.NoError(t, err)
	_, total = firingsBetween(minutely, day, day.AddDate(1, 0, 0), 100)
	require.Equal(t, backfillCountCap+1, total, "counting stops past the cap")

	_, total = firingsBetween(daily, day, day, 100)
	require.Zero(t, total)
}
