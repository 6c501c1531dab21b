// Package config reads the service's settings from the environment, once,
// with the documented defaults. It opens nothing: cmd/internal/connect does.
package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"schedsvc/schedules"
	"schedsvc/workflows"
)

// Config is every setting of the gateway and the worker.
type Config struct {
	HTTPAddr        string
	DatabaseURL     string
	RedisURL        string
	TemporalAddress string
	Namespace       string
	Temporal        schedules.TemporalConfig
	Limits          schedules.Limits
	JWTSecret       string
	JWTIssuer       string
	JWTAudience     string
	JWTAlgorithms   []string
	JWTPublicKeys   string // path of a PEM file
	JWTJWKSURL      string
	JWTLeeway       time.Duration
	RateLimit       RateLimit
	IdempotencyTTL  time.Duration
	MaxBodyBytes    int64
	TaskEndpointURL string
	ShutdownTimeout time.Duration
	// ReconcileInterval is how often the worker compares PostgreSQL with
	// Temporal and refreshes specs whose DST horizon runs out.
	ReconcileInterval time.Duration
	Execution         Execution // see the run execution block below
}

// Load reads the configuration. Unset variables take their defaults;
// malformed ones are an error naming the variable.
func Load(getenv func(string) string) (Config, error) {
	e := &env{getenv: getenv}
	limits := schedules.DefaultLimits()
	c := Config{
		HTTPAddr:        e.str("HTTP_ADDR", ":8080"),
		DatabaseURL:     e.str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/schedsvc?sslmode=disable"),
		RedisURL:        e.str("REDIS_URL", "redis://127.0.0.1:6379/0"),
		TemporalAddress: e.str("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		Namespace:       e.str("TEMPORAL_NAMESPACE", "default"),
		Temporal: schedules.TemporalConfig{
			TaskQueue:     e.str("TEMPORAL_TASK_QUEUE", "scheduled-tasks"),
			CallTimeout:   e.duration("TEMPORAL_CALL_TIMEOUT", 5*time.Second),
			CatchupWindow: e.duration("TEMPORAL_CATCHUP_WINDOW", 5*time.Minute),
		},
		Limits: schedules.Limits{
			MaxPerUser:            e.int("SCHEDULE_MAX_PER_USER", limits.MaxPerUser),
			MinInterval:           time.Duration(e.int("SCHEDULE_MIN_INTERVAL_MINS", int(limits.MinInterval/time.Minute))) * time.Minute,
			MaxBudgetUSD:          e.float("SCHEDULE_MAX_BUDGET_USD", limits.MaxBudgetUSD),
			DefaultBudgetUSD:      limits.DefaultBudgetUSD,
			DefaultTimeoutSeconds: limits.DefaultTimeoutSeconds,
			MaxTimeoutSeconds:     limits.MaxTimeoutSeconds,
		},
		JWTSecret:     e.str("JWT_HS256_SECRET", ""),
		JWTIssuer:     e.str("JWT_ISSUER", ""),
		JWTAudience:   e.str("JWT_AUDIENCE", ""),
		JWTAlgorithms: e.list("JWT_ALGORITHMS"),
		JWTPublicKeys: e.str("JWT_PUBLIC_KEY_FILE", ""),
		JWTJWKSURL:    e.str("JWT_JWKS_URL", ""),
		JWTLeeway:     e.duration("JWT_LEEWAY", 30*time.Second),
		RateLimit: RateLimit{
			Tiers:       e.tiers("RATE_LIMIT_TIERS", "default=60/1m:10"),
			DefaultTier: e.str("RATE_LIMIT_DEFAULT_TIER", "default"),
			FailClosed:  e.failMode("RATE_LIMIT_FAIL_MODE"),
			Timeout:     e.duration("RATE_LIMIT_TIMEOUT", 100*time.Millisecond),
		},
		IdempotencyTTL:    e.duration("IDEMPOTENCY_TTL", 24*time.Hour),
		MaxBodyBytes:      int64(e.int("MAX_BODY_BYTES", 64<<10)),
		TaskEndpointURL:   e.str("TASK_ENDPOINT_URL", ""),
		ShutdownTimeout:   e.duration("SHUTDOWN_TIMEOUT", 20*time.Second),
		ReconcileInterval: e.duration("RECONCILE_INTERVAL", 5*time.Minute),
	}
	if c.Limits.DefaultBudgetUSD > c.Limits.MaxBudgetUSD {
		c.Limits.DefaultBudgetUSD = c.Limits.MaxBudgetUSD
	}
	if c.Limits.MaxPerUser < 1 {
		e.errs = append(e.errs, errors.New("SCHEDULE_MAX_PER_USER must be at least 1"))
	}
	if c.Limits.MinInterval < time.Minute {
		e.errs = append(e.errs, errors.New("SCHEDULE_MIN_INTERVAL_MINS must be at least 1"))
	}
	if c.ReconcileInterval <= 0 {
		e.errs = append(e.errs, errors.New("RECONCILE_INTERVAL must be positive, such as 5m"))
	}
	if c.Limits.MaxBudgetUSD < 0 {
		e.errs = append(e.errs, errors.New("SCHEDULE_MAX_BUDGET_USD must not be negative"))
	}
	if _, ok := c.RateLimit.Tiers[c.RateLimit.DefaultTier]; !ok && len(c.RateLimit.Tiers) > 0 {
		e.errs = append(e.errs, fmt.Errorf("RATE_LIMIT_DEFAULT_TIER=%q is not one of the RATE_LIMIT_TIERS", c.RateLimit.DefaultTier))
	}
	if c.RateLimit.Timeout <= 0 {
		e.errs = append(e.errs, errors.New("RATE_LIMIT_TIMEOUT must be positive"))
	}
	if c.JWTLeeway < 0 || c.JWTLeeway > 5*time.Minute {
		e.errs = append(e.errs, errors.New("JWT_LEEWAY must be between 0s and 5m"))
	}
	c.Execution = e.execution()
	c.Limits.Executors = c.Execution.Executors
	c.Limits.DefaultExecutor = c.Execution.DefaultExecutor
	c.Limits.DefaultRetry = limits.DefaultRetry
	return c, errors.Join(e.errs...)
}

// RateLimit is the rate limiter's configuration.
type RateLimit struct {
	Tiers       map[string]redis_rate.Limit
	DefaultTier string
	FailClosed  bool // RATE_LIMIT_FAIL_MODE=closed: 503 while Redis is unreachable
	Timeout     time.Duration
}

// tierPattern is one tier of RATE_LIMIT_TIERS: name=rate/period:burst, as
// in default=60/1m:10 (60 requests per minute, bursts of 10).
var tierPattern = regexp.MustCompile(`^([A-Za-z0-9_-]+)=(\d+)/([0-9a-z.]+):(\d+)$`)

func (e *env) tiers(key, def string) map[string]redis_rate.Limit {
	v := e.str(key, def)
	out := map[string]redis_rate.Limit{}
	for _, item := range strings.Split(v, ",") {
		m := tierPattern.FindStringSubmatch(strings.TrimSpace(item))
		if m == nil {
			e.errs = append(e.errs, fmt.Errorf("%s: %q is not name=rate/period:burst, such as default=60/1m:10", key, item))
			continue
		}
		rate, _ := strconv.Atoi(m[2])
		burst, _ := strconv.Atoi(m[4])
		period, err := time.ParseDuration(m[3])
		// A zero rate or burst would divide by zero inside redis_rate.
		if err != nil || period <= 0 || rate < 1 || burst < 1 {
			e.errs = append(e.errs, fmt.Errorf("%s: tier %q needs a positive rate, period and burst", key, m[1]))
			continue
		}
		if _, dup := out[m[1]]; dup {
			e.errs = append(e.errs, fmt.Errorf("%s: tier %q is given twice", key, m[1]))
		}
		out[m[1]] = redis_rate.Limit{Rate: rate, Burst: burst, Period: period}
	}
	return out
}

func (e *env) failMode(key string) bool {
	switch v := e.getenv(key); v {
	case "", "open":
		return false
	case "closed":
		return true
	default:
		e.errs = append(e.errs, fmt.Errorf("%s=%q: use open or closed", key, v))
		return false
	}
}

func (e *env) list(key string) []string {
	var out []string
	for _, item := range strings.Split(e.getenv(key), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

type env struct {
	getenv func(string) string
	errs   []error
}

func (e *env) str(key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}

func (e *env) int(key string, def int) int {
	v := e.getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q is not an integer", key, v))
	}
	return n
}

func (e *env) float(key string, def float64) float64 {
	v := e.getenv(key)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q is not a number", key, v))
	}
	return f
}

func (e *env) duration(key string, def time.Duration) time.Duration {
	v := e.getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q is not a duration such as 5s", key, v))
	}
	return d
}

