package cron

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The memo must be invisible: at every moment, through firings and DST
// changes, the memoised preview equals one computed from scratch.
func TestPreviewMemoMatchesFreshPreview(t *testing.T) {
	t.Parallel()
	for _, tc := range cronCases[:12] {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			memoised, err := Parse(tc.expr, tc.zone)
			require.NoError(t, err)
			from, err := time.Parse(time.RFC3339, tc.from)
			require.NoError(t, err)
			// Steps of 7m13.5s land inside seconds and, now and then, just
			// past a firing; whole seconds exactly on one are checked too.
			for i := range 400 {
				at := from.Add(time.Duration(i) * (7*time.Minute + 13*time.Second + 500*time.Millisecond))
				fresh, err := parse(tc.expr, tc.zone)
				require.NoError(t, err)
				require.Equal(t, fresh.computePreview(at, 5), memoised.Preview(at, 5), "at %s", at)
			}
			first, err := time.Parse(time.RFC3339, tc.want[0])
			require.NoError(t, err)
			for _, at := range []time.Time{first.Add(-time.Nanosecond), first, first.Add(time.Nanosecond), first.Add(time.Second)} {
				fresh, err := parse(tc.expr, tc.zone)
				require.NoError(t, err)
				require.Equal(t, fresh.computePreview(at, 5), memoised.Preview(at, 5), "at %s", at)
			}
		})
	}
}

func TestParseCacheSharesOnlySuccesses(t *testing.T) {
	t.Parallel()
	a, err := Parse("0 9 * * 1-5", "Europe/Berlin")
	require.NoError(t, err)
	b, err := Parse("0 9 * * 1-5", "Europe/Berlin")
	require.NoError(t, err)
	require.Same(t, a, b)
	c, err := Parse("0 9 * * 1-5", "America/New_York")
	require.NoError(t, err)
	require.NotSame(t, a, c)
	require.Equal(t, "America/New_York", c.loc.String())
	_, err = Parse("0 9 * * 1-5", "Mars/Olympus")
	require.Error(t, err)
	_, err = Parse("0 9 * * 1-5", "Mars/Olympus")
	require.Error(t, err, "a failure is not remembered as a success")
}

// A caller changing what it got must not change what the next caller gets.
func TestPreviewCallersDoNotShareSlices(t *testing.T) {
	t.Parallel()
	c, err := Parse("*/5 * * * *", "UTC")
	require.NoError(t, err)
	at := time.Date(2026, 1, 1, 0, 1, 0, 500, time.UTC)
	p := c.Preview(at, 5)
	want := p.Times[0]
	p.Times[0] = time.Time{}
	*p.Previous = time.Time{}
	q := c.Preview(at, 5)
	require.Equal(t, want, q.Times[0])
	require.False(t, q.Previous.IsZero())
}
