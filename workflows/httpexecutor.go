package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxResponseBytes bounds what a task endpoint may send back; a run's result
// is stored in PostgreSQL and shown in history.
const maxResponseBytes = 1 << 20

// HTTPExecutor POSTs each run as JSON to a task endpoint and reads the run's
// result and cost from the JSON answer.
type HTTPExecutor struct {
	URL    string
	Client *http.Client
}

// taskResponse is the JSON a task endpoint answers with.
type taskResponse struct {
	Result       string  `json:"result"`
	TotalTokens  int64   `json:"total_tokens"`
	TotalCostUSD float64 `json:"total_cost_usd"`
	ModelUsed    string  `json:"model_used"`
	Provider     string  `json:"provider"`
}

// Execute implements Executor. A non-2xx answer, an unreadable answer or
// the deadline passing fails the run with the reason.
func (e *HTTPExecutor) Execute(ctx context.Context, t Task) (Outcome, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return Outcome{}, fmt.Errorf("encode task: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return Outcome{}, fmt.Errorf("build task request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Schedule-Id", t.ScheduleID)
	req.Header.Set("X-Run-Id", t.RunID)
	client := e.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Outcome{}, fmt.Errorf("task endpoint did not answer before the deadline: %w", context.DeadlineExceeded)
		}
		return Outcome{}, fmt.Errorf("call task endpoint: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Outcome{}, fmt.Errorf("task endpoint did not answer before the deadline: %w", context.DeadlineExceeded)
		}
		return Outcome{}, fmt.Errorf("read task endpoint answer: %w", err)
	}
	if len(raw) > maxResponseBytes {
		return Outcome{}, fmt.Errorf("task endpoint answer is larger than %d bytes", maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Outcome{}, fmt.Errorf("task endpoint answered %s: %s", resp.Status, snippet(raw))
	}
	var tr taskResponse
	if err := json.Unmarshal(raw, &tr); err != nil {
		return Outcome{}, fmt.Errorf("task endpoint answer is not the expected JSON: %w", err)
	}
	if tr.TotalTokens < 0 || tr.TotalCostUSD < 0 {
		return Outcome{}, fmt.Errorf("task endpoint reported negative usage (tokens %d, cost %v)", tr.TotalTokens, tr.TotalCostUSD)
	}
	return Outcome(tr), nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}