// ---- Run execution (issue 4): which executors perform runs, and how ----

// Execution configures the executors. The gateway reads which executors it
// accepts and the default for new schedules; the worker builds each enabled
// executor from the rest and refuses to start when one lacks its settings.
type Execution struct {
	Executors       []schedules.Executor // EXECUTORS_ENABLED, default "http"
	DefaultExecutor schedules.Executor   // EXECUTOR_DEFAULT, default "http"

	// http: TASK_ENDPOINT_URL (above) and these.
	TaskEndpointSecret           string // TASK_ENDPOINT_SECRET, HMAC-SHA256 key, at least 16 bytes
	TaskEndpointMaxRedirects     int    // TASK_ENDPOINT_MAX_REDIRECTS, 3
	TaskEndpointMaxResponseBytes int64  // TASK_ENDPOINT_MAX_RESPONSE_BYTES, 1 MiB

	// llm
	LLMBaseURL   string                     // LLM_BASE_URL, https://api.openai.com/v1
	LLMAPIKey    string                     // LLM_API_KEY
	LLMModel     string                     // LLM_MODEL, gpt-4o-mini
	LLMProvider  string                     // LLM_PROVIDER, openai
	LLMPrices    map[string]workflows.Price // LLM_PRICES, model=input/output USD per million tokens
	LLMMaxTokens int64                      // LLM_MAX_TOKENS, 4096

	// workflow
	ChildWorkflowType      string // CHILD_WORKFLOW_TYPE
	ChildWorkflowTaskQueue string // CHILD_WORKFLOW_TASK_QUEUE
}

