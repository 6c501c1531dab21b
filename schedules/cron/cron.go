// Package cron defines what a schedule's cron expression means and when it
// fires: parsing and validation (standard 5-field cron, DOM/DOW OR, cronie's
// DST rules), next and previous firings, the minimum-interval check, an
// English description, and the Temporal ScheduleSpec that fires exactly those
// instants. robfig/cron only parses the fields; the semantics are ours (see
// DESIGN.md, decisions 1 and 2). Invalid input is a *problem.Error.
package cron

import (
	"fmt"
	"schedsvc/problem"
	"slices"
	"strings"
	"time"

	robfig "github.com/robfig/cron/v3"
)

// Field names used in ValidationErrors (the JSON names of the API).
const (
	fieldCronExpression = "cron_expression"
	fieldTimezone       = "timezone"
)

// Schedule is a parsed, validated cron expression bound to an IANA zone.
//
// Semantics: standard 5-field cron (minute, hour, day of month, month, day of
// week 0–6) plus the descriptors @yearly/@annually, @monthly, @weekly,
// @daily/@midnight and @hourly. When both day fields are restricted a day
// matches if either matches (robfig/cron's rule for "restricted": a field is
// unrestricted when it contains a bare `*`). Times are wall-clock times in the
// zone with cronie's DST rules; see Next.
type Schedule struct {
	expr string
	loc  *time.Location

	// Bit sets of the allowed values (bit i = value i), without robfig's star bit.
	minute, hour, dom, month, dow uint64
	// dayAnd: robfig's dayMatches uses AND when either day field is a star,
	// OR when both are restricted.
	dayAnd bool
	// wildcard: the minute or hour field starts with `*` (cronie's MIN_STAR /
	// HR_STAR): the job follows the wall clock through DST changes.
	wildcard bool

	// memo is the last preview, while it still holds (see memoPreview).
	memo memoSlot
}

// robfig's starBit (unexported there).
const robfigStarBit = uint64(1) << 63

var cronParser = robfig.NewParser(robfig.Minute | robfig.Hour | robfig.Dom | robfig.Month | robfig.Dow | robfig.Descriptor)

// Parse parses a standard 5-field cron expression (or a descriptor) bound
// to an IANA zone. Errors are *problem.Error of problem.InvalidCron (field
// "cron_expression") or problem.UnknownTimezone (field "timezone"). An empty
// timezone is an error: callers default it to "UTC" themselves. Results
// are cached per process (see cache.go); the Schedule may be shared.
func Parse(expr, timezone string) (*Schedule, error) {
	return cachedParse(expr, timezone)
}

func parse(expr, timezone string) (*Schedule, error) {
	loc, err := loadZoneCached(timezone)
	if err != nil {
		return nil, err
	}
	c, verr := parseExpr(expr)
	if verr != nil {
		return nil, verr
	}
	c.loc = loc
	return c, nil
}

