package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRowsHoldEachFigureToItsGoal(t *testing.T) {
	t.Parallel()
	r := &results{
		P1: &p1Result{
			Ours:     []p1Point{{1, wrkResult{RPS: 100}}, {64, wrkResult{RPS: 500}}, {128, wrkResult{RPS: 1}}},
			Baseline: []p1Point{{1, wrkResult{RPS: 200}}, {64, wrkResult{RPS: 1000}}, {128, wrkResult{RPS: 1}}},
		},
		P2: &p2Result{Runs: 1000, Points: []p2Point{
			{Page: 1, Ours: dist{P50: 2}}, {Page: 10, Ours: dist{P50: 6.5}}, {Page: 50, Ours: dist{P50: 3}},
		}},
		P3: &p3Result{Count: 3,
			Ours:    p3Set{Name: "ours, one worker", Count: 3, Started: 3, Lag: dist{P99: 1.2}},
			Floor:   p3Set{Count: 3, Started: 3, Lag: dist{P99: 1}},
			OursTwo: &p3Set{Name: "ours, two workers", Count: 3, Started: 2, Lag: dist{P99: 1}},
		},
		P4: &p4Result{Ours: []p4Point{{Callers: 16, Rate: 79}}, Raw: []p4Point{{Callers: 16, Rate: 100}}},
	}
	got := rows(r)
	require.Len(t, got, 5)
	require.InDelta(t, 0.5, got[0].ratio, 1e-9, "P1 at 64 connections, not the last level")
	require.True(t, got[0].met)
	require.InDelta(t, 3.25, got[1].ratio, 1e-9, "P2: the slowest page, wherever it is")
	require.False(t, got[1].met)
	require.True(t, got[2].met, "P3: p99 1.2 s, 1.2× the floor")
	require.False(t, got[3].met, "P3: a run that never started fails the figure")
	require.False(t, got[4].met, "P4: 0.79 < 0.8")
}

func TestThousands(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1,000,000", thousands(1_000_000))
	require.Equal(t, "999", thousands(999))
	require.Equal(t, "50,000", thousands(50000))
}
