package faults_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"schedsvc/signing"
)

const endpointSecret = "fault-suite-webhook-secret"

// attemptSeen is one call the task endpoint received.
type attemptSeen struct {
	key     string // Idempotency-Key
	attempt int
	runID   string
}

// endpoint is the worker's task endpoint: it checks each call's signature,
// records it, lets the row act on it (hook) and answers with fixed usage.
type endpoint struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []attemptSeen
	// hook runs before the answer; n counts calls from 1. It may block on
	// ctx (the worker's request), which ends when the worker dies.
	hook func(ctx context.Context, n int)
}

// The usage every answer reports, to check counters and cost exactly.
const (
	usagePrompt     = 1200
	usageCompletion = 345
	usageCost       = 0.012345
)

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := signing.VerifySignature([]byte(endpointSecret), r.Header.Get(signing.TimestampHeader),
			r.Header.Get(signing.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		attempt, _ := strconv.Atoi(r.Header.Get(signing.AttemptHeader))
		var task struct {
			RunID string `json:"run_id"`
		}
		_ = json.Unmarshal(body, &task)
		e.mu.Lock()
		e.seen = append(e.seen, attemptSeen{key: r.Header.Get(signing.IdempotencyHeader), attempt: attempt, runID: task.RunID})
		n, hook := len(e.seen), e.hook
		e.mu.Unlock()
		if hook != nil {
			hook(r.Context(), n)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"result": "done", "prompt_tokens": usagePrompt, "completion_tokens": usageCompletion,
			"total_tokens": usagePrompt + usageCompletion, "total_cost_usd": usageCost,
			"model_used": "fault-model", "provider": "fault-suite",
		})
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) calls() []attemptSeen {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]attemptSeen(nil), e.seen...)
}
