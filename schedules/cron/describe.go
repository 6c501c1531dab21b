package cron

import (
	"fmt"
	"math/bits"
	"strings"
)

var longDayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
var longMonthNames = []string{"", "January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}

func fullMask(lo, hi int) uint64 { return (uint64(1)<<uint(hi+1) - 1) &^ (uint64(1)<<uint(lo) - 1) }

func maskValues(mask uint64, lo, hi int) []int {
	var out []int
	for v := lo; v <= hi; v++ {
		if mask&(1<<uint(v)) != 0 {
			out = append(out, v)
		}
	}
	return out
}

// maskStep reports whether mask is exactly {start, start+step, ...} ≤ hi with step > 1.
func maskStep(mask uint64, lo, hi int) (start, step int, ok bool) {
	vals := maskValues(mask, lo, hi)
	if len(vals) < 3 {
		return 0, 0, false
	}
	step = vals[1] - vals[0]
	if step < 2 {
		return 0, 0, false
	}
	for i := 1; i < len(vals); i++ {
		if vals[i]-vals[i-1] != step {
			return 0, 0, false
		}
	}
	if vals[len(vals)-1]+step <= hi || vals[0]-lo >= step {
		return 0, 0, false
	}
	return vals[0], step, true
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// listMask describes a set as ranges ("Monday through Friday") and single values.
func listMask(mask uint64, lo, hi int, name func(int) string) string {
	var parts []string
	for _, r := range maskRanges(mask, lo, hi) {
		switch {
		case r.End == r.Start:
			parts = append(parts, name(r.Start))
		case r.End == r.Start+1:
			parts = append(parts, name(r.Start), name(r.End))
		default:
			parts = append(parts, name(r.Start)+" through "+name(r.End))
		}
	}
	return joinAnd(parts)
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

func describe(c *Schedule) string {
	var b strings.Builder
	b.WriteString(describeTime(c))
	allDom := c.dom == fullMask(1, 31)
	allDow := c.dow == fullMask(0, 6)
	domText := func() string {
		if start, step, ok := maskStep(c.dom, 1, 31); ok {
			return fmt.Sprintf("every %s day of the month from day %d", ordinal(step), start)
		}
		vals := maskValues(c.dom, 1, 31)
		word := "day"
		if len(vals) > 1 {
			word = "days"
		}
		return fmt.Sprintf("on %s %s of the month", word, listMask(c.dom, 1, 31, func(v int) string { return fmt.Sprint(v) }))
	}
	dowText := func() string {
		return listMask(c.dow, 0, 6, func(v int) string { return longDayNames[v] })
	}
	switch {
	case c.dayAnd && allDom && allDow:
	case c.dayAnd && allDom:
		b.WriteString(", " + onDays(c.dow, dowText()))
	case c.dayAnd && allDow:
		b.WriteString(", " + domText())
	case c.dayAnd:
		// A `*` with a restricted other field: robfig ANDs them.
		b.WriteString(", " + domText() + " if it is " + dowText())
	default:
		b.WriteString(", " + domText() + " or " + onDays(c.dow, dowText()))
	}
	if c.month != fullMask(1, 12) {
		if start, step, ok := maskStep(c.month, 1, 12); ok {
			fmt.Fprintf(&b, ", every %s month from %s", ordinal(step), longMonthNames[start])
		} else {
			b.WriteString(", " + monthPrefix(c.month) + listMask(c.month, 1, 12, func(v int) string { return longMonthNames[v] }))
		}
	}
	return b.String()
}

func onDays(mask uint64, text string) string {
	if len(maskRanges(mask, 0, 6)) == 1 && bits.OnesCount64(mask) > 2 {
		return text // "Monday through Friday"
	}
	return "only on " + text
}

func monthPrefix(mask uint64) string {
	if len(maskRanges(mask, 1, 12)) == 1 && bits.OnesCount64(mask) > 2 {
		return ""
	}
	return "only in "
}

func describeTime(c *Schedule) string {
	mins := maskValues(c.minute, 0, 59)
	hours := maskValues(c.hour, 0, 23)
	allMin := c.minute == fullMask(0, 59)
	allHour := c.hour == fullMask(0, 23)
	hourText := func() string {
		if allHour {
			return "every hour"
		}
		if start, step, ok := maskStep(c.hour, 0, 23); ok {
			if start == 0 {
				return fmt.Sprintf("every %s hour", ordinal(step))
			}
			return fmt.Sprintf("every %s hour from %02d:00", ordinal(step), start)
		}
		return "hours " + listMask(c.hour, 0, 23, func(v int) string { return fmt.Sprintf("%02d", v) })
	}
	switch {
	case allMin && allHour:
		return "Every minute"
	case allMin:
		ranges := maskRanges(c.hour, 0, 23)
		var parts []string
		for _, r := range ranges {
			parts = append(parts, fmt.Sprintf("%02d:00 and %02d:59", r.Start, r.End))
		}
		if len(ranges) <= 2 {
			return "Every minute between " + strings.Join(parts, ", and between ")
		}
		return "Every minute, during " + hourText()
	case len(mins)*len(hours) <= 6:
		var times []string
		for _, h := range hours {
			for _, m := range mins {
				times = append(times, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
		return "At " + joinAnd(times)
	}
	var minText string
	if start, step, ok := maskStep(c.minute, 0, 59); ok {
		if start == 0 {
			minText = fmt.Sprintf("Every %d minutes", step)
		} else {
			minText = fmt.Sprintf("Every %d minutes from minute %d", step, start)
		}
	} else {
		word := "minute"
		if len(mins) > 1 {
			word = "minutes"
		}
		minText = fmt.Sprintf("At %s %s past", word, listMask(c.minute, 0, 59, func(v int) string { return fmt.Sprint(v) }))
		return minText + " " + hourText()
	}
	if allHour {
		return minText
	}
	ranges := maskRanges(c.hour, 0, 23)
	if len(ranges) == 1 && ranges[0].End > ranges[0].Start {
		return fmt.Sprintf("%s, between %02d:00 and %02d:59", minText, ranges[0].Start, ranges[0].End)
	}
	return minText + ", during " + hourText()
}
