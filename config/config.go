// Package config reads the service's settings from the environment, once,
// and is the one place their defaults live. It imports no package of the
// service: the domain and the HTTP layer take its types as they are.
package config

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// Config is every setting of the gateway and the worker.
type Config struct {
	HTTPAddr        string
	DatabaseURL     string
	RedisURL        string
	TemporalAddress string
	Namespace       string
	Temporal        Temporal
	Limits          Limits
	JWTSecret       string
	JWTIssuer       string
	JWTAudience     string
	JWTAlgorithms   []string
	JWTPublicKeys   string // path of a PEM file
	JWTJWKSURL      string
	JWTLeeway       time.Duration
	RateLimit       RateLimit
	Notify          Notify
	IdempotencyTTL  time.Duration
	MaxBodyBytes    int64
	TaskEndpointURL string
	ShutdownTimeout time.Duration
	// ReconcileInterval is how often the worker compares PostgreSQL with
	// Temporal and refreshes specs whose DST horizon runs out.
	ReconcileInterval time.Duration
	// DebugAddr is where the gateway and the worker serve /debug/vars
	// (expvar, with the goroutine count) and /debug/pprof; empty (the
	// default) serves nothing. The soak reads it to watch for leaks.
	DebugAddr string
	// MetricsAddr is where the gateway and the worker serve /metrics
	// (Prometheus), unauthenticated; empty (the default) serves nothing.
	// The API's listener never serves it.
	MetricsAddr string

	Execution Execution // see the run execution block below
	Worker    Worker
}

// Worker is how the worker takes tasks from Temporal. Zero keeps the
// Temporal SDK's default (two pollers per kind; 1,000 concurrent tasks).
type Worker struct {
	WorkflowPollers       int // WORKER_WORKFLOW_POLLERS
	ActivityPollers       int // WORKER_ACTIVITY_POLLERS
	MaxConcurrentWorkflow int // WORKER_MAX_CONCURRENT_WORKFLOW_TASKS
	MaxConcurrentActivity int // WORKER_MAX_CONCURRENT_ACTIVITIES, Execute attempts at once
	MaxConcurrentLocal    int // WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES, run recordings at once
}