func loadZone(name string) (*time.Location, error) {
	switch {
	case name == "":
		return nil, problem.Invalid(problem.UnknownTimezone, fieldTimezone,
			`the timezone is empty; give an IANA zone name such as "UTC" or "Europe/Berlin"`)
	case strings.EqualFold(name, "Local"):
		return nil, problem.Invalid(problem.UnknownTimezone, fieldTimezone,
			`"Local" is the server's own zone, not an IANA zone name; give a zone such as "UTC" or "America/New_York"`)
	case strings.TrimSpace(name) != name || strings.HasPrefix(name, "/") || strings.Contains(name, ".."):
		return nil, problem.Invalid(problem.UnknownTimezone, fieldTimezone,
			"%q is not an IANA zone name; give a zone such as \"UTC\" or \"Asia/Kolkata\"", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, problem.Invalid(problem.UnknownTimezone, fieldTimezone,
			"%q is not a known IANA zone name; give a zone such as \"UTC\", \"Europe/London\" or \"Asia/Kolkata\" (names are case-sensitive)", name)
	}
	return loc, nil
}

// descriptorExpr maps the accepted descriptors to their 5-field equivalents.
var descriptorExpr = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

func cronErr(format string, args ...any) *problem.Error {
	return problem.Invalid(problem.InvalidCron, fieldCronExpression, format, args...)
}

func parseExpr(expr string) (*Schedule, *problem.Error) {
	trimmed := strings.TrimSpace(expr)
	if trimmed == "" {
		return nil, cronErr(`the cron expression is empty; write 5 fields "minute hour day-of-month month day-of-week", e.g. "0 9 * * 1-5"`)
	}
	upper := strings.ToUpper(trimmed)
	if strings.HasPrefix(upper, "CRON_TZ=") || strings.HasPrefix(upper, "TZ=") {
		return nil, cronErr(`a %s prefix is not supported; remove it and put the zone name in the "timezone" field`,
			trimmed[:strings.Index(trimmed, "=")+1])
	}
	c := &Schedule{expr: expr}
	fieldsText := trimmed
	if strings.HasPrefix(trimmed, "@") {
		lower := strings.ToLower(trimmed)
		if strings.HasPrefix(lower, "@every") {
			return nil, cronErr("%s", everyDetail(strings.TrimSpace(trimmed[len("@every"):])))
		}
		std, ok := descriptorExpr[lower]
		if !ok {
			return nil, cronErr("unknown descriptor %q; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, or 5 cron fields", trimmed)
		}
		fieldsText = std
	}
	fields := strings.Fields(fieldsText)
	switch {
	case len(fields) == 6:
		return nil, cronErr("%d fields given; only 5 fields are supported (minute hour day-of-month month day-of-week): seconds and years are not — drop the first (seconds) or last (year) field, e.g. %q",
			len(fields), strings.Join(fields[1:], " "))
	case len(fields) == 7:
		return nil, cronErr("7 fields given; only 5 fields are supported (minute hour day-of-month month day-of-week), without seconds or year, e.g. %q",
			strings.Join(fields[1:6], " "))
	case len(fields) != 5:
		return nil, cronErr("%d fields given; write exactly 5 fields \"minute hour day-of-month month day-of-week\", e.g. \"0 9 * * 1-5\"", len(fields))
	}
	names := [5]string{"minute", "hour", "day-of-month", "month", "day-of-week"}
	for i, f := range fields {
		if verr := checkFieldSyntax(names[i], i, f); verr != nil {
			return nil, verr
		}
	}
	sched, err := cronParser.Parse(strings.Join(fields, " "))
	if err != nil {
		return nil, cronErr("%s; write 5 fields \"minute hour day-of-month month day-of-week\" with numbers, names (JAN–DEC, SUN–SAT), lists (1,15), ranges (1-5) and steps (*/15)", err.Error())
	}
	spec, ok := sched.(*robfig.SpecSchedule)
	if !ok {
		return nil, cronErr("unsupported expression %q", trimmed)
	}
	c.minute = spec.Minute &^ robfigStarBit
	c.hour = spec.Hour &^ robfigStarBit
	c.dom = spec.Dom &^ robfigStarBit
	c.month = spec.Month &^ robfigStarBit
	c.dow = spec.Dow &^ robfigStarBit
	c.dayAnd = spec.Dom&robfigStarBit != 0 || spec.Dow&robfigStarBit != 0
	c.wildcard = strings.HasPrefix(fields[0], "*") || strings.HasPrefix(fields[1], "*")
	if !c.firesEver() {
		return nil, cronErr("%q never fires: no month in it has the day of month it names (e.g. 30 February); pick a day that exists, e.g. \"0 0 28 2 *\" instead of \"0 0 30 2 *\"", trimmed)
	}
	return c, nil
}

// checkFieldSyntax rejects the non-standard extensions with a specific
// explanation before robfig sees them (robfig accepts `?`, for instance).
func checkFieldSyntax(name string, idx int, f string) *problem.Error {
	switch {
	case strings.Contains(f, "?"):
		return cronErr("%q in the %s field: `?` is not standard cron; write `*` instead", f, name)
	case strings.Contains(f, "#"):
		return cronErr("%q in the %s field: `#` (n-th weekday of the month) is not supported; write a day of week (e.g. \"0 9 * * MON\") or days of the month (e.g. \"0 9 1-7 * *\")", f, name)
	}
	for _, r := range f {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '*', r == ',', r == '-', r == '/':
		default:
			return cronErr("%q in the %s field: character %q is not allowed; use numbers, names, `*`, `,`, `-` and `/`", f, name, r)
		}
	}
	for _, part := range strings.Split(f, ",") {
		if part == "" {
			return cronErr("%q in the %s field: empty list element; write e.g. \"1,15\"", f, name)
		}
		rangePart, step, hasStep := strings.Cut(part, "/")
		if strings.Contains(rangePart, "*") && rangePart != "*" {
			return cronErr("%q in the %s field: `*` cannot be part of a range; write `*`, `*/n` or `a-b`", f, name)
		}
		if hasStep && (step == "" || strings.Trim(step, "0123456789") != "") {
			return cronErr("%q in the %s field: a step must be a number, e.g. \"*/15\"", f, name)
		}
		for _, atom := range strings.Split(rangePart, "-") {
			up := strings.ToUpper(atom)
			switch {
			case atom == "*" || atom == "" || strings.Trim(atom, "0123456789") == "":
				if idx == 4 && atom == "7" {
					return cronErr("%q in the day-of-week field: days of week are 0–6 (0 = Sunday); write 0 or SUN for Sunday", f)
				}
			case idx == 3 && slices.Contains(monthNames, up), idx == 4 && slices.Contains(dayNames, up):
			case (idx == 2 || idx == 4) && strings.ContainsAny(up, "LW"):
				return cronErr("%q in the %s field: `L` and `W` (last day, nearest weekday) are not supported; write explicit days instead, e.g. \"28-31\" near the end of the month or \"1-5\" for weekdays", f, name)
			case idx == 3:
				return cronErr("%q in the month field: %q is not a month; use 1–12 or JAN–DEC", f, atom)
			case idx == 4:
				return cronErr("%q in the day-of-week field: %q is not a day; use 0–6 or SUN–SAT", f, atom)
			default:
				return cronErr("%q in the %s field: names are not allowed here; use numbers", f, name)
			}
		}
	}
	return nil
}

var monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
var dayNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

func everyDetail(arg string) string {
	d, err := time.ParseDuration(arg)
	suggest := ""
	if err == nil && d > 0 {
		switch {
		case d%(24*time.Hour) == 0 && d == 24*time.Hour:
			suggest = `, e.g. "0 0 * * *" for once a day`
		case d%time.Hour == 0 && 24%int(d/time.Hour) == 0:
			suggest = fmt.Sprintf(`, e.g. "0 */%d * * *" for every %d hours`, int(d/time.Hour), int(d/time.Hour))
		case d%time.Minute == 0 && d < time.Hour && 60%int(d/time.Minute) == 0:
			suggest = fmt.Sprintf(`, e.g. "*/%d * * * *" for every %d minutes`, int(d/time.Minute), int(d/time.Minute))
		}
	}
	if suggest == "" {
		suggest = `, e.g. "*/15 * * * *" for every 15 minutes or "0 */6 * * *" for every 6 hours`
	}
	return "@every is not supported (its phase depends on when the schedule was created); write a cron expression that fires at fixed wall-clock times instead" + suggest
}

// firesEver reports whether some day of some month matches. With OR semantics
// or an unrestricted day of month every week has a matching day; otherwise
// (day of month restricted, day of week `*`) some selected month must have
// one of the selected days (February counts 29 days).
func (c *Schedule) firesEver() bool {
	if c.minute == 0 || c.hour == 0 || c.month == 0 {
		return false
	}
	if !c.dayAnd {
		return true
	}
	maxDays := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for m := 1; m <= 12; m++ {
		if c.month&(1<<m) == 0 {
			continue
		}
		daysMask := uint64(1)<<(maxDays[m]+1) - 2 // bits 1..maxDays
		if c.dom&daysMask != 0 && c.dow != 0 {
			return true
		}
	}
	return false
}

// Describe returns an English description, e.g. "At 09:00, Monday through Friday".
func (c *Schedule) Describe() string {
	return describe(c)
}
