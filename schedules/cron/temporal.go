package cron

import (
	"math"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
)

// Compiling into a Temporal ScheduleSpec
//
// Temporal's calendar search (server 1.32, service/worker/scheduler
// calendar.go) is exact on wall-clock times that exist once, but around a
// zone transition it skips, shifts or repeats times depending on the zone
// (time.Date's choice for ambiguous and missing times, plus a "repeat the
// hour with +1h" rule when an hour is longer than an hour). Skip calendars
// cannot repair this: they match the wall clock, so they suppress both
// instants of a repeated time, interval times included.
//
// So the spec is built so that Temporal's calendars never look at a
// wall-clock hour touched by a transition within the horizon:
//
//   - the calendars of the expression are split by Year/Month/DayOfMonth so
//     that they exclude the dates that have such hours, and date-specific
//     calendars put back the other hours of those dates;
//   - every firing of ours in an excluded hour (and every spring-forward
//     firing at the jump) becomes a one-instant interval: Every 20,000 days
//     with the instant as phase (the next repetition is ~55 years later).
//
// Transitions after the horizon are not compiled in: the spec must be
// rebuilt before SpecRefreshAfter.

const (
	// temporalHorizon is how far ahead TemporalSpec fixes the zone's transitions.
	temporalHorizon = 400 * 24 * time.Hour
	// oneShotEvery is the period of the one-instant intervals (100 years is
	// ignored by the server; 20,000 days is measured to work).
	oneShotEvery = 20000 * 24 * time.Hour
	// Temporal's calendar years are limited to [2000, 2100].
	temporalMinYear = 2000
	temporalMaxYear = 2100
	// refreshMargin: how long before the first uncompiled transition the
	// spec must be rebuilt.
	refreshMargin = 48 * time.Hour
	maxCommentLen = 200
)

// TemporalSpec compiles the schedule into a Temporal ScheduleSpec whose
// action times are exactly the firings of Next, from now until
// SpecRefreshAfter(now) (and beyond it for zones without transitions).
func (c *Schedule) TemporalSpec(now time.Time) client.ScheduleSpec {
	return c.temporalSpec(now, now.Add(temporalHorizon))
}

// SpecRefreshAfter returns the time before which the spec returned by
// TemporalSpec(now) must be rebuilt (with a later now): two days before the
// first transition of the zone that the spec does not cover. It returns the
// zero time when the zone has no transition after the horizon (the spec is
// then valid for good).
func (c *Schedule) SpecRefreshAfter(now time.Time) time.Time {
	end := now.Add(temporalHorizon).Unix()
	for _, tr := range c.transitions(end, end+60*366*secondsPerDay) {
		if tr.at > end {
			return time.Unix(tr.at, 0).Add(-refreshMargin).In(c.loc)
		}
	}
	return time.Time{}
}

type transition struct {
	at                  int64 // Unix seconds
	offBefore, offAfter int64
}

// transitions lists the offset changes of the zone in (from, to].
func (c *Schedule) transitions(from, to int64) []transition {
	var out []transition
	for seg := c.segmentAt(from); seg.end != math.MaxInt64 && seg.end <= to; {
		next := c.segmentAt(seg.end)
		if next.off != seg.off {
			out = append(out, transition{at: seg.end, offBefore: seg.off, offAfter: next.off})
		}
		seg = next
	}
	return out
}

type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOfWall(w int64) civilDate {
	t := time.Unix(w, 0).UTC()
	return civilDate{t.Year(), t.Month(), t.Day()}
}

func (c *Schedule) temporalSpec(now, horizonEnd time.Time) client.ScheduleSpec {
	spec := client.ScheduleSpec{TimeZoneName: c.loc.String()}
	trs := c.transitions(now.Unix()-2*secondsPerDay, horizonEnd.Unix())

	// Wall-clock hours touched by each transition: the missing or repeated
	// walls, and the hour before them (Temporal's hour-rollover check).
	excluded := map[civilDate]uint64{} // date → hour mask
	for _, tr := range trs {
		lo := min(tr.at+tr.offBefore, tr.at+tr.offAfter)
		hi := max(tr.at+tr.offBefore, tr.at+tr.offAfter)
		for h := floorDiv(lo, 3600)*3600 - 3600; h < hi; h += 3600 {
			d := dateOfWall(h)
			excluded[d] |= 1 << uint(floorDiv(h, 3600)-floorDiv(h, secondsPerDay)*24)
		}
	}
	if len(excluded) == 0 {
		spec.Calendars = c.baseCalendars(nil)
		return spec
	}
	spec.Calendars = c.splitCalendars(excluded)

	// Our firings that the calendars do not produce become one-instant intervals.
	seen := map[int64]bool{}
	for _, tr := range trs {
		from := max(tr.at-2*secondsPerDay, now.Unix()-1)
		for u, ok := c.nextUnix(from); ok && u <= tr.at+2*secondsPerDay; u, ok = c.nextUnix(u) {
			_, off := time.Unix(u, 0).In(c.loc).Zone()
			w := u + int64(off)
			hourOfDay := floorDiv(w, 3600) - floorDiv(w, secondsPerDay)*24
			if excluded[dateOfWall(w)]&(1<<uint(hourOfDay)) == 0 && c.wallMatches(w) {
				continue // a calendar produces it
			}
			if !seen[u] {
				seen[u] = true
				spec.Intervals = append(spec.Intervals, oneShot(u))
			}
		}
	}
	slices.SortFunc(spec.Intervals, func(a, b client.ScheduleIntervalSpec) int { return int(a.Offset - b.Offset) })
	return spec
}

