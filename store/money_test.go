package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMoneyRoundsToSixDecimals(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]float64{0: 0, 0.0123: 0.0123, 1.0000004: 1, 1.0000006: 1.000001, 9.99: 9.99} {
		require.InDelta(t, want, numericToFloat(floatToNumeric(in)), 1e-12, "%v", in)
	}
}
