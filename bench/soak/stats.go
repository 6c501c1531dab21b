package main

import (
	"math"
	"slices"
	"time"
)

// The pure arithmetic of the soak: pacing, percentiles, the capacity knee and
// the leak slope. Everything here is unit-tested; nothing here does I/O.

// dueAt is when request i of an open-loop run at rate requests per second
// should start: the schedule is fixed in advance, so a slow answer delays
// nothing that comes after it and its wait counts in its own latency.
func dueAt(start time.Time, i int64, rate float64) time.Time {
	return start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
}

// budget is the fixed number of requests an open-loop run of d at rate sends.
func budget(rate float64, d time.Duration) int64 {
	return int64(math.Floor(rate * d.Seconds()))
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted;
// zero for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// sortedCopy returns ds sorted, leaving ds as it was.
func sortedCopy(ds []time.Duration) []time.Duration {
	out := slices.Clone(ds)
	slices.Sort(out)
	return out
}

// slope is the least-squares slope of ys over xs; zero when xs do not vary.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if len(xs) < 2 || len(xs) != len(ys) {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

// rampStep is one closed-loop step of the capacity ramp.
type rampStep struct {
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"` // 5xx, 429 and transport errors
	Throughput  float64 `json:"throughput_rps"`
	P99Millis   float64 `json:"p99_ms"`
}

// knee is the step with the highest throughput among those without errors;
// ok is false when every step had errors.
func knee(steps []rampStep) (best rampStep, ok bool) {
	for _, s := range steps {
		if s.Errors == 0 && s.Throughput > best.Throughput {
			best, ok = s, true
		}
	}
	return best, ok
}

// trend is a fitted drift of a sampled figure and whether it stays within
// noise.
type trend struct {
	PerMinute float64 `json:"per_minute"` // least-squares slope, units per minute
	Drift     float64 `json:"drift"`      // PerMinute over the fitted window
	Mean      float64 `json:"mean"`
	Threshold float64 `json:"threshold"` // growth (Drift) below this is flat
	Flat      bool    `json:"flat"`
}

// fitTrend fits ys over minutes and calls it flat when the growth over the
// window is below the larger of floor and frac of the mean: a leak that
// would grow the figure by more than that over the soak is reported. A
// falling figure is no leak (the gateway's goroutines fall when the load
// stops and its connections close), so only growth counts.
func fitTrend(minutes, ys []float64, floor, frac float64) trend {
	t := trend{PerMinute: slope(minutes, ys)}
	if len(minutes) > 1 {
		t.Drift = t.PerMinute * (minutes[len(minutes)-1] - minutes[0])
	}
	for _, y := range ys {
		t.Mean += y
	}
	if len(ys) > 0 {
		t.Mean /= float64(len(ys))
	}
	t.Threshold = math.Max(floor, frac*t.Mean)
	t.Flat = t.Drift < t.Threshold
	return t
}