func (e *env) execution() Execution {
	x := Execution{
		DefaultExecutor:              schedules.Executor(e.str("EXECUTOR_DEFAULT", string(schedules.ExecutorHTTP))),
		TaskEndpointSecret:           e.str("TASK_ENDPOINT_SECRET", ""),
		TaskEndpointMaxRedirects:     e.int("TASK_ENDPOINT_MAX_REDIRECTS", 3),
		TaskEndpointMaxResponseBytes: int64(e.int("TASK_ENDPOINT_MAX_RESPONSE_BYTES", 1<<20)),
		LLMBaseURL:                   e.str("LLM_BASE_URL", "https://api.openai.com/v1"),
		LLMAPIKey:                    e.str("LLM_API_KEY", ""),
		LLMModel:                     e.str("LLM_MODEL", "gpt-4o-mini"),
		LLMProvider:                  e.str("LLM_PROVIDER", "openai"),
		LLMMaxTokens:                 int64(e.int("LLM_MAX_TOKENS", 4096)),
		ChildWorkflowType:            e.str("CHILD_WORKFLOW_TYPE", ""),
		ChildWorkflowTaskQueue:       e.str("CHILD_WORKFLOW_TASK_QUEUE", ""),
	}
	for _, name := range strings.Split(e.str("EXECUTORS_ENABLED", string(schedules.ExecutorHTTP)), ",") {
		ex := schedules.Executor(strings.TrimSpace(name))
		if !slices.Contains(schedules.Executors, ex) {
			e.errs = append(e.errs, fmt.Errorf("EXECUTORS_ENABLED: %q is not one of %v", ex, schedules.Executors))
			continue
		}
		if !slices.Contains(x.Executors, ex) {
			x.Executors = append(x.Executors, ex)
		}
	}
	if !slices.Contains(x.Executors, x.DefaultExecutor) {
		e.errs = append(e.errs, fmt.Errorf("EXECUTOR_DEFAULT=%q must be one of EXECUTORS_ENABLED %v", x.DefaultExecutor, x.Executors))
	}
	prices, err := workflows.ParsePrices(e.getenv("LLM_PRICES"))
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("LLM_PRICES: %w", err))
	}
	x.LLMPrices = prices
	if x.TaskEndpointMaxRedirects < 0 || x.TaskEndpointMaxResponseBytes < 1 || x.LLMMaxTokens < 1 {
		e.errs = append(e.errs, errors.New("TASK_ENDPOINT_MAX_REDIRECTS must not be negative; TASK_ENDPOINT_MAX_RESPONSE_BYTES and LLM_MAX_TOKENS must be positive"))
	}
	return x
}
