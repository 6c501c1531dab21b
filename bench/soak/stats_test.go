package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDueAtAndBudget(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	require.Equal(t, start, dueAt(start, 0, 50))
	require.Equal(t, start.Add(20*time.Millisecond), dueAt(start, 1, 50))
	require.Equal(t, start.Add(10*time.Second), dueAt(start, 500, 50))
	require.Equal(t, int64(30000), budget(50, 10*time.Minute))
	require.Equal(t, int64(12), budget(12.5, time.Second))
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	require.Zero(t, percentile(nil, 99))
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := sortedCopy(ds)
	require.Equal(t, 100*time.Millisecond, ds[0], "sortedCopy leaves its input alone")
	require.Equal(t, 50*time.Millisecond, percentile(s, 50))
	require.Equal(t, 99*time.Millisecond, percentile(s, 99))
	require.Equal(t, 100*time.Millisecond, percentile(s, 100))
	require.Equal(t, 1*time.Millisecond, percentile(s, 0.1))
}

func TestSlopeAndTrend(t *testing.T) {
	t.Parallel()
	xs := []float64{0, 1, 2, 3, 4}
	require.InDelta(t, 2.0, slope(xs, []float64{1, 3, 5, 7, 9}), 1e-9)
	require.InDelta(t, 0.0, slope(xs, []float64{5, 5, 5, 5, 5}), 1e-9)
	require.Zero(t, slope([]float64{1}, []float64{1}))
	require.Zero(t, slope([]float64{2, 2}, []float64{1, 3}))

	// 100 MiB with noise and no growth is flat; 1 MiB a minute over
	// 10 minutes on 50 MiB is a leak.
	flat := fitTrend([]float64{0, 5, 10}, []float64{100, 102, 100}, 4, 0.05)
	require.True(t, flat.Flat)
	leak := fitTrend([]float64{0, 5, 10}, []float64{50, 55, 60}, 4, 0.05)
	require.False(t, leak.Flat)
	require.InDelta(t, 1.0, leak.PerMinute, 1e-9)
	require.InDelta(t, 10.0, leak.Drift, 1e-9)
	falling := fitTrend([]float64{0, 5, 10}, []float64{500, 500, 270}, 50, 0.10)
	require.True(t, falling.Flat, "a falling count is no leak")
}

func TestKnee(t *testing.T) {
	t.Parallel()
	_, ok := knee([]rampStep{{Concurrency: 1, Errors: 1, Throughput: 10}})
	require.False(t, ok)
	best, ok := knee([]rampStep{
		{Concurrency: 1, Throughput: 10},
		{Concurrency: 2, Throughput: 30},
		{Concurrency: 4, Throughput: 40, Errors: 2},
		{Concurrency: 8, Throughput: 25},
	})
	require.True(t, ok)
	require.Equal(t, 2, best.Concurrency)
}
