package cron

import "time"

// Window bounds when a schedule may fire: not before Start, not after End,
// both inclusive as Temporal's ScheduleSpec StartAt/EndAt are (its
// scheduler skips times before start_time and after end_time). A zero
// bound is open.
type Window struct {
	Start, End time.Time
}

// Contains reports whether a firing at t is inside the window.
func (w Window) Contains(t time.Time) bool {
	return (w.Start.IsZero() || !t.Before(w.Start)) && (w.End.IsZero() || !t.After(w.End))
}

// NextIn returns the first firing strictly after `after` inside the window,
// or the zero time when there is none.
func (c *Schedule) NextIn(after time.Time, w Window) time.Time {
	if !w.Start.IsZero() && after.Before(w.Start) {
		// A firing exactly at Start is in the window: search from just before it.
		after = w.Start.Add(-time.Second)
	}
	for {
		n := c.Next(after)
		if n.IsZero() || !w.End.IsZero() && n.After(w.End) {
			return time.Time{}
		}
		if w.Contains(n) {
			return n
		}
		after = n // sub-second Start: the firing in its second is before it
	}
}

// PreviewIn is Preview restricted to the window: the next firings inside
// it (fewer when it ends first) and the last firing before from inside it.
func (c *Schedule) PreviewIn(from time.Time, count int, w Window) Preview {
	if w == (Window{}) {
		return c.Preview(from, count)
	}
	p := Preview{Description: c.Describe(), Times: make([]time.Time, 0, max(count, 0))}
	for t := from; len(p.Times) < count; {
		n := c.NextIn(t, w)
		if n.IsZero() {
			break
		}
		p.Times = append(p.Times, n)
		t = n
	}
	before := from
	if !w.End.IsZero() && w.End.Before(before) {
		before = w.End.Add(time.Second)
	}
	if prev := c.Prev(before); !prev.IsZero() && w.Contains(prev) {
		p.Previous = &prev
	}
	return p
}
