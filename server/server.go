// Package server is the HTTP layer: it authenticates and validates requests
// against the embedded OpenAPI contract, calls the schedule manager, and
// answers every error as problem+json.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"

	contract "schedsvc/api"
	"schedsvc/config"
	"schedsvc/gen/api"
	"schedsvc/metrics"
	"schedsvc/problem"
	"schedsvc/schedules"
	"schedsvc/store"
)

// Deps is everything the HTTP layer needs. The settings come from config,
// which owns their defaults and has checked them; the server does not
// default them again.
type Deps struct {
	Manager  *schedules.Manager
	Auth     *Authenticator
	Store    *store.Store
	Redis    *redis.Client
	Temporal client.Client
	Log      *slog.Logger
	// MaxBodyBytes bounds request bodies (config's MAX_BODY_BYTES).
	MaxBodyBytes int64
	// RateLimit configures the per-caller limits.
	RateLimit config.RateLimit
	// IdempotencyTTL is how long answers to Idempotency-Key requests are
	// replayed.
	IdempotencyTTL time.Duration
	// Tracer provides the request spans; nil means the global provider.
	Tracer trace.TracerProvider
	// SpansUnrecorded says Tracer records no span (no exporter is configured). Requests then
	// get their span from a lighter middleware than otelhttp's: the caller's traceparent
	// continued, ids for the logs, problems and Temporal calls, and nothing computed for a
	// span no one reads (otelhttp cost about 7% of a GET's CPU; issue 9, P1 profile).
	SpansUnrecorded bool
	// Metrics counts rate-limit decisions and idempotency replays; nil
	// counts nothing (requests are counted by Instrument, around it all).
	Metrics *metrics.Metrics
}

// Server implements the generated strict server interface.
type Server struct {
	manager *schedules.Manager
	ready   readiness
	log     *slog.Logger
	// contractJSON is api/openapi.yaml converted once, for /openapi.json.
	contractJSON []byte
}

// NewServer assembles the handler: request id and logging around
// everything; for /api/v1, auth → body limit → request validation → rate
// limit → idempotency → strict handler → manager. Health endpoints are
// neither authenticated nor limited, nor are the contract and its docs page.
func NewServer(d Deps) (http.Handler, error) {
	doc, err := loadSpec()
	if err != nil {
		return nil, err
	}
	contractJSON, err := contract.JSON()
	if err != nil {
		return nil, err
	}
	v, err := newValidator(doc)
	if err != nil {
		return nil, err
	}
	limiter := NewRateLimiter(d.Redis, d.RateLimit, d.Log)
	limiter.metrics = d.Metrics
	idempotency := NewIdempotency(d.Store, d.IdempotencyTTL, d.Log)
	idempotency.metrics = d.Metrics
	s := &Server{
		manager: d.Manager,
		ready:   readiness{postgres: d.Store, redis: d.Redis, temporal: d.Temporal},
		log:     d.Log,

		contractJSON: contractJSON,
	}
	strict := api.NewStrictHandlerWithOptions(s, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, r, problem.InvalidRequest, err.Error(), nil)
		},
		ResponseErrorHandlerFunc: s.writeError,
	})
	mux := http.NewServeMux()
	routes := api.HandlerWithOptions(strict, api.StdHTTPServerOptions{
		BaseRouter: mux,
		ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, r, problem.InvalidRequest, err.Error(), nil)
		},
	})
	protected := d.Auth.requireAuth(d.Log, limitBody(d.MaxBodyBytes,
		v.middleware(limiter.middleware(idempotency.middleware(routes)))))
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/"):
			protected.ServeHTTP(w, r)
		case publicPaths[r.URL.Path]:
			v.middleware(routes).ServeHTTP(w, r)
		default:
			writeProblem(w, r, problem.NotFound, "no such endpoint", nil)
		}
	})
	if d.Tracer == nil {
		d.Tracer = otel.GetTracerProvider()
	}
	// The span is outermost, so the access log and every problem can name
	// the trace; an incoming W3C traceparent continues the caller's trace.
	propagators := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	if d.SpansUnrecorded {
		return unrecordedSpans(d.Tracer, propagators, observe(d.Log, root)), nil
	}
	return otelhttp.NewHandler(observe(d.Log, root), "http.request",
		otelhttp.WithTracerProvider(d.Tracer),
		otelhttp.WithPropagators(propagators),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	), nil
}

// publicPaths are the operations outside /api that answer without
// credentials or rate limits (the spec declares them with security: []).
var publicPaths = map[string]bool{
	"/healthz":                  true,
	"/readyz":                   true,
	"/openapi.yaml":             true,
	"/openapi.json":             true,
	"/docs":                     true,
	"/docs/redoc.standalone.js": true,
}

// readiness asks each dependency whether it answers, all at once, each
// under a short deadline.
type readiness struct {
	postgres *store.Store
	redis    *redis.Client
	temporal client.Client
}

const readinessTimeout = 2 * time.Second

func (rd readiness) check(ctx context.Context) (api.Readiness, bool) {
	ctx, cancel := context.WithTimeout(ctx, readinessTimeout)
	defer cancel()
	var out api.Readiness
	var wg sync.WaitGroup
	probe := func(dst *string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil {
				*dst = fmt.Sprintf("unavailable: %v", err)
				return
			}
			*dst = "ok"
		})
	}
	probe(&out.Checks.Postgres, rd.postgres.Ping)
	probe(&out.Checks.Redis, func(ctx context.Context) error { return rd.redis.Ping(ctx).Err() })
	probe(&out.Checks.Temporal, func(ctx context.Context) error {
		_, err := rd.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	})
	wg.Wait()
	ready := out.Checks.Postgres == "ok" && out.Checks.Redis == "ok" && out.Checks.Temporal == "ok"
	out.Status = api.ReadinessStatusReady
	if !ready {
		out.Status = api.ReadinessStatusNotReady
	}
	return out, ready
}
