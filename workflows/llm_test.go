package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"schedsvc/schedules"
)

type llmBundle struct {
	exec     *LLMExecutor
	requests atomic.Int32
	last     chatRequest
	auth     string
}

// setupLLM serves chat completions with the given status and usage; a nil
// usage leaves it out of the answer.
func setupLLM(t *testing.T, status int, usage map[string]any, delay time.Duration) *llmBundle {
	t.Helper()
	b := &llmBundle{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.requests.Add(1)
		require.Equal(t, "/v1/chat/completions", r.URL.Path)
		b.auth = r.Header.Get("Authorization")
		require.NoError(t, json.NewDecoder(r.Body).Decode(&b.last))
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		if status != http.StatusOK {
			http.Error(w, `{"error":{"message":"nope"}}`, status)
			return
		}
		answer := map[string]any{
			"model":   b.last.Model + "-0613",
			"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": "hello"}, "finish_reason": "stop"}},
		}
		if usage != nil {
			answer["usage"] = usage
		}
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(srv.Close)
	var err error
	b.exec, err = NewLLMExecutor(LLMConfig{
		BaseURL: srv.URL + "/v1/", APIKey: "sk-test", Model: "small", Provider: "acme",
		Prices: map[string]Price{
			"small": {InputPerMTok: 1000, OutputPerMTok: 2000}, // 0.001 and 0.002 USD per token
			"free":  {},
		},
		MaxTokens: 1000,
	})
	require.NoError(t, err)
	return b
}

func llmTask(query string, budget float64) Task {
	return Task{TaskQuery: query, BudgetUSD: budget, MaxBudgetPerRunUSD: budget, RunID: "run-1", Attempt: 1}
}