// Load reads the configuration. Unset variables take their defaults;
// malformed ones are an error naming the variable.
func Load(getenv func(string) string) (Config, error) {
	e := &env{getenv: getenv}
	c := Config{
		HTTPAddr:        e.str("HTTP_ADDR", ":8080"),
		DatabaseURL:     e.str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/schedsvc?sslmode=disable"),
		RedisURL:        e.str("REDIS_URL", "redis://127.0.0.1:6379/0"),
		TemporalAddress: e.str("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		Namespace:       e.str("TEMPORAL_NAMESPACE", "default"),
		Temporal: Temporal{
			TaskQueue:     e.str("TEMPORAL_TASK_QUEUE", "scheduled-tasks"),
			CallTimeout:   e.duration("TEMPORAL_CALL_TIMEOUT", 5*time.Second),
			CatchupWindow: e.duration("TEMPORAL_CATCHUP_WINDOW", 5*time.Minute),
		},
		Limits: Limits{
			MaxPerUser:            e.int("SCHEDULE_MAX_PER_USER", 50),
			MinInterval:           time.Duration(e.int("SCHEDULE_MIN_INTERVAL_MINS", 60)) * time.Minute,
			MaxBudgetUSD:          e.float("SCHEDULE_MAX_BUDGET_USD", 10),
			BackfillMaxFirings:    e.int("BACKFILL_MAX_FIRINGS", 100),
			DefaultBudgetUSD:      1,
			DefaultTimeoutSeconds: 600,
			MaxTimeoutSeconds:     86400,
			DefaultRetry:          Retry{MaxAttempts: 3, InitialBackoffSeconds: 10, MaxBackoffSeconds: 300},
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
		Notify: Notify{
			SigningSecret: e.str("NOTIFY_SIGNING_SECRET", ""),
			AllowedHosts:  e.str("NOTIFY_ALLOWED_HOSTS", ""),
			MaxAttempts:   e.int("NOTIFY_MAX_ATTEMPTS", 8),
			Timeout:       e.duration("NOTIFY_TIMEOUT", 10*time.Second),
		},
		IdempotencyTTL:    e.duration("IDEMPOTENCY_TTL", 24*time.Hour),
		MaxBodyBytes:      int64(e.int("MAX_BODY_BYTES", 64<<10)),
		TaskEndpointURL:   e.str("TASK_ENDPOINT_URL", ""),
		ShutdownTimeout:   e.duration("SHUTDOWN_TIMEOUT", 20*time.Second),
		ReconcileInterval: e.duration("RECONCILE_INTERVAL", 5*time.Minute),
		DebugAddr:         e.str("DEBUG_ADDR", ""),
		MetricsAddr:       e.str("METRICS_ADDR", ""),
		Worker: Worker{
			WorkflowPollers:       e.int("WORKER_WORKFLOW_POLLERS", 0),
			ActivityPollers:       e.int("WORKER_ACTIVITY_POLLERS", 0),
			MaxConcurrentWorkflow: e.int("WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", 0),
			MaxConcurrentActivity: e.int("WORKER_MAX_CONCURRENT_ACTIVITIES", 0),
			MaxConcurrentLocal:    e.int("WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES", 0),
		},
	}
	for key, v := range map[string]int{
		"WORKER_WORKFLOW_POLLERS": c.Worker.WorkflowPollers, "WORKER_ACTIVITY_POLLERS": c.Worker.ActivityPollers,
		"WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": c.Worker.MaxConcurrentWorkflow, "WORKER_MAX_CONCURRENT_ACTIVITIES": c.Worker.MaxConcurrentActivity,
		"WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES": c.Worker.MaxConcurrentLocal,
	} {
		if v < 0 {
			e.errs = append(e.errs, fmt.Errorf("%s must not be negative (0 keeps the SDK default)", key))
		}
	}
	c.Temporal.Namespace = c.Namespace
	if c.Limits.DefaultBudgetUSD > c.Limits.MaxBudgetUSD {
		c.Limits.DefaultBudgetUSD = c.Limits.MaxBudgetUSD
	}
	if c.Limits.MaxPerUser < 1 {
		e.errs = append(e.errs, errors.New("SCHEDULE_MAX_PER_USER must be at least 1"))
	}
	if c.Limits.BackfillMaxFirings < 1 {
		e.errs = append(e.errs, errors.New("BACKFILL_MAX_FIRINGS must be at least 1"))
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
	if c.IdempotencyTTL <= 0 {
		e.errs = append(e.errs, errors.New("IDEMPOTENCY_TTL must be positive, such as 24h"))
	}
	if c.MaxBodyBytes < 1 {
		e.errs = append(e.errs, errors.New("MAX_BODY_BYTES must be positive"))
	}
	if c.JWTLeeway < 0 || c.JWTLeeway > 5*time.Minute {
		e.errs = append(e.errs, errors.New("JWT_LEEWAY must be between 0s and 5m"))
	}
	if n := len(c.Notify.SigningSecret); n > 0 && n < 16 {
		e.errs = append(e.errs, errors.New("NOTIFY_SIGNING_SECRET must be at least 16 bytes"))
	}
	if c.Notify.MaxAttempts < 1 || c.Notify.MaxAttempts > 100 {
		e.errs = append(e.errs, errors.New("NOTIFY_MAX_ATTEMPTS must be between 1 and 100"))
	}
	if c.Notify.Timeout <= 0 {
		e.errs = append(e.errs, errors.New("NOTIFY_TIMEOUT must be positive, such as 10s"))
	}
	c.Limits.NotifyEnabled = c.Notify.SigningSecret != ""
	c.Limits.NotifyAllowedHosts = c.Notify.AllowedHosts
	c.Limits.NotifyMaxAttempts = c.Notify.MaxAttempts
	c.Limits.NotifyTimeout = c.Notify.Timeout
	c.Execution = e.execution()
	c.Limits.Executors = c.Execution.Executors
	c.Limits.DefaultExecutor = c.Execution.DefaultExecutor
	return c, errors.Join(e.errs...)
}

// Defaults is the configuration of an empty environment: every documented
// default, for tests and tools that start from them.
func Defaults() Config {
	c, err := Load(func(string) string { return "" })
	if err != nil {
		// TestDefaults keeps this from happening.
		panic(fmt.Sprintf("config: the defaults do not load: %v", err))
	}
	return c
}

// Temporal says where schedule actions run and how long the schedule
// manager waits for Temporal before answering "unavailable".
type Temporal struct {
	Namespace     string        // TEMPORAL_NAMESPACE (Config.Namespace), for the calls made without the SDK's client
	TaskQueue     string        // TEMPORAL_TASK_QUEUE, scheduled-tasks
	CallTimeout   time.Duration // TEMPORAL_CALL_TIMEOUT, 5s
	CatchupWindow time.Duration // TEMPORAL_CATCHUP_WINDOW, 5m
}

// Limits are the per-user rules every schedule must respect, and what a new
// schedule gets for the settings its creator leaves out.
type Limits struct {
	MaxPerUser            int           // SCHEDULE_MAX_PER_USER, 50
	MinInterval           time.Duration // SCHEDULE_MIN_INTERVAL_MINS, 60
	MaxBudgetUSD          float64       // SCHEDULE_MAX_BUDGET_USD, 10
	BackfillMaxFirings    int           // BACKFILL_MAX_FIRINGS, 100: firings one backfill request may start
	DefaultBudgetUSD      float64       // 1, or MaxBudgetUSD when that is lower
	DefaultTimeoutSeconds int           // 600
	MaxTimeoutSeconds     int           // 86400

	// Executors are those this deployment's workers can run; new schedules
	// without one get DefaultExecutor (Execution's, below).
	Executors       []Executor
	DefaultExecutor Executor
	DefaultRetry    Retry // 3 attempts, 10 s apart, doubling up to 300 s

	// NotifyEnabled is whether schedules may set `notify` (Notify's
	// secret is set); NotifyAllowedHosts is Notify's allowlist, which the
	// gateway checks notification URLs against.
	NotifyEnabled      bool
	NotifyAllowedHosts string
	// NotifyMaxAttempts and NotifyTimeout are Notify's, for the deliveries
	// the gateway starts itself (a manual pause's SCHEDULE_PAUSED).
	NotifyMaxAttempts int
	NotifyTimeout     time.Duration
}

// Notify configures completion notifications. Without a signing secret
// they are off: the gateway refuses `notify` (422 invalid-field) and the
// worker sends nothing, rather than posting events nobody can verify.
type Notify struct {
	SigningSecret string        // NOTIFY_SIGNING_SECRET, at least 16 bytes; empty (default) turns notifications off
	AllowedHosts  string        // NOTIFY_ALLOWED_HOSTS: comma-separated host names, addresses and CIDRs the SSRF policy admits though private; empty (netguard.ParseAllowlist checks it)
	MaxAttempts   int           // NOTIFY_MAX_ATTEMPTS, 8: attempts per event, the first included
	Timeout       time.Duration // NOTIFY_TIMEOUT, 10s: one attempt, connection to answer
}

// Retry has the fields of the domain's retry policy, which converts it and
// adds the behaviour.
type Retry struct {
	MaxAttempts           int
	InitialBackoffSeconds int
	MaxBackoffSeconds     int
}

// RateLimit is the rate limiter's configuration. Load checks that every
// tier is usable (a zero rate divides by zero inside redis_rate) and that
// DefaultTier is one of them.
type RateLimit struct {
	Tiers map[string]redis_rate.Limit // RATE_LIMIT_TIERS, default=60/1m:10
	// DefaultTier applies to callers whose key or token names no tier, or
	// one not in Tiers (RATE_LIMIT_DEFAULT_TIER, default).
	DefaultTier string
	FailClosed  bool // RATE_LIMIT_FAIL_MODE=closed: 503 while Redis is unreachable
	// Timeout bounds each limiter call, so a Redis outage costs a request at
	// most this long instead of go-redis's seconds of retries
	// (RATE_LIMIT_TIMEOUT, 100ms).
	Timeout time.Duration
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
	return parse(e, key, def, "an integer", strconv.Atoi)
}

func (e *env) float(key string, def float64) float64 {
	return parse(e, key, def, "a number", func(v string) (float64, error) { return strconv.ParseFloat(v, 64) })
}

func (e *env) duration(key string, def time.Duration) time.Duration {
	return parse(e, key, def, "a duration such as 5s", time.ParseDuration)
}

// parse reads key with conv, def when unset; a value conv refuses is an
// error saying what the variable must be.
func parse[T any](e *env, key string, def T, what string, conv func(string) (T, error)) T {
	v := e.getenv(key)
	if v == "" {
		return def
	}
	out, err := conv(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q is not %s", key, v, what))
	}
	return out
}

// ---- Run execution (issue 4): which executors perform runs, and how ----

// Execution configures the executors. The gateway reads which executors it
// accepts and the default for new schedules; the worker builds each enabled
// executor from the rest and refuses to start when one lacks its settings.
type Execution struct {
	Executors       []Executor // EXECUTORS_ENABLED, default "http"
	DefaultExecutor Executor   // EXECUTOR_DEFAULT, default "http"

	// http: TASK_ENDPOINT_URL (above) and these.
	TaskEndpointSecret           string // TASK_ENDPOINT_SECRET, HMAC-SHA256 key, at least 16 bytes
	TaskEndpointMaxRedirects     int    // TASK_ENDPOINT_MAX_REDIRECTS, 3
	TaskEndpointMaxResponseBytes int64  // TASK_ENDPOINT_MAX_RESPONSE_BYTES, 1 MiB

	// llm
	LLMBaseURL   string           // LLM_BASE_URL, https://api.openai.com/v1
	LLMAPIKey    string           // LLM_API_KEY
	LLMModel     string           // LLM_MODEL, gpt-4o-mini
	LLMProvider  string           // LLM_PROVIDER, openai
	LLMPrices    map[string]Price // LLM_PRICES, model=input/output USD per million tokens
	LLMMaxTokens int64            // LLM_MAX_TOKENS, 4096

	// workflow
	ChildWorkflowType      string // CHILD_WORKFLOW_TYPE
	ChildWorkflowTaskQueue string // CHILD_WORKFLOW_TASK_QUEUE
}

// Executor names what performs a schedule's runs. The names are
// configuration's vocabulary (EXECUTORS_ENABLED, EXECUTOR_DEFAULT), so they
// live here and the domain takes them as they are.
type Executor string

const (
	ExecutorLLM      Executor = "llm"
	ExecutorHTTP     Executor = "http"
	ExecutorWorkflow Executor = "workflow"
	// ExecutorEcho is a demo: it answers with the query and costs nothing.
	ExecutorEcho Executor = "echo"
)

// Executors lists every executor the service knows, in a stable order.
var Executors = []Executor{ExecutorLLM, ExecutorHTTP, ExecutorWorkflow, ExecutorEcho}

// Price is what a model costs in USD per million tokens.
type Price struct {
	InputPerMTok  float64
	OutputPerMTok float64
}

func (e *env) execution() Execution {
	x := Execution{
		DefaultExecutor:              Executor(e.str("EXECUTOR_DEFAULT", string(ExecutorHTTP))),
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
	for _, name := range strings.Split(e.str("EXECUTORS_ENABLED", string(ExecutorHTTP)), ",") {
		ex := Executor(strings.TrimSpace(name))
		if !slices.Contains(Executors, ex) {
			e.errs = append(e.errs, fmt.Errorf("EXECUTORS_ENABLED: %q is not one of %v", ex, Executors))
			continue
		}
		if !slices.Contains(x.Executors, ex) {
			x.Executors = append(x.Executors, ex)
		}
	}
	if !slices.Contains(x.Executors, x.DefaultExecutor) {
		e.errs = append(e.errs, fmt.Errorf("EXECUTOR_DEFAULT=%q must be one of EXECUTORS_ENABLED %v", x.DefaultExecutor, x.Executors))
	}
	prices, err := parsePrices(e.getenv("LLM_PRICES"))
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("LLM_PRICES: %w", err))
	}
	x.LLMPrices = prices
	if x.TaskEndpointMaxRedirects < 0 || x.TaskEndpointMaxResponseBytes < 1 || x.LLMMaxTokens < 1 {
		e.errs = append(e.errs, errors.New("TASK_ENDPOINT_MAX_REDIRECTS must not be negative; TASK_ENDPOINT_MAX_RESPONSE_BYTES and LLM_MAX_TOKENS must be positive"))
	}
	return x
}

// parsePrices reads a price table written as
// "model=input/output,model=input/output" in USD per million tokens, e.g.
// "gpt-4o-mini=0.15/0.60".
func parsePrices(s string) (map[string]Price, error) {
	out := map[string]Price{}
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		model, rates, ok := strings.Cut(entry, "=")
		in, outRate, ok2 := strings.Cut(rates, "/")
		if !ok || !ok2 || strings.TrimSpace(model) == "" {
			return nil, fmt.Errorf("price %q is not model=input/output (USD per million tokens)", entry)
		}
		pi, err1 := strconv.ParseFloat(strings.TrimSpace(in), 64)
		po, err2 := strconv.ParseFloat(strings.TrimSpace(outRate), 64)
		if err1 != nil || err2 != nil || pi < 0 || po < 0 || math.IsInf(pi, 0) || math.IsInf(po, 0) {
			return nil, fmt.Errorf("price %q: rates must be non-negative numbers", entry)
		}
		out[strings.TrimSpace(model)] = Price{InputPerMTok: pi, OutputPerMTok: po}
	}
	return out, nil
}
