package cron

import "time"

// Preview is when a schedule fires around a moment: what the API shows for
// an expression before it is created and for a schedule that exists.
type Preview struct {
	Description string
	Times       []time.Time // in the zone, so they print with its offset
	Previous    *time.Time  // the last firing before from, if any within reach
}

// Preview returns the description, the next count firings after from and
// the last firing before it.
func (c *Schedule) Preview(from time.Time, count int) Preview {
	return c.memoPreview(from, count)
}

func (c *Schedule) computePreview(from time.Time, count int) Preview {
	p := Preview{Description: c.Describe(), Times: c.NextN(from, count)}
	if prev := c.Prev(from); !prev.IsZero() {
		p.Previous = &prev
	}
	return p
}
