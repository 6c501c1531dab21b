package cron

import (
	"math"
	"math/bits"
	"time"
)

// Firing semantics (cronie's DST rules), in terms of the zone's offset
// periods ("segments", between two transitions):
//
//   - A wall-clock minute that matches the fields and exists exactly once
//     fires at that instant.
//   - A matching wall-clock minute that exists twice (a fall-back repeats it)
//     fires at both instants for a wildcard job (minute or hour field starts
//     with `*`), and only at the first for a fixed-time job.
//   - A matching wall-clock minute that does not exist (a spring-forward skips
//     it) fires nothing for a wildcard job; a fixed-time job fires once at the
//     instant of the jump (the first minute after it), however many of its
//     times were skipped.
//
// All computations work on whole Unix seconds; a "wall" is the wall-clock
// time expressed as seconds since 1970-01-01T00:00 of a naive (UTC) calendar.

const (
	secondsPerDay = 86400
	// searchYears bounds every forward search: the longest gap between two
	// firings of an accepted expression is 8 years (29 February around 2100).
	searchYears = 35
)

// segment is a period with a constant UTC offset: [start, end) in Unix
// seconds; prevOff is the offset in force just before start.
type segment struct {
	start, end   int64
	off, prevOff int64
}

func (c *Schedule) segmentAt(u int64) segment {
	t := time.Unix(u, 0).In(c.loc)
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	s := segment{start: math.MinInt64, end: math.MaxInt64, off: int64(off), prevOff: int64(off)}
	if !start.IsZero() {
		s.start = start.Unix()
		_, po := time.Unix(s.start-1, 0).In(c.loc).Zone()
		s.prevOff = int64(po)
	}
	if !end.IsZero() {
		s.end = end.Unix()
	}
	if s.end <= u {
		// Beyond the zone's transition table Go computes the periods from the
		// zone's rule year by year, and ZoneBounds can return an end at or
		// before the instant itself: at a year boundary, and during the whole
		// of 31 December of leap years (the rule's year is taken as 365 days,
		// Go 1.26). The offset does not change there; probe forward hour by
		// hour until the bounds are sane again.
		s.start, s.prevOff = u, s.off
		s.end = math.MaxInt64
		for p := u + 1; p < u+3*secondsPerDay; p += 3600 {
			_, end2 := time.Unix(p, 0).In(c.loc).ZoneBounds()
			if end2.IsZero() {
				break
			}
			if e := end2.Unix(); e > p {
				s.end = e
				break
			}
		}
	}
	return s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// ceilMinute is the smallest whole minute ≥ x.
func ceilMinute(x int64) int64 { return -floorDiv(-x, 60) * 60 }

func nextBit(mask uint64, from int) (int, bool) {
	if from < 0 {
		from = 0
	}
	if from > 63 {
		return 0, false
	}
	m := mask >> uint(from) << uint(from)
	if m == 0 {
		return 0, false
	}
	return bits.TrailingZeros64(m), true
}

func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// dayMatch applies robfig's rule: AND when either day field is `*`, else OR.
func (c *Schedule) dayMatch(d, wd int) bool {
	domOK := c.dom&(1<<uint(d)) != 0
	dowOK := c.dow&(1<<uint(wd)) != 0
	if c.dayAnd {
		return domOK && dowOK
	}
	return domOK || dowOK
}

// wallMatches reports whether the fields match the wall-clock minute w.
func (c *Schedule) wallMatches(w int64) bool {
	t := time.Unix(w, 0).UTC()
	return t.Second() == 0 && c.month&(1<<uint(t.Month())) != 0 && c.dayMatch(t.Day(), int(t.Weekday())) &&
		c.hour&(1<<uint(t.Hour())) != 0 && c.minute&(1<<uint(t.Minute())) != 0
}

// dateMatches reports whether the fields select the given calendar date.
func (c *Schedule) dateMatches(y int, m time.Month, d int) bool {
	wd := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday())
	return c.month&(1<<uint(m)) != 0 && c.dayMatch(d, wd)
}

