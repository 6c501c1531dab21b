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
	got, err := decodeCursor(encodeCursor(c), false)
	require.NoError(t, err)
	require.True(t, c.At.Equal(got.At))
	require.Equal(t, c.ID, got.ID)
	for _, bad := range []string{"", "!!", "bm90LWEtY3Vyc29y", encodeCursor(c) + "x", encodeCursor(Keyset{Seq: 7})} {
		_, err := decodeCursor(bad, false)
		var verr *problem.Error
		require.ErrorAs(t, err, &verr, bad)
		require.Equal(t, problem.InvalidRequest, verr.Kind)
	}
}

// TestRunCursorRoundTrip: a runs cursor is a sequence number, and a
// schedules cursor is no runs cursor.
func TestRunCursorRoundTrip(t *testing.T) {
	t.Parallel()
	got, err := decodeCursor(encodeCursor(Keyset{Seq: 180000}), true)
	require.NoError(t, err)
	require.Equal(t, Keyset{Seq: 180000}, got)
	schedulesCursor := encodeCursor(Keyset{At: time.Now(), ID: [16]byte{1}})
	for _, bad := range []string{"", "!!", schedulesCursor, "Iy0x" /* #-1 */, "IzA" /* #0 */, "I3g" /* #x */} {
		_, err := decodeCursor(bad, true)
		var verr *problem.Error
		require.ErrorAs(t, err, &verr, bad)
		require.Equal(t, problem.InvalidRequest, verr.Kind)
	}
}