func TestLLMExecutorRecordsUsageAndCost(t *testing.T) {
	t.Parallel()
	b := setupLLM(t, http.StatusOK, map[string]any{"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}, 0)
	task := llmTask("hi", 10)
	task.TaskContext = map[string]any{"system_prompt": "Be brief.", "channel": "#x"}
	out, err := b.exec.Execute(context.Background(), task)
	require.NoError(t, err)
	require.Equal(t, "hello", out.Result)
	require.EqualValues(t, 12, out.PromptTokens)
	require.EqualValues(t, 8, out.CompletionTokens)
	require.EqualValues(t, 20, out.TotalTokens)
	require.InDelta(t, 12*0.001+8*0.002, out.TotalCostUSD, 1e-12)
	require.Equal(t, "small-0613", out.ModelUsed, "the model that answered")
	require.Equal(t, "acme", out.Provider)
	require.Equal(t, "Bearer sk-test", b.auth)
	require.Equal(t, "small", b.last.Model)
	require.Equal(t, []chatMessage{{"system", "Be brief."}, {"user", "hi\n\nContext (JSON): {\"channel\":\"#x\"}"}}, b.last.Messages)
	require.EqualValues(t, 1000, b.last.MaxTokens, "a generous budget leaves the configured cap")
	require.EqualValues(t, 1000, out.MaxTokens)
}

func TestLLMExecutorBudgetCapsMaxTokens(t *testing.T) {
	t.Parallel()
	b := setupLLM(t, http.StatusOK, map[string]any{"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}, 0)
	_, err := b.exec.Execute(context.Background(), llmTask("hi", 0.5))
	require.NoError(t, err)
	// The prompt is at most 3 + ("user" + "hi" + 4) = 13 tokens: 0.013 USD,
	// which leaves 0.487 USD for 243 completion tokens at 0.002.
	require.EqualValues(t, 243, b.last.MaxTokens)
	require.LessOrEqual(t, Price{1000, 2000}.Cost(13, b.last.MaxTokens), 0.5)
	require.Greater(t, Price{1000, 2000}.Cost(13, b.last.MaxTokens+1), 0.5)
}

func TestLLMExecutorRefusesOverBudgetWithoutCalling(t *testing.T) {
	t.Parallel()
	b := setupLLM(t, http.StatusOK, nil, 0)
	for _, budget := range []float64{0, 0.005, 0.0135} {
		out, err := b.exec.Execute(context.Background(), llmTask("hi", budget))
		require.ErrorIs(t, err, ErrBudget, "budget %v", budget)
		require.True(t, IsPermanent(err))
		require.Zero(t, out.TotalCostUSD)
	}
	require.Zero(t, b.requests.Load())
}

func TestLLMExecutorModelFromContext(t *testing.T) {
	t.Parallel()
	b := setupLLM(t, http.StatusOK, map[string]any{"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}, 0)
	task := llmTask("hi", 0.0001)
	task.TaskContext = map[string]any{"model": "free"}
	out, err := b.exec.Execute(context.Background(), task)
	require.NoError(t, err)
	require.Equal(t, "free", b.last.Model)
	require.EqualValues(t, 1000, b.last.MaxTokens, "a free model is capped only by configuration")
	require.Zero(t, out.TotalCostUSD)

	task.TaskContext = map[string]any{"model": "unpriced"}
	_, err = b.exec.Execute(context.Background(), task)
	require.ErrorContains(t, err, `model "unpriced" has no price`)
	require.True(t, IsPermanent(err))
}

func TestLLMExecutorErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status    int
		permanent bool
	}{{http.StatusTooManyRequests, false}, {http.StatusBadGateway, false}, {http.StatusBadRequest, true}, {http.StatusUnauthorized, true}} {
		b := setupLLM(t, c.status, nil, 0)
		_, err := b.exec.Execute(context.Background(), llmTask("hi", 1))
		require.ErrorContains(t, err, "the model endpoint answered")
		require.Equal(t, c.permanent, IsPermanent(err), "status %d", c.status)
	}
}

func TestLLMExecutorWithoutUsageCountsTheWorstCase(t *testing.T) {
	t.Parallel()
	b := setupLLM(t, http.StatusOK, nil, 0)
	out, err := b.exec.Execute(context.Background(), llmTask("hi", 0.5))
	require.ErrorContains(t, err, "no usage")
	require.InDelta(t, Price{1000, 2000}.Cost(13, 243), out.TotalCostUSD, 1e-12)
}

func TestLLMExecutorStopsAtTheDeadline(t *testing.T) {
	t.Parallel()
	b := setupLLM(t, http.StatusOK, nil, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	out, err := b.exec.Execute(ctx, llmTask("hi", 1))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 900*time.Millisecond)
	require.Equal(t, "small", out.ModelUsed)
}

func TestNewLLMExecutorChecksConfiguration(t *testing.T) {
	t.Parallel()
	prices := map[string]Price{"m": {1, 2}}
	for _, c := range []LLMConfig{
		{BaseURL: "ftp://x/v1", Model: "m", Prices: prices, MaxTokens: 1},
		{BaseURL: "https://x/v1", Model: "", Prices: prices, MaxTokens: 1},
		{BaseURL: "https://x/v1", Model: "other", Prices: prices, MaxTokens: 1},
		{BaseURL: "https://x/v1", Model: "m", Prices: prices, MaxTokens: 0},
	} {
		_, err := NewLLMExecutor(c)
		require.Error(t, err, "%+v", c)
	}
}

func TestPriceCost(t *testing.T) {
	t.Parallel()
	p := Price{InputPerMTok: 0.15, OutputPerMTok: 0.60}
	require.InDelta(t, 0.15*1000/1e6+0.6*500/1e6, p.Cost(1000, 500), 1e-15)
}

func TestEchoExecutor(t *testing.T) {
	t.Parallel()
	out, err := EchoExecutor{}.Execute(context.Background(), Task{TaskQuery: "ping"})
	require.NoError(t, err)
	require.Equal(t, Outcome{Result: "echo: ping", Usage: schedules.Usage{ModelUsed: "echo", Provider: "schedsvc-demo"}}, out)
}

func TestAttemptResult(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	usage := Outcome{Usage: schedules.Usage{TotalTokens: 7, TotalCostUSD: 0.1}, Result: "partial"}
	r := attemptResult(ctx, usage, errors.New("503"), 30)
	require.Equal(t, AttemptResult{Status: "FAILED", Retryable: true, ErrorMessage: "503", Usage: schedules.Usage{TotalTokens: 7, TotalCostUSD: 0.1}}, r,
		"a failed attempt keeps its usage but no result")
	r = attemptResult(ctx, Outcome{}, Permanent(errors.New("400")), 30)
	require.False(t, r.Retryable)
	r = attemptResult(ctx, Outcome{}, context.DeadlineExceeded, 30)
	require.Equal(t, "TIMED_OUT", string(r.Status))
	require.Contains(t, r.ErrorMessage, "timeout_seconds (30 s)")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	r = attemptResult(cancelled, Outcome{}, context.Canceled, 30)
	require.Equal(t, "CANCELLED", string(r.Status))
}
