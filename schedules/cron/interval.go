package cron

import (
	"errors"
	"fmt"
	"math"
	"schedsvc/problem"
	"strings"
	"time"
)

// minIntervalDSTYears is how far ahead CheckMinInterval examines the zone's
// transitions (a 28-year span repeats the weekday pattern of the dates).
const minIntervalDSTYears = 28

// CheckMinInterval returns a *problem.Error of problem.IntervalTooShort when
// two consecutive firings can ever be closer than min: it checks the gaps
// within a day, across midnight (over the whole 400-year calendar cycle) and
// around each of the zone's transitions in the coming years, independently
// of the current time of day.
func (c *Schedule) CheckMinInterval(min time.Duration) error {
	return c.checkMinInterval(min, time.Now())
}

func (c *Schedule) checkMinInterval(min time.Duration, now time.Time) error {
	return c.checkGaps(min, now, true)
}

// checkGaps does the work of CheckMinInterval; without report it returns a
// bare error as soon as a short gap is known (used for suggestions).
func (c *Schedule) checkGaps(min time.Duration, now time.Time, report bool) error {
	// Every firing is a whole minute apart from the others (all offsets in
	// use are whole minutes), so a minimum of one minute always holds.
	if min <= time.Minute {
		return nil
	}
	minSec := int64(min / time.Second)
	if time.Duration(minSec)*time.Second < min {
		minSec++ // a gap of whole seconds must be ≥ min
	}

	// Ordinary days: the day's firing minutes.
	var dayMins []int64
	for h := 0; h < 24; h++ {
		if c.hour&(1<<uint(h)) == 0 {
			continue
		}
		for m := 0; m < 60; m++ {
			if c.minute&(1<<uint(m)) != 0 {
				dayMins = append(dayMins, int64(h*60+m))
			}
		}
	}
	within := int64(math.MaxInt64)
	for i := 1; i < len(dayMins); i++ {
		within = min64(within, (dayMins[i]-dayMins[i-1])*60)
	}
	if within < minSec {
		if !report {
			return errShortGap
		}
		if a, b, ok := c.findShortGap(now.Unix(), minSec, 20000); ok {
			return c.tooShort(a, b, min)
		}
		return c.tooShortWall(within, min)
	}

	// Across midnight: last firing of one matching day to the first of the
	// next. Only day pairs up to kMax days apart can be too close.
	first, last := dayMins[0]*60, dayMins[len(dayMins)-1]*60
	if secondsPerDay-last+first < minSec {
		kMax := (minSec - 1 + last - first) / secondsPerDay
		if y, m, d, ok := c.closeMatchingDays(now.In(c.loc), kMax); ok {
			if !report {
				return errShortGap
			}
			start := time.Date(y, m, d, 0, 0, 0, 0, c.loc).Unix() - 1
			if a, b, ok := c.findShortGap(start, minSec, 20000); ok {
				return c.tooShort(a, b, min)
			}
			return c.tooShortWall(secondsPerDay-last+first, min)
		}
	}

	// Around each transition of the zone: gap firings, repeated hours and
	// shortened or lengthened days.
	horizon := now.AddDate(minIntervalDSTYears, 0, 0).Unix()
	for seg := c.segmentAt(now.Unix()); seg.end != math.MaxInt64 && seg.end < horizon; {
		next := c.segmentAt(seg.end)
		if delta := next.off - seg.off; delta != 0 && c.transitionNearMatchingDay(seg.end, seg.off, next.off) {
			span := abs64(delta) + minSec + 60
			if a, b, ok := c.findShortGapBetween(seg.end-span, seg.end+span, minSec); ok {
				if !report {
					return errShortGap
				}
				return c.tooShort(a, b, min)
			}
		}
		seg = next
	}
	return nil
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func abs64(a int64) int64 {
	if a < 0 {
		return -a
	}
	return a
}

// transitionNearMatchingDay reports whether a selected date lies within a
// day of the transition at T (in wall-clock terms on either side).
func (c *Schedule) transitionNearMatchingDay(T, offBefore, offAfter int64) bool {
	for _, w := range []int64{T + offBefore - secondsPerDay, T + offBefore, T + offAfter, T + offAfter + secondsPerDay} {
		t := time.Unix(w, 0).UTC()
		if c.dateMatches(t.Year(), t.Month(), t.Day()) {
			return true
		}
	}
	return false
}

// closeMatchingDays scans one full 400-year cycle of dates from `from` and
// returns the first selected date followed by another selected date at most
// kMax days later.
func (c *Schedule) closeMatchingDays(from time.Time, kMax int64) (int, time.Month, int, bool) {
	y, mo, d := from.Date()
	wd := int(time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Weekday())
	lastIdx := int64(-1 << 40)
	var ly, ld int
	var lm time.Month
	const cycleDays = 146097
	for i := int64(0); i <= cycleDays+kMax; i++ {
		if c.month&(1<<uint(mo)) != 0 && c.dayMatch(d, wd) {
			if i-lastIdx <= kMax {
				return ly, lm, ld, true
			}
			lastIdx, ly, lm, ld = i, y, mo, d
		}
		wd = (wd + 1) % 7
		if d++; d > daysIn(mo, y) {
			if mo == time.December {
				y, mo = y+1, time.January
			} else {
				mo++
			}
			d = 1
			if c.month&(1<<uint(mo)) == 0 {
				// Skip unselected months whole.
				for c.month&(1<<uint(mo)) == 0 {
					n := daysIn(mo, y)
					i += int64(n)
					wd = (wd + n) % 7
					if mo == time.December {
						y, mo = y+1, time.January
					} else {
						mo++
					}
				}
			}
		}
	}
	return 0, 0, 0, false
}

var errShortGap = errors.New("gap shorter than the minimum")

// findShortGap walks at most maxSteps firings after Unix second from and
// returns the first pair closer than minSec.
func (c *Schedule) findShortGap(from, minSec int64, maxSteps int) (int64, int64, bool) {
	prev, ok := c.nextUnix(from)
	for i := 0; ok && i < maxSteps; i++ {
		next, ok2 := c.nextUnix(prev)
		if !ok2 {
			break
		}
		if next-prev < minSec {
			return prev, next, true
		}
		prev = next
	}
	return 0, 0, false
}

// findShortGapBetween checks every pair of consecutive firings with both
// firings in [from, to].
func (c *Schedule) findShortGapBetween(from, to, minSec int64) (int64, int64, bool) {
	prev, ok := c.nextUnix(from - 1)
	for ok && prev <= to {
		next, ok2 := c.nextUnix(prev)
		if !ok2 || next > to {
			break
		}
		if next-prev < minSec {
			return prev, next, true
		}
		prev = next
	}
	return 0, 0, false
}

// tooShortWall reports a short gap found in the day's pattern when no
// concrete pair of firings was located within the search bound.
func (c *Schedule) tooShortWall(gap int64, min time.Duration) error {
	return problem.Invalid(problem.IntervalTooShort, fieldCronExpression,
		"some runs would be only %s apart; the minimum interval between runs is %s, so choose times at least %s apart",
		fmtDuration(time.Duration(gap)*time.Second), fmtDuration(min), fmtDuration(min))
}

func (c *Schedule) tooShort(a, b int64, min time.Duration) error {
	ta, tb := time.Unix(a, 0).In(c.loc), time.Unix(b, 0).In(c.loc)
	gap := tb.Sub(ta)
	detail := fmt.Sprintf("runs at %s and %s would be only %s apart; the minimum interval between runs is %s, so choose times at least %s apart",
		ta.Format(time.RFC3339), tb.Format(time.RFC3339), fmtDuration(gap), fmtDuration(min), fmtDuration(min))
	if ex := c.suggestEvery(min); ex != "" {
		detail += fmt.Sprintf(" (e.g. %q in %s)", ex, c.loc)
	}
	if ta.Format("-0700") != tb.Format("-0700") {
		detail += "; the clock change between them shortens the gap"
	}
	return &problem.Error{Kind: problem.IntervalTooShort, Field: fieldCronExpression, Detail: detail}
}

func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// suggestEvery proposes a simple expression whose firings are at least min
// apart in the schedule's zone, or "" if none of the candidates fits.
func (c *Schedule) suggestEvery(min time.Duration) string {
	var candidates []string
	for _, n := range []int{2, 3, 4, 5, 6, 10, 12, 15, 20, 30} {
		if time.Duration(n)*time.Minute >= min {
			candidates = append(candidates, fmt.Sprintf("*/%d * * * *", n))
		}
	}
	for _, n := range []int{1, 2, 3, 4, 6, 8, 12} {
		if time.Duration(n)*time.Hour >= min {
			if n == 1 {
				candidates = append(candidates, "0 * * * *")
			} else {
				candidates = append(candidates, fmt.Sprintf("0 */%d * * *", n))
			}
		}
	}
	candidates = append(candidates, "0 9 * * *", "0 9 * * 1", "0 9 1 * *")
	for _, cand := range candidates {
		s, err := parseExpr(cand)
		if err != nil {
			continue
		}
		s.loc = c.loc
		if s.checkGaps(min, time.Now(), false) == nil {
			return cand
		}
	}
	return ""
}
