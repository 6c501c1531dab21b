// Command gateway serves the schedule API. `gateway migrate` applies the
// database migrations and exits.
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

	"schedsvc/config"
	"schedsvc/db"
	"schedsvc/schedules"
	"schedsvc/server"
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
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	if len(args) > 1 {
		switch args[1] {
		case "migrate":
			return migrate(ctx, cfg, log)
		case "serve":
		default:
			return fmt.Errorf("unknown command %q; use serve (the default) or migrate", args[1])
		}
	}
	return serve(ctx, cfg, log)
}

func migrate(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	pool, err := config.OpenPostgres(ctx, cfg.DatabaseURL)
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

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	auth, err := server.NewAuthenticator(server.AuthConfig{
		Secret: []byte(cfg.JWTSecret), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Leeway: 30 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("JWT_HS256_SECRET: %w", err)
	}
	pool, err := config.OpenPostgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	rdb, err := config.OpenRedis(cfg.RedisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	tc, err := config.OpenTemporal(cfg.TemporalAddress, cfg.Namespace, log)
	if err != nil {
		return err
	}
	defer tc.Close()

	manager := schedules.NewManager(pool, tc.ScheduleClient(), cfg.Limits, cfg.Temporal, log)
	handler, err := server.NewServer(server.Deps{
		Manager: manager, Auth: auth, Postgres: pool, Redis: rdb, Temporal: tc, Log: log, MaxBodyBytes: cfg.MaxBodyBytes,
	})
	if err != nil {
		return err
	}
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
