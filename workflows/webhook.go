package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"schedsvc/signing"
)

// HTTPConfig configures the webhook executor.
type HTTPConfig struct {
	URL              string
	Secret           []byte // HMAC-SHA256 key shared with the receiver
	MaxResponseBytes int64  // default 1 MiB: a run's result is stored and shown in history
	MaxRedirects     int    // default 0: a redirect fails the attempt
	Transport        http.RoundTripper
}

// HTTPExecutor POSTs each attempt as signed JSON to a task endpoint and reads
// the run's result and cost from the JSON answer.
type HTTPExecutor struct {
	url     string
	secret  []byte
	maxBody int64
	client  *http.Client
}

// NewHTTPExecutor checks the configuration: the target must be an absolute
// http or https URL, and a signing secret is required.
func NewHTTPExecutor(c HTTPConfig) (*HTTPExecutor, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("task endpoint %q must be an absolute http or https URL", c.URL)
	}
	if len(c.Secret) < 16 {
		return nil, errors.New("the webhook signing secret must be at least 16 bytes")
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = 1 << 20
	}
	maxRedirects := c.MaxRedirects
	return &HTTPExecutor{
		url:     c.URL,
		secret:  c.Secret,
		maxBody: c.MaxResponseBytes,
		client: &http.Client{
			Transport: c.Transport,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) > maxRedirects {
					return Permanent(fmt.Errorf("task endpoint redirected more than %d times", maxRedirects))
				}
				if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
					return Permanent(fmt.Errorf("task endpoint redirected to a %s URL; only http and https are followed", req.URL.Scheme))
				}
				return nil
			},
		},
	}, nil
}

// Execute implements Executor. A non-2xx answer, an oversized or unreadable
// answer or the deadline passing fails the attempt with the reason; 4xx
// answers other than 408, 425 and 429 are not retried.
func (e *HTTPExecutor) Execute(ctx context.Context, t Task) (Outcome, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return Outcome{}, Permanent(fmt.Errorf("encode task: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return Outcome{}, Permanent(fmt.Errorf("build task request: %w", err))
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("X-Schedule-Id", t.ScheduleID)
	h.Set("X-Run-Id", t.RunID)
	h.Set(signing.IdempotencyHeader, t.RunID)
	h.Set(signing.AttemptHeader, strconv.Itoa(t.Attempt))
	h.Set(signing.TimestampHeader, ts)
	h.Set(signing.SignatureHeader, signing.Sign(e.secret, ts, body))
	raw, err := exchange(ctx, e.client, req, e.maxBody, peer{
		name: "task endpoint", answer: "task endpoint answer", endpoint: "task endpoint", tooLargePermanent: true,
	})
	if err != nil {
		return Outcome{}, err
	}
	var tr ChildResult
	if err := json.Unmarshal(raw, &tr); err != nil {
		return Outcome{}, fmt.Errorf("task endpoint answer is not the expected JSON: %w", err)
	}
	u := tr.usage()
	if u.TotalTokens < 0 || u.PromptTokens < 0 || u.CompletionTokens < 0 || u.TotalCostUSD < 0 {
		return Outcome{}, Permanent(fmt.Errorf("task endpoint reported negative usage (tokens %d, cost %v)", u.TotalTokens, u.TotalCostUSD))
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	u.ModelUsed, u.Provider = strings.TrimSpace(u.ModelUsed), strings.TrimSpace(u.Provider)
	return Outcome{Result: tr.Result, Usage: u}, nil
}
