// Package notify sends a schedule's completion notifications: a signed
// JSON event POSTed to the URL the schedule's owner chose.
//
// Design. Sender.Deliver is one delivery attempt and says how it went
// (Result); it never retries. Retries with backoff are Temporal's: the
// Deliver activity (Activities.Deliver) makes one attempt, records it
// through a Recorder (attempts, delivered, status, last error, next
// attempt), and returns Result.ActivityError, which is non-retryable when
// no later attempt can succeed (the URL is refused by the policy, the
// receiver answered 4xx other than 408/425/429, or a redirect); its retry
// policy is Retry.TemporalPolicy(), whose waits Retry.Backoff states. The
// activity runs in DeliveryWorkflow, which a run's workflow starts as an
// abandoned child, so retries neither hold the run open nor die with it.
// A worker that dies mid-delivery loses nothing; delivery is at least
// once, de-duplicated by receivers on the event id.
//
// Every request goes through a netguard client: the URL is checked, and
// the address dialled is judged at connect time against the SSRF policy
// and the operator's NOTIFY_ALLOWED_HOSTS. The body is signed exactly as
// the task webhook's (signing.Sign: HMAC-SHA256 over "<timestamp>.<body>"
// in signing.SignatureHeader, the Unix timestamp in
// signing.TimestampHeader) with the notification secret, so a receiver
// verifies both with signing.VerifySignature and its own key. The event
// id is stable across attempts and sent as Idempotency-Key.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"schedsvc/netguard"
	"schedsvc/signing"
)

// Headers of a notification beyond the webhook's signature headers
// (signing.SignatureHeader, TimestampHeader, IdempotencyHeader,
// AttemptHeader), which it shares.
const (
	// EventHeader carries the event kind, so receivers can route before
	// parsing the body.
	EventHeader = "X-Schedsvc-Event"
	userAgent   = "schedsvc-notify/1"
	// maxAnswerBytes is how much of an answer is read: enough for the
	// error text of a refusal, no more (the answer is otherwise unused).
	maxAnswerBytes = 4 << 10
)

// Config configures the Sender. The environment variables are read by
// config/; their names and defaults are given on each field.
type Config struct {
	// SigningSecret keys the HMAC (NOTIFY_SIGNING_SECRET, at least 16
	// bytes; no default: notifications are off without it).
	SigningSecret []byte
	// AllowedHosts is the operator allowlist (NOTIFY_ALLOWED_HOSTS,
	// comma-separated host names, addresses and CIDR prefixes; default
	// empty: nothing private is reachable).
	AllowedHosts string
	// AttemptTimeout bounds one attempt, connection to answer
	// (NOTIFY_ATTEMPT_TIMEOUT, default 10 s).
	AttemptTimeout time.Duration
	// Retry is the retry policy (NOTIFY_MAX_ATTEMPTS default 8,
	// NOTIFY_BACKOFF_INITIAL default 5 s, NOTIFY_BACKOFF_MAX default 5 m;
	// coefficient 2). The zero Retry is DefaultRetry.
	Retry Retry
	// MaxRedirects is how many redirects are followed, each judged by the
	// policy (NOTIFY_MAX_REDIRECTS, default 0: a 3xx answer is a failed,
	// non-retryable delivery, since a 301/302 would turn the POST into a
	// GET and drop the event).
	MaxRedirects int
}

// Sender delivers events. It is safe for concurrent use; make one per
// process (it pools connections).
type Sender struct {
	secret  []byte
	timeout time.Duration
	retry   Retry
	guard   *netguard.Guard
	client  *http.Client
	now     func() time.Time
}

// New checks c and returns a Sender.
func New(c Config) (*Sender, error) {
	if len(c.SigningSecret) < 16 {
		return nil, errors.New("NOTIFY_SIGNING_SECRET must be at least 16 bytes")
	}
	allow, err := netguard.ParseAllowlist(c.AllowedHosts)
	if err != nil {
		return nil, fmt.Errorf("NOTIFY_ALLOWED_HOSTS: %w", err)
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = 10 * time.Second
	}
	if c.AttemptTimeout < 0 {
		return nil, errors.New("NOTIFY_ATTEMPT_TIMEOUT must be positive")
	}
	if c.Retry == (Retry{}) {
		c.Retry = DefaultRetry
	}
	if !c.Retry.valid() {
		return nil, fmt.Errorf("notification retry policy %+v: attempts must be 1-100, the initial wait positive and at most the longest", c.Retry)
	}
	if c.MaxRedirects < 0 {
		return nil, errors.New("NOTIFY_MAX_REDIRECTS must not be negative")
	}
	g := netguard.New(netguard.Config{Allow: allow})
	return &Sender{
		secret:  c.SigningSecret,
		timeout: c.AttemptTimeout,
		retry:   c.Retry,
		guard:   g,
		client:  g.Client(netguard.ClientOptions{MaxRedirects: c.MaxRedirects}),
		now:     time.Now,
	}, nil
}

