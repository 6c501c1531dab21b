package schedules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryBackoff(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxAttempts: 5, InitialBackoffSeconds: 10, MaxBackoffSeconds: 35}
	require.Equal(t, 10*time.Second, p.Backoff(1))
	require.Equal(t, 20*time.Second, p.Backoff(2))
	require.Equal(t, 35*time.Second, p.Backoff(3), "capped at the maximum")
	require.Equal(t, 35*time.Second, p.Backoff(9))
	require.Equal(t, RetryPolicy{MaxAttempts: 1, InitialBackoffSeconds: 1, MaxBackoffSeconds: 1}, RetryPolicy{}.Normalized(),
		"actions written before retry policies mean one attempt")
}
