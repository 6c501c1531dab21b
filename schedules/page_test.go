package schedules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/problem"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := Keyset{At: time.Date(2026, 11, 28, 3, 4, 5, 123456000, time.UTC), ID: [16]byte{1, 2, 3}}
	got, err := decodeCursor(encodeCursor(c))
	require.NoError(t, err)
	require.True(t, c.At.Equal(got.At))
	require.Equal(t, c.ID, got.ID)
	for _, bad := range []string{"", "!!", "bm90LWEtY3Vyc29y", encodeCursor(c) + "x"} {
		_, err := decodeCursor(bad)
		var verr *problem.Error
		require.ErrorAs(t, err, &verr, bad)
		require.Equal(t, problem.InvalidRequest, verr.Kind)
	}
}
