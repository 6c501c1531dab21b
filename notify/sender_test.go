package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"schedsvc/netguard"
	"schedsvc/ptrutil"
	"schedsvc/signing"
)

var secret = []byte("notify-test-secret-0123456789")

// delivery is what a receiver saw of one request.
type delivery struct {
	header http.Header
	body   []byte
}

// receiver is a real HTTP receiver on a loopback address that records what
// reached it and answers with answer (200 when nil).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []delivery
	hits atomic.Int32
}

func listen(t *testing.T, ip string, answer http.HandlerFunc) *receiver {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s here: %v", ip, err)
	}
	r := &receiver{}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.hits.Add(1)
		r.mu.Lock()
		r.got = append(r.got, delivery{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		if answer != nil {
			answer(w, req)
		}
	}))
	r.Listener = l
	r.Start()
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// url is the receiver's URL with host in place of its address.
func (r *receiver) url(host string) string {
	_, port, _ := net.SplitHostPort(r.Listener.Addr().String())
	return "http://" + net.JoinHostPort(host, port) + "/events"
}

func newSender(t *testing.T, c Config) *Sender {
	t.Helper()
	if c.SigningSecret == nil {
		c.SigningSecret = secret
	}
	s, err := New(c)
	require.NoError(t, err)
	return s
}

func failedRun() Run {
	completed := time.Date(2026, 12, 2, 8, 0, 14, 622_000_000, time.UTC)
	return Run{
		ID:           "9a0e7c41-2b6d-4f3e-8a15-c7d2e4b90f16",
		WorkflowID:   "scheduled-run-3f6c2a8e-2026-12-02T08:00:00Z",
		Status:       "FAILED",
		Trigger:      "SCHEDULED",
		Executor:     "llm",
		TriggeredAt:  time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC),
		StartedAt:    time.Date(2026, 12, 2, 8, 0, 0, 412_000_000, time.UTC),
		CompletedAt:  &completed,
		DurationMS:   ptrutil.Ptr(int64(14210)),
		ErrorMessage: ptrutil.Ptr("model answered 503"),
		AttemptCount: 3,
		ModelUsed:    ptrutil.Ptr("gpt-4o-mini"),
		Provider:     ptrutil.Ptr("openai"),
		PromptTokens: 7412, CompletionTokens: 623, TotalTokens: 8035, TotalCostUSD: 0.0123,
	}
}

func failedEvent(t *testing.T) Event {
	t.Helper()
	ev, ok := RunEvent("3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05", "nightly report", failedRun())
	require.True(t, ok)
	return ev
}

func TestDeliverPostsAnEventTheReceiverCanVerify(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", func(w http.ResponseWriter, req *http.Request) { w.WriteHeader(http.StatusAccepted) })
	s := newSender(t, Config{AllowedHosts: "127.0.0.1/32"})
	ev := failedEvent(t)

	for attempt := 1; attempt <= 2; attempt++ {
		res := s.Deliver(context.Background(), r.URL+"/events", ev, attempt)
		require.Equal(t, Result{Attempt: attempt, Delivered: true, StatusCode: http.StatusAccepted}, res)
		require.NoError(t, res.ActivityError())
	}

	got := r.deliveries()
	require.Len(t, got, 2)
	for i, d := range got {
		// What a receiver does: the webhook's verification, the notification key.
		require.NoError(t, signing.VerifySignature(secret, d.header.Get(signing.TimestampHeader),
			d.header.Get(signing.SignatureHeader), d.body, time.Now(), time.Minute))
		require.Error(t, signing.VerifySignature([]byte("the-task-webhook-secret-000"), d.header.Get(signing.TimestampHeader),
			d.header.Get(signing.SignatureHeader), d.body, time.Now(), time.Minute), "another key does not verify")
		tampered := []byte(strings.Replace(string(d.body), "FAILED", "COMPLETED", 1))
		require.Error(t, signing.VerifySignature(secret, d.header.Get(signing.TimestampHeader),
			d.header.Get(signing.SignatureHeader), tampered, time.Now(), time.Minute), "a changed body does not verify")

		require.Equal(t, "application/json", d.header.Get("Content-Type"))
		require.Equal(t, "FAILED", d.header.Get(EventHeader))
		require.Equal(t, ev.ID, d.header.Get(signing.IdempotencyHeader), "every attempt carries the event id")
		require.Equal(t, []string{"1", "2"}[i], d.header.Get(signing.AttemptHeader))

		var back Event
		require.NoError(t, json.Unmarshal(d.body, &back))
		require.Equal(t, ev, back)
	}
	require.Equal(t, got[0].body, got[1].body, "attempts send the same event")

	var shape map[string]any
	require.NoError(t, json.Unmarshal(got[0].body, &shape))
	require.Equal(t, map[string]any{
		"id":            ev.ID,
		"kind":          "FAILED",
		"occurred_at":   "2026-12-02T08:00:14.622Z",
		"schedule_id":   "3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05",
		"schedule_name": "nightly report",
		"run": map[string]any{
			"id":                "9a0e7c41-2b6d-4f3e-8a15-c7d2e4b90f16",
			"workflow_id":       "scheduled-run-3f6c2a8e-2026-12-02T08:00:00Z",
			"status":            "FAILED",
			"trigger":           "SCHEDULED",
			"executor":          "llm",
			"triggered_at":      "2026-12-02T08:00:00Z",
			"started_at":        "2026-12-02T08:00:00.412Z",
			"completed_at":      "2026-12-02T08:00:14.622Z",
			"duration_ms":       14210.0,
			"error_message":     "model answered 503",
			"attempt_count":     3.0,
			"model_used":        "gpt-4o-mini",
			"provider":          "openai",
			"prompt_tokens":     7412.0,
			"completion_tokens": 623.0,
			"total_tokens":      8035.0,
			"total_cost_usd":    0.0123,
		},
	}, shape, "the wire format uses the API's Run field names")
}

