package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPercentileNearestRank(t *testing.T) {
	t.Parallel()
	vs := []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	d := summarise(vs)
	require.Equal(t, dist{N: 10, P50: 5, P90: 9, P99: 10, Max: 10}, d)
	require.Equal(t, []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}, vs, "summarise leaves its input as it was")
	require.Equal(t, dist{}, summarise(nil))
	require.Equal(t, 1.0, percentile([]float64{1, 2}, 1))
}

func TestRatioWithoutBaselineIsNaN(t *testing.T) {
	t.Parallel()
	require.True(t, math.IsNaN(ratio(3, 0)))
	require.Equal(t, 0.5, ratio(1, 2))
}

const wrkOut = `Running 5s test @ http://127.0.0.1:40001/api/v1/schedules/x
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    16.89ms   10.10ms 128.02ms   75.22%
    Req/Sec     1.95k   215.33     2.50k    71.00%
  Latency Distribution
     50%   14.73ms
     75%   20.51ms
     90%   28.44ms
     99%    1.02s
  19480 requests in 5.01s, 21.03MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   3888.28
Transfer/sec:      4.20MB
`

func TestParseWrk(t *testing.T) {
	t.Parallel()
	r, err := parseWrk(wrkOut)
	require.NoError(t, err)
	require.Equal(t, wrkResult{RPS: 3888.28, P50Ms: 14.73, P99Ms: 1020, Requests: 19480, Non2xx: 7, SockErrs: 5}, r)

	r, err = parseWrk("     50%  812.00us\n     99%    2.10ms\nRequests/sec:  100.5\n")
	require.NoError(t, err)
	require.InDelta(t, 0.812, r.P50Ms, 1e-9)
	require.InDelta(t, 2.1, r.P99Ms, 1e-9)

	_, err = parseWrk("unable to connect to 127.0.0.1:1 Connection refused")
	require.Error(t, err)
}

func TestParseInts(t *testing.T) {
	t.Parallel()
	got, err := parseInts("1, 4,16")
	require.NoError(t, err)
	require.Equal(t, []int{1, 4, 16}, got)
	for _, bad := range []string{"", "1,,2", "0", "x"} {
		_, err := parseInts(bad)
		require.Error(t, err, bad)
	}
}

func TestLinearTicksAreRound(t *testing.T) {
	t.Parallel()
	var labels []string
	for _, tk := range (linearTicks{}).Ticks(0, 1) {
		labels = append(labels, tk.Label)
	}
	require.Equal(t, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}, labels)
	labels = nil
	for _, tk := range (linearTicks{}).Ticks(0, 264) {
		labels = append(labels, tk.Label)
	}
	require.Equal(t, []string{"0", "50", "100", "150", "200", "250"}, labels)
}