// nextWall returns the first matching wall minute in [lo, hi); lo must be a
// whole minute.
func (c *Schedule) nextWall(lo, hi int64) (int64, bool) {
	if bound := lo + searchYears*366*secondsPerDay; hi > bound {
		hi = bound
	}
	if lo >= hi {
		return 0, false
	}
	t := time.Unix(lo, 0).UTC()
	y, mo, d := t.Date()
	h, m := t.Hour(), t.Minute()
	wd := int(t.Weekday())
	dayStart := lo - int64(h*3600+m*60)
	firstMin, _ := nextBit(c.minute, 0)
	for dayStart < hi {
		if c.month&(1<<uint(mo)) == 0 {
			adv := daysIn(mo, y) - d + 1
			dayStart += int64(adv) * secondsPerDay
			wd = (wd + adv) % 7
			d, h, m = 1, 0, 0
			if mo++; mo > time.December {
				mo, y = time.January, y+1
			}
			continue
		}
		if c.dayMatch(d, wd) {
			if hh, ok := nextBit(c.hour, h); ok {
				mm := m
				if hh != h {
					mm = 0
				}
				w := int64(-1)
				if mi, ok := nextBit(c.minute, mm); ok {
					w = dayStart + int64(hh*3600+mi*60)
				} else if hh2, ok := nextBit(c.hour, hh+1); ok {
					w = dayStart + int64(hh2*3600+firstMin*60)
				}
				if w >= 0 {
					if w >= hi {
						return 0, false
					}
					return w, true
				}
			}
		}
		dayStart += secondsPerDay
		wd = (wd + 1) % 7
		h, m = 0, 0
		if d++; d > daysIn(mo, y) {
			d = 1
			if mo++; mo > time.December {
				mo, y = time.January, y+1
			}
		}
	}
	return 0, false
}

// nextUnix returns the first firing strictly after Unix second a.
func (c *Schedule) nextUnix(a int64) (int64, bool) {
	limit := a + searchYears*366*secondsPerDay
	seg := c.segmentAt(a)
	lower := ceilMinute(a + seg.off + 1)
	for {
		lo := lower
		if !c.wildcard && seg.prevOff > seg.off && seg.start != math.MinInt64 {
			// Fixed-time job after a fall-back: the repeated walls already fired.
			lo = max(lo, ceilMinute(seg.start+seg.prevOff))
		}
		hi := int64(math.MaxInt64)
		if seg.end != math.MaxInt64 {
			hi = seg.end + seg.off
		}
		if w, ok := c.nextWall(lo, hi); ok {
			return w - seg.off, true
		}
		if seg.end == math.MaxInt64 || seg.end > limit {
			return 0, false
		}
		next := c.segmentAt(seg.end)
		if !c.wildcard && next.off > seg.off {
			// Spring-forward: the walls [end+off, end+next.off) do not exist;
			// a fixed-time job due then runs once, at the jump.
			if _, ok := c.nextWall(ceilMinute(seg.end+seg.off), seg.end+next.off); ok {
				return seg.end, true
			}
		}
		seg = next
		lower = ceilMinute(seg.start + seg.off)
	}
}

// Next returns the first firing strictly after `after`, in the schedule's
// zone, or the zero time if there is none within 35 years.
func (c *Schedule) Next(after time.Time) time.Time {
	u, ok := c.nextUnix(after.Unix())
	if !ok {
		return time.Time{}
	}
	return time.Unix(u, 0).In(c.loc)
}

// NextN returns the next n firings strictly after `after` (fewer if the
// search bound is reached).
func (c *Schedule) NextN(after time.Time, n int) []time.Time {
	out := make([]time.Time, 0, max(n, 0))
	a := after.Unix()
	for len(out) < n {
		u, ok := c.nextUnix(a)
		if !ok {
			break
		}
		out = append(out, time.Unix(u, 0).In(c.loc))
		a = u
	}
	return out
}

// prevUnix returns the last firing strictly before Unix second b.
func (c *Schedule) prevUnix(b int64) (int64, bool) {
	for window := int64(3600); window < searchYears*366*secondsPerDay*2; window *= 4 {
		var last int64
		found := false
		for u, ok := c.nextUnix(b - window - 1); ok && u < b; u, ok = c.nextUnix(u) {
			last, found = u, true
		}
		if found {
			return last, true
		}
	}
	return 0, false
}

// Prev returns the last firing strictly before `before`, in the schedule's
// zone, or the zero time if there is none within about 35 years.
func (c *Schedule) Prev(before time.Time) time.Time {
	b := before.Unix()
	if before.Nanosecond() != 0 {
		b++ // a firing at the whole second `before` truncates to is still before it
	}
	u, ok := c.prevUnix(b)
	if !ok {
		return time.Time{}
	}
	return time.Unix(u, 0).In(c.loc)
}
