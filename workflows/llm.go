package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"

	"schedsvc/schedules"
)

// Price is what a model costs in USD per million tokens; the worker
// converts config.Price, which LLM_PRICES is read into.
type Price struct {
	InputPerMTok  float64
	OutputPerMTok float64
}

// Cost is the price of the given usage.
func (p Price) Cost(promptTokens, completionTokens int64) float64 {
	return (float64(promptTokens)*p.InputPerMTok + float64(completionTokens)*p.OutputPerMTok) / 1e6
}

// LLMConfig configures the chat-completions executor.
type LLMConfig struct {
	BaseURL   string // up to and including the version, e.g. https://api.openai.com/v1
	APIKey    string
	Model     string // used unless task_context names another priced model
	Provider  string // reported as the run's provider
	Prices    map[string]Price
	MaxTokens int64 // the most max_tokens ever sent, whatever the budget allows
	Transport http.RoundTripper
}

// LLMExecutor performs a run as one OpenAI-compatible chat-completions call.
// Before the call it caps max_tokens so that the worst-case cost fits the
// attempt's budget; an attempt that cannot fit is refused without a call.
type LLMExecutor struct {
	cfg    LLMConfig
	url    string
	client *http.Client
}

// maxLLMResponseBytes bounds a chat-completions answer.
const maxLLMResponseBytes = 4 << 20

// NewLLMExecutor checks the configuration: an http(s) base URL, a model with
// a price, and a positive MaxTokens.
func NewLLMExecutor(c LLMConfig) (*LLMExecutor, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("LLM base URL %q must be an absolute http or https URL", c.BaseURL)
	}
	if c.Model == "" {
		return nil, errors.New("LLM model must be set")
	}
	if _, ok := c.Prices[c.Model]; !ok {
		return nil, fmt.Errorf("LLM model %q has no price; add it to the price table", c.Model)
	}
	if c.MaxTokens < 1 {
		return nil, errors.New("LLM max tokens must be at least 1")
	}
	return &LLMExecutor{
		cfg:    c,
		url:    strings.TrimSuffix(c.BaseURL, "/") + "/chat/completions",
		client: &http.Client{Transport: c.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}, nil
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model     string        `json:"model"`
	Messages  []chatMessage `json:"messages"`
	MaxTokens int64         `json:"max_tokens"`
}

type chatResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Message      chatMessage `json:"message"`
		FinishReason string      `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
		TotalTokens      int64 `json:"total_tokens"`
	} `json:"usage"`
}

// messages builds the conversation: task_context.system_prompt as the
// system message, the query as the user message, and the rest of the
// context, if any, as JSON after the query.
func messages(t Task) ([]chatMessage, error) {
	var msgs []chatMessage
	rest := map[string]any{}
	for k, v := range t.TaskContext {
		switch k {
		case "model":
		case "system_prompt":
			s, ok := v.(string)
			if !ok {
				return nil, Permanent(errors.New("task_context.system_prompt must be a string"))
			}
			msgs = append(msgs, chatMessage{Role: "system", Content: s})
		default:
			rest[k] = v
		}
	}
	user := t.TaskQuery
	if len(rest) > 0 {
		b, err := json.Marshal(rest) // map keys are sorted: the prompt is stable
		if err != nil {
			return nil, Permanent(fmt.Errorf("encode task_context: %w", err))
		}
		user += "\n\nContext (JSON): " + string(b)
	}
	return append(msgs, chatMessage{Role: "user", Content: user}), nil
}

// promptTokenBound is an upper bound of the prompt's tokens without a
// tokenizer: byte-level BPE tokenizers never produce more tokens than bytes,
// plus a few framing tokens per message.
func promptTokenBound(msgs []chatMessage) int64 {
	n := int64(3)
	for _, m := range msgs {
		n += int64(len(m.Content)+len(m.Role)) + 4
	}
	return n
}

// budgetMaxTokens is the largest max_tokens whose worst-case cost, with a
// prompt of at most promptTokens, fits budget; at most limit. It returns an
// error wrapping ErrBudget when not even one completion token fits.
func budgetMaxTokens(p Price, promptTokens int64, budget float64, limit int64) (int64, error) {
	promptCost := p.Cost(promptTokens, 0)
	if promptCost >= budget && promptCost > 0 {
		return 0, Permanent(fmt.Errorf("%w: the prompt alone may cost up to %.6f USD, over the %.6f USD budget left for this run", ErrBudget, promptCost, budget))
	}
	if p.OutputPerMTok == 0 {
		return limit, nil
	}
	n := int64(math.Floor((budget - promptCost) * 1e6 / p.OutputPerMTok))
	if n < 1 {
		return 0, Permanent(fmt.Errorf("%w: %.6f USD left for this run does not pay for one completion token after a prompt of up to %.6f USD", ErrBudget, budget, promptCost))
	}
	return min(n, limit), nil
}

// Execute implements Executor.
func (e *LLMExecutor) Execute(ctx context.Context, t Task) (Outcome, error) {
	model := e.cfg.Model
	if m, ok := t.TaskContext["model"]; ok {
		s, isString := m.(string)
		if !isString || s == "" {
			return Outcome{}, Permanent(errors.New("task_context.model must be a model name"))
		}
		model = s
	}
	price, ok := e.cfg.Prices[model]
	if !ok {
		return Outcome{}, Permanent(fmt.Errorf("model %q has no price on this server, so its budget cannot be enforced; use one of the priced models", model))
	}
	msgs, err := messages(t)
	if err != nil {
		return Outcome{}, err
	}
	maxTokens, err := budgetMaxTokens(price, promptTokenBound(msgs), t.BudgetUSD, e.cfg.MaxTokens)
	if err != nil {
		return Outcome{Usage: schedules.Usage{ModelUsed: model, Provider: e.cfg.Provider}}, err
	}
	body, err := json.Marshal(chatRequest{Model: model, Messages: msgs, MaxTokens: maxTokens})
	if err != nil {
		return Outcome{}, Permanent(fmt.Errorf("encode chat request: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return Outcome{}, Permanent(fmt.Errorf("build chat request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.cfg.APIKey)
	}
	out := Outcome{Usage: schedules.Usage{ModelUsed: model, Provider: e.cfg.Provider}, MaxTokens: maxTokens}
	raw, err := exchange(ctx, e.client, req, maxLLMResponseBytes, peer{
		name: "the model", answer: "the model's answer", endpoint: "the model endpoint",
	})
	if err != nil {
		return out, err
	}
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil {
		return out, fmt.Errorf("the model's answer is not chat-completions JSON: %w", err)
	}
	if cr.Usage != nil {
		out.PromptTokens = max(cr.Usage.PromptTokens, 0)
		out.CompletionTokens = max(cr.Usage.CompletionTokens, 0)
		out.TotalTokens = max(cr.Usage.TotalTokens, out.PromptTokens+out.CompletionTokens)
		out.TotalCostUSD = price.Cost(out.PromptTokens, out.CompletionTokens)
	}
	if cr.Model != "" {
		out.ModelUsed = cr.Model
	}
	if cr.Usage == nil {
		// Without usage the cost is unknown: count the worst case, which the
		// budget allowed, rather than nothing.
		out.TotalCostUSD = price.Cost(promptTokenBound(msgs), maxTokens)
		return out, errors.New("the model's answer has no usage, so its cost is unknown; counted the worst case")
	}
	if len(cr.Choices) == 0 {
		return out, errors.New("the model's answer has no choices")
	}
	out.Result = cr.Choices[0].Message.Content
	return out, nil
}
