package signing

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testSecret = []byte("webhook-test-secret-0123456789")

func TestVerifySignatureRejectsTamperingAndReplays(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	ts := "1800000000"
	sig := Sign(testSecret, ts, []byte(`{"a":1}`))
	require.NoError(t, VerifySignature(testSecret, ts, sig, []byte(`{"a":1}`), now, time.Minute))
	require.Error(t, VerifySignature(testSecret, ts, sig, []byte(`{"a":2}`), now, time.Minute), "body changed")
	require.Error(t, VerifySignature([]byte("another-secret-0123456789"), ts, sig, []byte(`{"a":1}`), now, time.Minute), "other key")
	require.Error(t, VerifySignature(testSecret, ts, sig, []byte(`{"a":1}`), now.Add(10*time.Minute), time.Minute), "too old")
	require.Error(t, VerifySignature(testSecret, "yesterday", sig, []byte(`{"a":1}`), now, time.Minute))
}
