package cron

// A test-only port of the Temporal server's schedule-spec evaluation
// (go.temporal.io/server v1.32.0, service/worker/scheduler/calendar.go and
// spec.go; MIT licence, Copyright (c) Temporal Technologies Inc.), kept as
// close to the original as possible so that unit tests can check that a
// compiled spec makes Temporal fire exactly our instants without a server.
// It reproduces the DST behaviour measured on a real 1.32 server (New York
// 02:00 skipped on the spring-forward day and 01:00 run twice on the
// fall-back day, London 01:30 run only at the second occurrence, Lord Howe
// 02:15 run at 02:45, Adelaide quarter hours once between 15:30Z and 18:00Z);
// TestTemporalSimReproducesServerQuirks pins that. The integration test in
// temporal_test.go checks the real server.

import (
	"math"
	"time"

	"go.temporal.io/sdk/client"
)

const simMaxCalendarYear = 2100

type simCalendar struct {
	tz                                                       *time.Location
	year, month, dayOfMonth, dayOfWeek, hour, minute, second func(int) bool
}

// simRanges applies the SDK's defaults (client → proto) and the server's
// CleanSpec (End < Start → End = Start, Step 0 → 1).
func simBitMatcher(ranges []client.ScheduleRange, def []client.ScheduleRange) func(int) bool {
	if ranges == nil {
		ranges = def
	}
	var bits uint64
	for _, r := range ranges {
		end, step := r.End, r.Step
		if end < r.Start {
			end = r.Start
		}
		if step == 0 {
			step = 1
		}
		for i := r.Start; i <= end; i += step {
			bits |= 1 << uint(i)
		}
	}
	return func(v int) bool { return (1<<uint(v))&bits != 0 }
}

func simYearMatcher(ranges []client.ScheduleRange) func(int) bool {
	if len(ranges) == 0 {
		return func(int) bool { return true }
	}
	var values []int
	for _, r := range ranges {
		end, step := r.End, r.Step
		if end < r.Start {
			end = r.Start
		}
		if step == 0 {
			step = 1
		}
		for i := r.Start; i <= end; i += step {
			values = append(values, i)
		}
	}
	return func(v int) bool {
		for _, value := range values {
			if value == v {
				return true
			}
		}
		return false
	}
}

func newSimCalendar(cal client.ScheduleCalendarSpec, tz *time.Location) *simCalendar {
	return &simCalendar{
		tz:         tz,
		year:       simYearMatcher(cal.Year),
		month:      simBitMatcher(cal.Month, []client.ScheduleRange{{Start: 1, End: 12}}),
		dayOfMonth: simBitMatcher(cal.DayOfMonth, []client.ScheduleRange{{Start: 1, End: 31}}),
		dayOfWeek:  simBitMatcher(cal.DayOfWeek, []client.ScheduleRange{{Start: 0, End: 6}}),
		hour:       simBitMatcher(cal.Hour, []client.ScheduleRange{{Start: 0}}),
		minute:     simBitMatcher(cal.Minute, []client.ScheduleRange{{Start: 0}}),
		second:     simBitMatcher(cal.Second, []client.ScheduleRange{{Start: 0}}),
	}
}

func (cc *simCalendar) matches(ts time.Time) bool {
	ts = ts.In(cc.tz)
	y, mo, d := ts.Date()
	h, m, s := ts.Clock()
	return cc.year(y) && cc.month(int(mo)) && cc.dayOfMonth(d) && cc.dayOfWeek(int(ts.Weekday())) &&
		cc.hour(h) && cc.minute(m) && cc.second(s)
}

