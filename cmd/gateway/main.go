// Command gateway serves the schedule API. `gateway migrate` applies the
// database migrations and exits; `gateway apikey create|revoke|list`
// manages API keys.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"schedsvc/cmd/internal/connect"
	"schedsvc/cmd/internal/debug"
	"schedsvc/config"
	"schedsvc/db"
	"schedsvc/metrics"
	"schedsvc/netguard"
	"schedsvc/schedules"
	"schedsvc/server"
	"schedsvc/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	// The gateway judges notification URLs with the workers' allowlist.
	if _, err := netguard.ParseAllowlist(cfg.Notify.AllowedHosts); err != nil {
		return fmt.Errorf("NOTIFY_ALLOWED_HOSTS: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	if len(args) > 1 {
		switch args[1] {
		case "migrate":
			return migrate(ctx, cfg, log)
		case "apikey":
			return apikey(ctx, cfg, args[2:], stdout)
		case "serve":
		default:
			return fmt.Errorf("unknown command %q; use serve (the default), migrate or apikey", args[1])
		}
	}
	return serve(ctx, cfg, getenv, log)
}

func migrate(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	pool, err := connect.Postgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	res, err := db.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	log.Info("migrations applied", "count", len(res))
	return nil
}

func serve(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger) error {
	pool, err := connect.Postgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	auth, err := authenticator(cfg, st, log)
	if err != nil {
		return err
	}
	rdb, err := connect.Redis(cfg.RedisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	tracer, err := connect.Tracing(ctx, "schedsvc-gateway", getenv)
	if err != nil {
		return err
	}
	defer tracer.Shutdown(context.WithoutCancel(ctx)) //nolint:errcheck // best effort flush at exit
	tc, err := connect.Temporal(cfg.TemporalAddress, cfg.Namespace, log, tracer)
	if err != nil {
		return err
	}
	defer tc.Close()

	manager := schedules.NewManager(st, tc, cfg.Limits, cfg.Temporal, log)
	m := metrics.New()
	handler, err := server.NewServer(server.Deps{
		Manager: manager, Auth: auth, Store: st, Redis: rdb, Temporal: tc, Log: log, MaxBodyBytes: cfg.MaxBodyBytes,
		RateLimit:       cfg.RateLimit,
		IdempotencyTTL:  cfg.IdempotencyTTL,
		Tracer:          tracer,
		SpansUnrecorded: !connect.ExportsSpans(getenv),
		Metrics:         m,
	})
	if err != nil {
		return err
	}
	if handler, err = server.Instrument(m, handler); err != nil {
		return err
	}
	// The sweeper uses the pool, so on every way out of serve it is stopped
	// and waited for before the pool closes (this defer runs before that one).
	defer startSweeper(ctx, server.NewIdempotency(st, cfg.IdempotencyTTL, log), log)()
	stopDebug, err := debug.Serve(cfg.DebugAddr, log)
	if err != nil {
		return err
	}
	defer stopDebug()
	stopMetrics, err := metrics.Serve(cfg.MetricsAddr, m, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	return listenAndServe(ctx, cfg, handler, log)
}

// authenticator checks JWTs with the configured keys and API keys against
// the store.
func authenticator(cfg config.Config, st *store.Store, log *slog.Logger) (*server.Authenticator, error) {
	authCfg := server.AuthConfig{
		Algorithms: cfg.JWTAlgorithms, Secret: []byte(cfg.JWTSecret), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		Leeway: cfg.JWTLeeway, APIKeys: server.NewAPIKeyStore(st, log),
	}
	if cfg.JWTPublicKeys != "" {
		pemData, err := os.ReadFile(cfg.JWTPublicKeys)
		if err != nil {
			return nil, fmt.Errorf("JWT_PUBLIC_KEY_FILE: %w", err)
		}
		if authCfg.PublicKeys, err = server.ParsePublicKeysPEM(pemData); err != nil {
			return nil, fmt.Errorf("JWT_PUBLIC_KEY_FILE %s: %w", cfg.JWTPublicKeys, err)
		}
	}
	if cfg.JWTJWKSURL != "" {
		authCfg.JWKS = server.NewJWKS(cfg.JWTJWKSURL, nil)
	}
	auth, err := server.NewAuthenticator(authCfg)
	if err != nil {
		return nil, fmt.Errorf("JWT configuration: %w", err)
	}
	return auth, nil
}

// startSweeper runs cleanIdempotencyKeys until the returned stop is
// called; stop returns once the sweeper has.
func startSweeper(ctx context.Context, idem *server.Idempotency, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		cleanIdempotencyKeys(ctx, idem, log)
	}()
	return func() {
		cancel()
		<-swept
	}
}

// listenAndServe serves handler on HTTP_ADDR until ctx ends, then lets
// in-flight requests finish.
func listenAndServe(ctx context.Context, cfg config.Config, handler http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Info("gateway listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Finish in-flight requests before the connections close.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("gateway stopped")
	return nil
}

// cleanIdempotencyKeys removes expired Idempotency-Key records every ten
// minutes. Every replica does it; the deletes do not conflict.
func cleanIdempotencyKeys(ctx context.Context, s *server.Idempotency, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.DeleteExpired(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("delete expired idempotency keys", "error", err)
		}
		if n > 0 {
			log.Info("deleted expired idempotency keys", "count", n)
		}
	}
}
