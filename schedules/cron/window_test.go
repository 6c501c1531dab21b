package cron

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWindowNextIn(t *testing.T) {
	t.Parallel()
	c, err := Parse("0 * * * *", "UTC")
	require.NoError(t, err)
	at := func(h, m int) time.Time { return time.Date(2026, 12, 3, h, m, 0, 0, time.UTC) }

	// The bounds are inclusive, as Temporal's StartAt/EndAt.
	w := Window{Start: at(10, 0), End: at(12, 0)}
	require.True(t, c.NextIn(at(8, 30), w).Equal(at(10, 0)))
	require.True(t, c.NextIn(at(11, 0), w).Equal(at(12, 0)))
	require.True(t, c.NextIn(at(12, 0), w).IsZero())

	// A start inside a second skips the firing at the start of that second.
	w = Window{Start: at(10, 0).Add(500 * time.Millisecond)}
	require.True(t, c.NextIn(at(8, 0), w).Equal(at(11, 0)))

	require.True(t, c.NextIn(at(8, 0), Window{}).Equal(at(9, 0)))
	require.True(t, c.NextIn(at(8, 0), Window{Start: at(8, 10), End: at(8, 50)}).IsZero())
}

func TestWindowPreviewIn(t *testing.T) {
	t.Parallel()
	c, err := Parse("*/15 * * * *", "UTC")
	require.NoError(t, err)
	at := func(h, m int) time.Time { return time.Date(2026, 12, 3, h, m, 0, 0, time.UTC) }
	w := Window{Start: at(10, 0), End: at(10, 30)}

	p := c.PreviewIn(at(9, 0), 5, w)
	require.Len(t, p.Times, 3)
	require.True(t, p.Times[0].Equal(at(10, 0)))
	require.True(t, p.Times[2].Equal(at(10, 30)))
	require.Nil(t, p.Previous, "no firing of the window before from")

	p = c.PreviewIn(at(11, 0), 5, w)
	require.Empty(t, p.Times)
	require.NotNil(t, p.Previous)
	require.True(t, p.Previous.Equal(at(10, 30)))
}