func (cc *simCalendar) next(ts time.Time) time.Time {
	ts = ts.In(cc.tz)

	y, mo, d := ts.Date()
	h, m, s := ts.Clock()
	dstoffset := 0 * time.Hour
	if ts.Add(-time.Hour).Hour() == h {
		dstoffset = 1 * time.Hour
	}

	s++

Outer:
	for {
		if s >= 60 {
			m, s = m+1, 0
		}
		if m >= 60 {
			prev := time.Date(y, mo, d, h, 0, 0, 0, cc.tz)
			h, m = h+1, 0
			next := time.Date(y, mo, d, h, 0, 0, 0, cc.tz)
			if dstoffset == 0 && next.Sub(prev) > time.Hour {
				h = h - 1
				dstoffset = 1 * time.Hour
			} else {
				dstoffset = 0
			}
		}
		if h >= 24 {
			d, h = d+1, 0
		}
		if d > daysIn(mo, y) {
			mo, d = mo+1, 1
		}
		if mo > time.December {
			y, mo = y+1, time.January
		}
		if y > simMaxCalendarYear {
			break Outer
		}
		if !cc.year(y) {
			y, mo, d, h, m, s = y+1, time.January, 1, 0, 0, 0
			dstoffset = 0
			continue Outer
		}
		for !cc.month(int(mo)) {
			mo, d, h, m, s = mo+1, 1, 0, 0, 0
			dstoffset = 0
			if mo > time.December {
				continue Outer
			}
		}
		for !cc.dayOfMonth(d) || !cc.dayOfWeek(int(time.Date(y, mo, d, h, m, s, 0, cc.tz).Weekday())) {
			d, h, m, s = d+1, 0, 0, 0
			dstoffset = 0
			if d > daysIn(mo, y) {
				continue Outer
			}
		}
		for !cc.hour(h) {
			h, m, s = h+1, 0, 0
			dstoffset = 0
			if h >= 24 {
				continue Outer
			}
		}
		for !cc.minute(m) {
			m, s = m+1, 0
			if m >= 60 {
				continue Outer
			}
		}
		for !cc.second(s) {
			s = s + 1
			if s >= 60 {
				continue Outer
			}
		}
		nextTs := time.Date(y, mo, d, h, m, s, 0, cc.tz)
		if nextTs.Hour() != h {
			h, m, s = h+1, 0, 0
			continue Outer
		}
		return nextTs.Add(dstoffset)
	}
	return time.Time{}
}

type simSpec struct {
	calendars, excludes []*simCalendar
	intervals           []client.ScheduleIntervalSpec
}

func newSimSpec(spec client.ScheduleSpec) (*simSpec, error) {
	tz, err := time.LoadLocation(spec.TimeZoneName)
	if err != nil {
		return nil, err
	}
	s := &simSpec{intervals: spec.Intervals}
	for _, c := range spec.Calendars {
		s.calendars = append(s.calendars, newSimCalendar(c, tz))
	}
	for _, c := range spec.Skip {
		s.excludes = append(s.excludes, newSimCalendar(c, tz))
	}
	return s, nil
}

func (cs *simSpec) rawNextTime(after time.Time) time.Time {
	var minTimestamp int64 = math.MaxInt64
	for _, cal := range cs.calendars {
		if next := cal.next(after); !next.IsZero() {
			if nextTs := next.Unix(); nextTs < minTimestamp {
				minTimestamp = nextTs
			}
		}
	}
	ts := after.Unix()
	for _, iv := range cs.intervals {
		interval := max(int64(iv.Every/time.Second), 1)
		phase := max(int64(iv.Offset/time.Second), 0)
		if next := (((ts-phase)/interval)+1)*interval + phase; next < minTimestamp {
			minTimestamp = next
		}
	}
	if minTimestamp == math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(minTimestamp, 0).UTC()
}

func (cs *simSpec) excluded(t time.Time) bool {
	for _, ex := range cs.excludes {
		if ex.matches(t) {
			return true
		}
	}
	return false
}

// nextTime is GetNextTime without jitter, start or end time.
func (cs *simSpec) nextTime(after time.Time) time.Time {
	var nominal time.Time
	for iterations := 0; nominal.IsZero() || cs.excluded(nominal); iterations++ {
		if iterations > 1_000_000 {
			return time.Time{}
		}
		nominal = cs.rawNextTime(after)
		after = nominal
		if nominal.IsZero() || nominal.Year() > simMaxCalendarYear {
			return time.Time{}
		}
	}
	return nominal
}

// simTimes returns the spec's action times after `from` up to `until`
// (inclusive), at most max of them.
func simTimes(spec client.ScheduleSpec, from, until time.Time, maxN int) ([]time.Time, error) {
	cs, err := newSimSpec(spec)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for at := from; len(out) < maxN; {
		t := cs.nextTime(at)
		if t.IsZero() || t.After(until) {
			break
		}
		out = append(out, t)
		at = t
	}
	return out, nil
}