func TestDeliverRefusesLoopbackWithoutTheAllowlist(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", nil)
	s := newSender(t, Config{})
	ev := failedEvent(t)

	for _, c := range []struct{ url, msg string }{
		{r.URL + "/events", "refused to connect to 127.0.0.1: a loopback address"},
		{r.url("localhost"), "refused to connect to localhost: it resolves to a loopback address"}, // at connect time
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254: a link-local address"},
		{"http://[fd00:ec2::254]/", "a private address"},
		{"gopher://example.com/", `scheme "gopher"`},
	} {
		res := s.Deliver(context.Background(), c.url, ev, 1)
		require.False(t, res.Delivered, c.url)
		require.True(t, res.Refused, c.url)
		require.True(t, res.Permanent, c.url)
		require.Zero(t, res.StatusCode, c.url)
		require.Contains(t, res.Error, c.msg, c.url)
		require.Contains(t, res.LogDetail(), "refused", c.url)
		if strings.Contains(c.url, "localhost") {
			require.NotContains(t, res.Error, "127.0.0.1", "the owner is not told what a name resolves to")
			require.Contains(t, res.LogDetail(), "localhost (127.0.0.1)", "the operator is")
		}

		var appErr *temporal.ApplicationError
		require.ErrorAs(t, res.ActivityError(), &appErr)
		require.True(t, appErr.NonRetryable(), "a refused URL is not retried")
		require.Equal(t, "NotifyURLRefused", appErr.Type())
	}
	require.Zero(t, r.hits.Load(), "nothing reached the receiver")

	allowed := newSender(t, Config{AllowedHosts: "localhost"})
	require.True(t, allowed.Deliver(context.Background(), r.url("localhost"), ev, 1).Delivered, "the allowlisted host name is reached")
	require.True(t, allowed.Deliver(context.Background(), r.URL, ev, 1).Refused, "its address is not")
	require.EqualValues(t, 1, r.hits.Load())
}

func TestDeliverDoesNotFollowARedirectInward(t *testing.T) {
	t.Parallel()
	inside := listen(t, "127.0.0.1", nil)
	front := listen(t, "127.0.0.2", func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, inside.url("localhost"), http.StatusTemporaryRedirect)
	})
	ev := failedEvent(t)

	res := newSender(t, Config{AllowedHosts: "127.0.0.2/32"}).Deliver(context.Background(), front.url("127.0.0.2"), ev, 1)
	require.False(t, res.Delivered)
	require.False(t, res.Refused)
	require.True(t, res.Permanent)
	require.Equal(t, http.StatusTemporaryRedirect, res.StatusCode)
	require.Contains(t, res.Error, "redirects are not followed")
	require.Contains(t, res.Error, inside.url("localhost"))

	res = newSender(t, Config{AllowedHosts: "127.0.0.2/32", MaxRedirects: 2}).Deliver(context.Background(), front.url("127.0.0.2"), ev, 1)
	require.False(t, res.Delivered)
	require.True(t, res.Refused, "a followed redirect is judged at its own dial")
	require.Contains(t, res.Error, "refused to connect to localhost: it resolves to a loopback address")

	require.Zero(t, inside.hits.Load())
	require.EqualValues(t, 2, front.hits.Load())
}

func TestDeliverClassifiesAnswers(t *testing.T) {
	t.Parallel()
	ev := failedEvent(t)
	s := newSender(t, Config{AllowedHosts: "127.0.0.1"})
	for _, c := range []struct {
		status    int
		permanent bool
	}{
		{500, false}, {502, false}, {503, false}, {408, false}, {425, false}, {429, false},
		{400, true}, {401, true}, {403, true}, {404, true}, {410, true}, {422, true},
	} {
		r := listen(t, "127.0.0.1", func(w http.ResponseWriter, req *http.Request) {
			http.Error(w, "receiver says no", c.status)
		})
		res := s.Deliver(context.Background(), r.URL, ev, 4)
		require.False(t, res.Delivered, c.status)
		require.Equal(t, c.status, res.StatusCode)
		require.Equal(t, c.permanent, res.Permanent, c.status)
		require.False(t, res.Refused)
		require.Contains(t, res.Error, "receiver says no")
		require.Equal(t, 4, res.Attempt)

		var appErr *temporal.ApplicationError
		require.ErrorAs(t, res.ActivityError(), &appErr)
		require.Equal(t, c.permanent, appErr.NonRetryable(), c.status)
	}
}

