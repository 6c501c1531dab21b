package workflows

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/schedules"
	"schedsvc/signing"
)

var testSecret = []byte("webhook-test-secret-0123456789")

func newWebhook(t *testing.T, h http.HandlerFunc, maxRedirects int) *HTTPExecutor {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e, err := NewHTTPExecutor(HTTPConfig{URL: srv.URL + "/run", Secret: testSecret, MaxRedirects: maxRedirects, MaxResponseBytes: 1024})
	require.NoError(t, err)
	return e
}

func TestWebhookSignsAndCarriesTheRunIdempotencyKey(t *testing.T) {
	t.Parallel()
	var keys, attempts []string
	e := newWebhook(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// What a receiver does.
		if err := signing.VerifySignature(testSecret, r.Header.Get(signing.TimestampHeader), r.Header.Get(signing.SignatureHeader), body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var task Task
		require.NoError(t, json.Unmarshal(body, &task))
		keys = append(keys, r.Header.Get(signing.IdempotencyHeader))
		attempts = append(attempts, r.Header.Get(signing.AttemptHeader))
		_, _ = io.WriteString(w, `{"result":"done","prompt_tokens":3,"completion_tokens":4,"total_cost_usd":0.5,"model_used":"m","provider":"p"}`)
	}, 0)
	for attempt := 1; attempt <= 2; attempt++ {
		out, err := e.Execute(context.Background(), Task{RunID: "scheduled-run-x-2026", Attempt: attempt, TaskQuery: "q", BudgetUSD: 1})
		require.NoError(t, err)
		require.Equal(t, Outcome{Result: "done", Usage: schedules.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7, TotalCostUSD: 0.5, ModelUsed: "m", Provider: "p"}}, out)
	}
	require.Equal(t, []string{"scheduled-run-x-2026", "scheduled-run-x-2026"}, keys, "retried attempts carry the run's key")
	require.Equal(t, []string{"1", "2"}, attempts)
}

func TestWebhookStatusErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status    int
		permanent bool
	}{{502, false}, {503, false}, {429, false}, {408, false}, {400, true}, {404, true}, {422, true}} {
		e := newWebhook(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", c.status) }, 0)
		_, err := e.Execute(context.Background(), Task{RunID: "r"})
		require.ErrorContains(t, err, "task endpoint answered")
		require.ErrorContains(t, err, "nope")
		require.Equal(t, c.permanent, IsPermanent(err), "status %d", c.status)
	}
}

func TestWebhookLimitsTheAnswer(t *testing.T) {
	t.Parallel()
	e := newWebhook(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"result":"`+strings.Repeat("x", 2000)+`"}`)
	}, 0)
	_, err := e.Execute(context.Background(), Task{RunID: "r"})
	require.ErrorContains(t, err, "larger than 1024 bytes")
}

func TestWebhookLimitsRedirects(t *testing.T) {
	t.Parallel()
	hops := 0
	e := newWebhook(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final" {
			_, _ = io.WriteString(w, `{"result":"arrived"}`)
			return
		}
		hops++
		http.Redirect(w, r, "/hop?"+r.URL.RawQuery+"x", http.StatusTemporaryRedirect)
	}, 2)
	_, err := e.Execute(context.Background(), Task{RunID: "r"})
	require.ErrorContains(t, err, "redirected more than 2 times")
	require.True(t, IsPermanent(err))
	require.Equal(t, 3, hops)

	e = newWebhook(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final" {
			body, _ := io.ReadAll(r.Body)
			require.NotEmpty(t, body, "a 307 keeps the signed body")
			_, _ = io.WriteString(w, `{"result":"arrived"}`)
			return
		}
		http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
	}, 2)
	out, err := e.Execute(context.Background(), Task{RunID: "r"})
	require.NoError(t, err)
	require.Equal(t, "arrived", out.Result)
}

func TestWebhookStopsAtTheDeadline(t *testing.T) {
	t.Parallel()
	e := newWebhook(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Second):
		case <-r.Context().Done():
		}
	}, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := e.Execute(ctx, Task{RunID: "r"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestWebhookRejectsBadAnswers(t *testing.T) {
	t.Parallel()
	e := newWebhook(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"total_tokens":-1}`) }, 0)
	_, err := e.Execute(context.Background(), Task{RunID: "r"})
	require.ErrorContains(t, err, "negative usage")
	e = newWebhook(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `not json`) }, 0)
	_, err = e.Execute(context.Background(), Task{RunID: "r"})
	require.ErrorContains(t, err, "not the expected JSON")
}

func TestNewHTTPExecutorOnlyHTTP(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"file:///etc/passwd", "ftp://host/x", "localhost:9000/run", "/relative"} {
		_, err := NewHTTPExecutor(HTTPConfig{URL: u, Secret: testSecret})
		require.Error(t, err, u)
	}
	_, err := NewHTTPExecutor(HTTPConfig{URL: "https://example.test/run", Secret: []byte("short")})
	require.ErrorContains(t, err, "secret")
}
