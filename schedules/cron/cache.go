package cron

import (
	"sync"
	"sync/atomic"
	"time"
)

// A schedule's expression and zone are parsed on every read of it (its next
// runs are shown), and time.LoadLocation reads the zone's file from disk
// each time: measured at 6% of the gateway's CPU and 16% of its allocations
// on GET /schedules/{id}. What a pair parses to never changes, so each
// process keeps the result; replicas need not agree on anything, since each
// derives the same value from the same text.

// maxParsed bounds the parse cache. Past it the cache starts again empty:
// a deployment with more distinct expressions than this only parses more.
const maxParsed = 4096

type parseKey struct{ expr, zone string }

var parsed struct {
	sync.RWMutex
	m map[parseKey]*Schedule
}

// zones caches successful zone loads. It needs no bound: only names that
// exist in the zone database are stored, and there are a few hundred.
var zones sync.Map // name → *time.Location

// cachedParse returns the parsed schedule for expr and zone, parsing it on
// first use. Only successes are kept; a Schedule is immutable once parsed
// (its preview memo aside, which is safe for concurrent use).
func cachedParse(expr, zone string) (*Schedule, error) {
	k := parseKey{expr, zone}
	parsed.RLock()
	c, ok := parsed.m[k]
	parsed.RUnlock()
	if ok {
		return c, nil
	}
	c, err := parse(expr, zone)
	if err != nil {
		return nil, err
	}
	parsed.Lock()
	if parsed.m == nil || len(parsed.m) >= maxParsed {
		parsed.m = make(map[parseKey]*Schedule)
	}
	if prev, ok := parsed.m[k]; ok {
		c = prev // another reader parsed it meanwhile: share one memo
	} else {
		parsed.m[k] = c
	}
	parsed.Unlock()
	return c, nil
}

// loadZoneCached is loadZone, remembering the zones it found.
func loadZoneCached(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := loadZone(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// previewMemo is the last preview computed for a schedule, reused while
// it is still the answer: from the moment it was computed for until the
// first of its next firings, nothing fires, so later moments before that
// firing have the same next times and the same previous firing.
type previewMemo struct {
	from  time.Time
	count int
	p     Preview
}

// memoPreview is Preview through the schedule's memo.
func (c *Schedule) memoPreview(from time.Time, count int) Preview {
	if m := c.memo.Load(); m != nil && m.count == count && !from.Before(m.from) && from.Before(m.p.Times[0]) {
		return m.p.clone()
	}
	p := c.computePreview(from, count)
	// A memo computed at a whole second could miss a firing at exactly
	// that second (it is not "before" from, but is before any later from),
	// so only memos from inside a second are kept; and only full ones: a
	// short preview reached the search bound, which moves with from.
	if from.Nanosecond() != 0 && count > 0 && len(p.Times) == count {
		c.memo.Store(&previewMemo{from: from, count: count, p: p.clone()})
	}
	return p
}

// clone copies what a caller might change, so no two callers share a slice.
func (p Preview) clone() Preview {
	out := Preview{Description: p.Description, Times: append([]time.Time(nil), p.Times...)}
	if p.Previous != nil {
		prev := *p.Previous
		out.Previous = &prev
	}
	return out
}

// memoSlot is embedded in Schedule.
type memoSlot = atomic.Pointer[previewMemo]
