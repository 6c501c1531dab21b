// Package config reads the service's settings from the environment, once,
// with the documented defaults, and opens the connections both binaries use.
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"schedsvc/schedules"
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
	MaxBodyBytes    int64
	TaskEndpointURL string
	ShutdownTimeout time.Duration
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
		JWTSecret:       e.str("JWT_HS256_SECRET", ""),
		JWTIssuer:       e.str("JWT_ISSUER", ""),
		JWTAudience:     e.str("JWT_AUDIENCE", ""),
		MaxBodyBytes:    int64(e.int("MAX_BODY_BYTES", 64<<10)),
		TaskEndpointURL: e.str("TASK_ENDPOINT_URL", ""),
		ShutdownTimeout: e.duration("SHUTDOWN_TIMEOUT", 20*time.Second),
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
	if c.Limits.MaxBudgetUSD < 0 {
		e.errs = append(e.errs, errors.New("SCHEDULE_MAX_BUDGET_USD must not be negative"))
	}
	return c, errors.Join(e.errs...)
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

// OpenPostgres opens a pool and checks that the server answers.
func OpenPostgres(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("reach postgres: %w", err)
	}
	return pool, nil
}

// OpenRedis returns a client with short timeouts, so an outage is noticed
// in well under a second instead of go-redis's default seconds.
func OpenRedis(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	opts.DialTimeout = 500 * time.Millisecond
	opts.ReadTimeout = 500 * time.Millisecond
	opts.WriteTimeout = 500 * time.Millisecond
	opts.MaxRetries = 1
	return redis.NewClient(opts), nil
}

// OpenTemporal returns a client that connects lazily, so the gateway starts
// (and reports not ready) while Temporal is down.
func OpenTemporal(address, namespace string, log *slog.Logger) (client.Client, error) {
	c, err := client.NewLazyClient(client.Options{
		HostPort:  address,
		Namespace: namespace,
		Logger:    sdklog.NewStructuredLogger(log),
	})
	if err != nil {
		return nil, fmt.Errorf("temporal client: %w", err)
	}
	return c, nil
}
