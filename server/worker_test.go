package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"schedsvc/notify"
	"schedsvc/schedules"
	"schedsvc/signing"
	"schedsvc/store"
	"schedsvc/workflows"
)

// The integration worker performs runs with every real executor against
// local stand-ins: a signed-webhook receiver, an OpenAI-compatible
// chat-completions server and a child workflow on a task queue of its own.

const (
	webhookSecret = "integration-webhook-secret-32-bytes!"
	// Prices of the test models in USD per million tokens: 1 USD per
	// thousand input tokens, 2 USD per thousand output tokens, so that
	// small budgets cap max_tokens visibly.
	llmPriceIn, llmPriceOut = 1000.0, 2000.0
	llmMaxTokens            = 4096
	llmPromptTokens         = 120
	llmCompletionTokens     = 30
	childWorkflowType       = "IntegrationChildTask"
)

// executorFakes records what the stand-ins received, by task query.
type executorFakes struct {
	webhook, llm *httptest.Server
	childQueue   string
	// receiver takes completion notifications (notifyFakes); notifyBase is
	// its URL by the allowlisted name localhost.
	receiver   *httptest.Server
	notifyBase string
	notified   map[string][]notifyCall

	mu           sync.Mutex
	webhookCalls map[string][]webhookCall
	llmCalls     map[string][]llmCall
}

type webhookCall struct {
	idempotencyKey, attempt string
	signatureOK             bool
}

type llmCall struct {
	maxTokens   int64
	model       string
	promptBytes int
	auth        string
}

func (f *executorFakes) webhookCallsFor(query string) []webhookCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]webhookCall(nil), f.webhookCalls[query]...)
}

func (f *executorFakes) llmCallsFor(query string) []llmCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]llmCall(nil), f.llmCalls[query]...)
}

func startWorker() (stop func(), err error) {
	f := &env.fakes
	f.webhookCalls = map[string][]webhookCall{}
	f.llmCalls = map[string][]llmCall{}
	f.notified = map[string][]notifyCall{}
	f.webhook = httptest.NewServer(http.HandlerFunc(f.taskEndpoint))
	f.llm = httptest.NewServer(http.HandlerFunc(f.chatCompletions))
	f.receiver = httptest.NewServer(http.HandlerFunc(f.notificationReceiver))
	f.notifyBase = strings.Replace(f.receiver.URL, "127.0.0.1", "localhost", 1)
	stops := []func(){f.webhook.Close, f.llm.Close, f.receiver.Close}
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}

	webhook, err := workflows.NewHTTPExecutor(workflows.HTTPConfig{URL: f.webhook.URL + "/task", Secret: []byte(webhookSecret), MaxRedirects: 1})
	if err != nil {
		stop()
		return nil, err
	}
	llm, err := workflows.NewLLMExecutor(workflows.LLMConfig{
		BaseURL: f.llm.URL + "/v1", APIKey: "test-key", Model: "test-model", Provider: "test-llm",
		Prices:    map[string]workflows.Price{"test-model": {InputPerMTok: llmPriceIn, OutputPerMTok: llmPriceOut}},
		MaxTokens: llmMaxTokens,
	})
	if err != nil {
		stop()
		return nil, err
	}

	suffix := time.Now().UnixNano()
	f.childQueue = fmt.Sprintf("server-test-child-%d", suffix)
	child := worker.New(env.tc, f.childQueue, worker.Options{})
	child.RegisterWorkflowWithOptions(integrationChildTask, workflow.RegisterOptions{Name: childWorkflowType})
	if err := child.Start(); err != nil {
		stop()
		return nil, fmt.Errorf("start child worker: %w", err)
	}
	stops = append(stops, child.Stop)

	sender, err := notify.New(notify.Config{
		SigningSecret: []byte(notifySecret), AllowedHosts: notifyAllowedHosts, AttemptTimeout: 2 * time.Second,
		Retry: notify.Retry{MaxAttempts: 4, Initial: 200 * time.Millisecond, Coefficient: 2, Max: time.Second},
	})
	if err != nil {
		stop()
		return nil, err
	}
	st := store.New(env.db.Pool)

	env.taskQueue = fmt.Sprintf("server-test-%d", suffix)
	w := worker.New(env.tc, env.taskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.ScheduledTaskWorkflow, workflow.RegisterOptions{Name: schedules.WorkflowName})
	w.RegisterWorkflowWithOptions(notify.DeliveryWorkflow, workflow.RegisterOptions{Name: notify.WorkflowName})
	w.RegisterActivity(&notify.Activities{Sender: sender, Recorder: st})
	w.RegisterActivity(&workflows.Activities{
		Notify:   &workflows.Notifications{Sender: sender, Store: st},
		Recorder: schedules.NewRecorder(st, env.tc.ScheduleClient()),
		Executors: map[schedules.Executor]workflows.Executor{
			schedules.ExecutorHTTP: webhook,
			schedules.ExecutorLLM:  llm,
		},
		DefaultExecutor: schedules.ExecutorHTTP,
		Child:           workflows.ChildWorkflowConfig{WorkflowType: childWorkflowType, TaskQueue: f.childQueue},
	})
	if err := w.Start(); err != nil {
		stop()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	stops = append(stops, w.Stop)
	return stop, nil
}

