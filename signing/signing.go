// Package signing is the HMAC scheme shared by the task webhook
// (workflows) and completion notifications (notify): a leaf, so both can
// use it without importing each other.
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Headers of a signed call. Receivers verify SignatureHeader over
// TimestampHeader and the body (see VerifySignature) and de-duplicate
// retried attempts by IdempotencyHeader, which is the same for every
// attempt of one call.
const (
	SignatureHeader   = "X-Schedsvc-Signature"
	TimestampHeader   = "X-Schedsvc-Timestamp"
	IdempotencyHeader = "Idempotency-Key"
	AttemptHeader     = "X-Schedsvc-Attempt"
)

// Sign returns the signature header value for a body sent at timestamp
// (Unix seconds): "v1=" and the hex HMAC-SHA256 of "<timestamp>.<body>".
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature is what a receiver does: it checks the signature over the
// timestamp and body, and that the timestamp is within tolerance of now, so
// a captured call cannot be replayed later.
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("bad %s %q", TimestampHeader, timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%s is %s away from now", TimestampHeader, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return errors.New("signature does not match")
	}
	return nil
}