// Retry is the policy the delivery activity must run with.
func (s *Sender) Retry() Retry { return s.retry }

// AttemptTimeout is one attempt's bound; the activity's start-to-close
// timeout should exceed it a little, so the attempt reports its own
// timeout rather than being cut off.
func (s *Sender) AttemptTimeout() time.Duration { return s.timeout }

// CheckTarget is the package's CheckTarget under the sender's policy.
func (s *Sender) CheckTarget(ctx context.Context, t Target) error {
	return CheckTarget(ctx, s.guard, t)
}

// Result is how one delivery attempt went: what to record on the run.
type Result struct {
	Attempt    int
	Delivered  bool // the receiver answered 2xx
	StatusCode int  // the receiver's status; 0 when none answered
	// Error is why it was not delivered, fit for the schedule's owner to
	// read (a refusal names no resolved address: RefusedError.Detail);
	// empty when delivered.
	Error string
	// Permanent means no later attempt can succeed with this URL.
	Permanent bool
	// Refused means the SSRF policy refused the URL or the address it
	// led to (Permanent is then true).
	Refused bool
	// refusal is the refusal with the address, for the operator's log;
	// it does not travel (Temporal serialises the exported fields only).
	refusal error
}

// LogDetail is what the operator's log should say of a refused attempt:
// Error with the address a host name resolved to. Empty otherwise, and on
// a Result that came back from Temporal.
func (r Result) LogDetail() string {
	if r.refusal == nil {
		return ""
	}
	return r.refusal.Error()
}

// ActivityError is what the delivery activity returns: nil when
// delivered, else an error Temporal retries by the policy, or, when
// Permanent, one it does not retry.
func (r Result) ActivityError() error {
	switch {
	case r.Delivered:
		return nil
	case r.Refused:
		return temporal.NewNonRetryableApplicationError(r.Error, "NotifyURLRefused", nil)
	case r.Permanent:
		return temporal.NewNonRetryableApplicationError(r.Error, "NotifyRejected", nil)
	}
	return temporal.NewApplicationError(r.Error, "NotifyFailed")
}

// Deliver makes attempt number attempt (1-based, as Temporal counts) at
// posting ev to target, within the sender's attempt timeout and ctx.
func (s *Sender) Deliver(ctx context.Context, target string, ev Event, attempt int) Result {
	r := Result{Attempt: attempt}
	fail := func(permanent bool, format string, a ...any) Result {
		r.Error, r.Permanent = fmt.Sprintf(format, a...), permanent
		return r
	}
	if err := ev.validate(); err != nil {
		return fail(true, "notification not sent: %v", err)
	}
	if err := s.guard.CheckURL(target); err != nil {
		r.Refused, r.refusal = true, err
		return fail(true, "notification not sent: %s", refusalDetail(err))
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fail(true, "encode notification: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fail(true, "build notification request: %v", err)
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set(EventHeader, string(ev.Kind))
	h.Set(signing.IdempotencyHeader, ev.ID)
	h.Set(signing.AttemptHeader, strconv.Itoa(attempt))
	h.Set(signing.TimestampHeader, ts)
	h.Set(signing.SignatureHeader, signing.Sign(s.secret, ts, body))

	resp, err := s.client.Do(req)
	if err != nil {
		var refused *netguard.RefusedError
		if errors.As(err, &refused) {
			r.Refused, r.refusal = true, refused
			return fail(true, "notification not sent: %s", refused.Detail())
		}
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fail(false, "notification receiver did not answer within %s", s.timeout)
		}
		return fail(false, "notification not delivered: %v", trimURLError(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	r.StatusCode = resp.StatusCode
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		r.Delivered = true
		return r
	case c >= 300 && c < 400:
		return fail(true, "notification receiver answered %d redirecting to %q; redirects are not followed, so set the final URL", c, resp.Header.Get("Location"))
	case c == http.StatusRequestTimeout || c == http.StatusTooEarly || c == http.StatusTooManyRequests || c >= 500:
		return fail(false, "notification receiver answered %d%s", c, snippet(answer))
	default:
		return fail(true, "notification receiver answered %d%s", c, snippet(answer))
	}
}

func refusalDetail(err error) string {
	var refused *netguard.RefusedError
	if errors.As(err, &refused) {
		return refused.Detail()
	}
	return err.Error()
}

// snippet is the start of an answer's body, for the recorded error.
func snippet(b []byte) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
	if s == "" {
		return ""
	}
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return ": " + s
}

// trimURLError drops the *url.Error wrapper's repetition of the method and
// URL (the URL is on the schedule already).
func trimURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