func oneShot(u int64) client.ScheduleIntervalSpec {
	every := int64(oneShotEvery / time.Second)
	phase := u % every
	if phase < 0 {
		phase += every
	}
	return client.ScheduleIntervalSpec{Every: oneShotEvery, Offset: time.Duration(phase) * time.Second}
}

func (c *Schedule) comment() string {
	s := c.expr
	if len(s) > maxCommentLen {
		s = s[:maxCommentLen]
	}
	return s
}

// calSpec builds a calendar with every field set explicitly (the SDK
// defaults a nil Second/Minute/Hour to 0, not to `*`).
func calSpec(years []client.ScheduleRange, month, dom, dow, hour, minute uint64, comment string) client.ScheduleCalendarSpec {
	return client.ScheduleCalendarSpec{
		Second:     []client.ScheduleRange{{Start: 0, End: 0}},
		Minute:     maskRanges(minute, 0, 59),
		Hour:       maskRanges(hour, 0, 23),
		DayOfMonth: maskRanges(dom, 1, 31),
		Month:      maskRanges(month, 1, 12),
		DayOfWeek:  maskRanges(dow, 0, 6),
		Year:       years, // nil: every year
		Comment:    comment,
	}
}

type dayFields struct{ dom, dow uint64 }

// dayVariants returns the (day-of-month, day-of-week) pairs whose union is
// the day rule: one pair for AND, two for OR.
func (c *Schedule) dayVariants() []dayFields {
	if c.dayAnd {
		return []dayFields{{c.dom, c.dow}}
	}
	return []dayFields{{c.dom, fullMask(0, 6)}, {fullMask(1, 31), c.dow}}
}

// baseCalendars: the expression's calendars, for the given years.
func (c *Schedule) baseCalendars(years []client.ScheduleRange) []client.ScheduleCalendarSpec {
	var out []client.ScheduleCalendarSpec
	for _, v := range c.dayVariants() {
		out = append(out, calSpec(years, c.month, v.dom, v.dow, c.hour, c.minute, c.comment()))
	}
	return out
}

// splitCalendars returns calendars equal to the expression's except on the
// excluded hours of the excluded dates.
func (c *Schedule) splitCalendars(excluded map[civilDate]uint64) []client.ScheduleCalendarSpec {
	dates := make([]civilDate, 0, len(excluded))
	for d := range excluded {
		dates = append(dates, d)
	}
	slices.SortFunc(dates, func(a, b civilDate) int {
		return time.Date(a.y, a.m, a.d, 0, 0, 0, 0, time.UTC).Compare(time.Date(b.y, b.m, b.d, 0, 0, 0, 0, time.UTC))
	})
	monthsOfYear := map[int]uint64{}   // year → months with excluded dates
	daysOfMonth := map[[2]int]uint64{} // (year, month) → excluded days
	for _, d := range dates {
		monthsOfYear[d.y] |= 1 << uint(d.m)
		daysOfMonth[[2]int{d.y, int(d.m)}] |= 1 << uint(d.d)
	}
	var out []client.ScheduleCalendarSpec
	add := func(years []client.ScheduleRange, month, dom, dow, hour uint64) {
		if month == 0 || dom == 0 || dow == 0 || hour == 0 || c.minute == 0 {
			return
		}
		out = append(out, calSpec(years, month, dom, dow, hour, c.minute, c.comment()))
	}
	// Years without excluded dates.
	var plainYears []client.ScheduleRange
	for y := temporalMinYear; y <= temporalMaxYear; y++ {
		if _, ok := monthsOfYear[y]; ok {
			continue
		}
		if n := len(plainYears); n > 0 && plainYears[n-1].End == y-1 {
			plainYears[n-1].End = y
		} else {
			plainYears = append(plainYears, client.ScheduleRange{Start: y, End: y})
		}
	}
	years := make([]int, 0, len(monthsOfYear))
	for y := range monthsOfYear {
		years = append(years, y)
	}
	slices.Sort(years)
	for _, v := range c.dayVariants() {
		if len(plainYears) > 0 {
			add(plainYears, c.month, v.dom, v.dow, c.hour)
		}
		for _, y := range years {
			yr := []client.ScheduleRange{{Start: y, End: y}}
			add(yr, c.month&^monthsOfYear[y], v.dom, v.dow, c.hour)
			for m := 1; m <= 12; m++ {
				if monthsOfYear[y]&(1<<uint(m)) != 0 {
					add(yr, c.month&(1<<uint(m)), v.dom&^daysOfMonth[[2]int{y, m}], v.dow, c.hour)
				}
			}
		}
	}
	// The other hours of the excluded dates.
	for _, d := range dates {
		if !c.dateMatches(d.y, d.m, d.d) {
			continue
		}
		add([]client.ScheduleRange{{Start: d.y, End: d.y}}, 1<<uint(d.m), 1<<uint(d.d), fullMask(0, 6), c.hour&^excluded[d])
	}
	return out
}

// maskRanges turns a bit set into maximal contiguous ranges.
func maskRanges(mask uint64, lo, hi int) []client.ScheduleRange {
	var out []client.ScheduleRange
	for v := lo; v <= hi; {
		s, ok := nextBit(mask, v)
		if !ok || s > hi {
			break
		}
		e := s
		for e+1 <= hi && mask&(1<<uint(e+1)) != 0 {
			e++
		}
		out = append(out, client.ScheduleRange{Start: s, End: e})
		v = e + 1
	}
	return out
}
