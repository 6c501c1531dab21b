// Package connect opens the connections the binaries share, from values
// config has read; config itself opens nothing, so importing it links no
// client.
package connect

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// Postgres opens a pool and checks that the server answers.
func Postgres(ctx context.Context, url string) (*pgxpool.Pool, error) {
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

// Redis returns a client with short timeouts, so an outage is noticed in
// well under a second instead of go-redis's default seconds.
func Redis(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	opts.DialTimeout = 500 * time.Millisecond
	opts.ReadTimeout = 500 * time.Millisecond
	opts.WriteTimeout = 500 * time.Millisecond
	opts.MaxRetries = 1
	// Without this go-redis ignores context deadlines on reads, and the
	// rate limiter's short deadline would not hold against a hung server.
	opts.ContextTimeoutEnabled = true
	return redis.NewClient(opts), nil
}

// Temporal returns a client that connects lazily, so the gateway starts
// (and reports not ready) while Temporal is down. Its calls, and the
// workflows and activities of workers built on it, are traced with tracer.
func Temporal(address, namespace string, log *slog.Logger, tracer trace.TracerProvider) (client.Client, error) {
	opts, err := temporalTracing(tracer)
	if err != nil {
		return nil, err
	}
	opts.HostPort, opts.Namespace, opts.Logger = address, namespace, sdklog.NewStructuredLogger(log)
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, fmt.Errorf("temporal client: %w", err)
	}
	return c, nil
}