func TestDeliverGivesUpAtTheAttemptTimeout(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", func(w http.ResponseWriter, req *http.Request) { <-req.Context().Done() })
	s := newSender(t, Config{AllowedHosts: "127.0.0.1/32", AttemptTimeout: 100 * time.Millisecond})
	res := s.Deliver(context.Background(), r.URL, failedEvent(t), 1)
	require.False(t, res.Delivered)
	require.False(t, res.Permanent, "a slow receiver may answer next time")
	require.Contains(t, res.Error, "did not answer within 100ms")
}

func TestDeliverReportsAnUnreachableReceiver(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", nil)
	url := r.URL
	r.Close()
	res := newSender(t, Config{AllowedHosts: "127.0.0.1/32"}).Deliver(context.Background(), url, failedEvent(t), 1)
	require.False(t, res.Delivered)
	require.False(t, res.Permanent)
	require.False(t, res.Refused)
	require.Contains(t, res.Error, "connection refused")
	require.NotContains(t, res.Error, "POST", "the URL error's method and URL are trimmed")
}

func TestDeliverRefusesMalformedEvents(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", nil)
	s := newSender(t, Config{AllowedHosts: "127.0.0.1/32"})
	good := failedEvent(t)
	for name, ev := range map[string]Event{
		"no id":            func() Event { e := good; e.ID = ""; return e }(),
		"unknown kind":     func() Event { e := good; e.Kind = "EXPLODED"; return e }(),
		"kind ≠ status":    func() Event { e := good; e.Kind = Completed; return e }(),
		"no time":          func() Event { e := good; e.OccurredAt = time.Time{}; return e }(),
		"pause without it": func() Event { e := good; e.Kind = SchedulePaused; return e }(),
	} {
		res := s.Deliver(context.Background(), r.URL, ev, 1)
		require.True(t, res.Permanent, name)
		require.Contains(t, res.Error, "notification not sent", name)
	}
	require.Zero(t, r.hits.Load())
}

func TestNewChecksTheConfig(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		cfg Config
		msg string
	}{
		"short secret": {Config{SigningSecret: []byte("short")}, "NOTIFY_SIGNING_SECRET"},
		"allowlist":    {Config{SigningSecret: secret, AllowedHosts: "10.0.0.1/40"}, "NOTIFY_ALLOWED_HOSTS"},
		"timeout":      {Config{SigningSecret: secret, AttemptTimeout: -time.Second}, "NOTIFY_ATTEMPT_TIMEOUT"},
		"retry":        {Config{SigningSecret: secret, Retry: Retry{MaxAttempts: 3, Initial: time.Minute, Coefficient: 2, Max: time.Second}}, "retry policy"},
		"redirects":    {Config{SigningSecret: secret, MaxRedirects: -1}, "NOTIFY_MAX_REDIRECTS"},
	} {
		_, err := New(c.cfg)
		require.ErrorContains(t, err, c.msg, name)
	}
	s := newSender(t, Config{})
	require.Equal(t, DefaultRetry, s.Retry())
	require.Equal(t, 10*time.Second, s.AttemptTimeout())
}

func TestCheckTarget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSender(t, Config{AllowedHosts: "hooks.internal"})
	require.NoError(t, s.CheckTarget(ctx, Target{}), "no notify at all")
	require.NoError(t, s.CheckTarget(ctx, Target{URL: "https://8.8.8.8/hook", On: []Kind{Failed, TimedOut}}))
	require.NoError(t, s.CheckTarget(ctx, Target{URL: "http://hooks.internal/x", On: Kinds()}), "allowlisted by name")

	for name, c := range map[string]struct {
		target Target
		msg    string
	}{
		"no url":    {Target{On: []Kind{Failed}}, "notify.url is required"},
		"no kinds":  {Target{URL: "https://8.8.8.8/"}, "at least one of COMPLETED, FAILED, TIMED_OUT, CANCELLED, SCHEDULE_PAUSED"},
		"unknown":   {Target{URL: "https://8.8.8.8/", On: []Kind{"SUCCEEDED"}}, `has "SUCCEEDED"`},
		"duplicate": {Target{URL: "https://8.8.8.8/", On: []Kind{Failed, Failed}}, "lists FAILED twice"},
	} {
		err := s.CheckTarget(ctx, c.target)
		require.ErrorIs(t, err, ErrInvalidTarget, name)
		require.NotErrorIs(t, err, netguard.ErrRefused, name)
		require.ErrorContains(t, err, c.msg, name)
	}
	for _, url := range []string{"http://10.0.0.8/hook", "http://localhost:8080/hook", "ftp://example.com/"} {
		err := s.CheckTarget(ctx, Target{URL: url, On: []Kind{Completed}})
		require.ErrorIs(t, err, netguard.ErrRefused, url)
		require.False(t, errors.Is(err, ErrInvalidTarget), url)
	}
}