// integrationChildTask is the platform's own workflow the `workflow`
// executor starts: it reports a result and usage derived from the query.
func integrationChildTask(ctx workflow.Context, in workflows.ChildInput) (workflows.ChildResult, error) {
	if strings.HasPrefix(in.TaskQuery, "fail") {
		return workflows.ChildResult{}, fmt.Errorf("child refused %q", in.TaskQuery)
	}
	return workflows.ChildResult{
		Result:           fmt.Sprintf("child did %q (attempt %d, channel %v)", in.TaskQuery, in.Attempt, in.TaskContext["channel"]),
		PromptTokens:     300,
		CompletionTokens: 200,
		TotalTokens:      500,
		TotalCostUSD:     0.05,
		ModelUsed:        "child-model",
		Provider:         "platform",
	}, nil
}

// taskEndpoint stands in for the platform's task service. It verifies the
// signature of every call (401 if it does not match). The task query picks
// the behaviour: "fail…" answers 502, "flaky…" answers 503 to the first
// attempt and succeeds after, "slow…" outlasts a short timeout, anything
// else succeeds with fixed usage figures.
func (f *executorFakes) taskEndpoint(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	sigErr := signing.VerifySignature([]byte(webhookSecret), r.Header.Get(signing.TimestampHeader),
		r.Header.Get(signing.SignatureHeader), body, time.Now(), 5*time.Minute)
	var t workflows.Task
	if err := json.Unmarshal(body, &t); err != nil {
		http.Error(w, "bad task json", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.webhookCalls[t.TaskQuery] = append(f.webhookCalls[t.TaskQuery], webhookCall{
		idempotencyKey: r.Header.Get(signing.IdempotencyHeader), attempt: r.Header.Get(signing.AttemptHeader), signatureOK: sigErr == nil,
	})
	calls := len(f.webhookCalls[t.TaskQuery])
	f.mu.Unlock()
	if sigErr != nil {
		http.Error(w, "bad signature: "+sigErr.Error(), http.StatusUnauthorized)
		return
	}
	switch {
	case strings.HasPrefix(t.TaskQuery, "fail"):
		http.Error(w, "upstream model exploded", http.StatusBadGateway)
	case strings.HasPrefix(t.TaskQuery, "flaky") && calls == 1:
		http.Error(w, "warming up", http.StatusServiceUnavailable)
	case strings.HasPrefix(t.TaskQuery, "slow"):
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, `{"result":"too late"}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"result":         "done: " + t.TaskQuery,
			"total_tokens":   1234,
			"total_cost_usd": 0.0123,
			"model_used":     "test-model",
			"provider":       "test-provider",
		})
	}
}

// chatCompletions speaks the OpenAI chat-completions JSON. A user message
// starting with "slow" outlasts a short timeout; anything else is answered
// with llmPromptTokens and llmCompletionTokens of usage.
func (f *executorFakes) chatCompletions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"no such route"}}`, http.StatusNotFound)
		return
	}
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		MaxTokens int64 `json:"max_tokens"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
		http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
		return
	}
	query := req.Messages[len(req.Messages)-1].Content
	query, _, _ = strings.Cut(query, "\n\nContext (JSON): ")
	bytes := 0
	for _, m := range req.Messages {
		bytes += len(m.Content)
	}
	f.mu.Lock()
	f.llmCalls[query] = append(f.llmCalls[query], llmCall{maxTokens: req.MaxTokens, model: req.Model, promptBytes: bytes, auth: r.Header.Get("Authorization")})
	f.mu.Unlock()
	if strings.HasPrefix(query, "slow") {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":      "chatcmpl-test",
		"object":  "chat.completion",
		"model":   req.Model + "-2026-01-01",
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": "answer to " + query}}},
		"usage":   map[string]any{"prompt_tokens": llmPromptTokens, "completion_tokens": llmCompletionTokens, "total_tokens": llmPromptTokens + llmCompletionTokens},
	})
}
