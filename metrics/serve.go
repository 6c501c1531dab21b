package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Probe is one more handler on the metrics listener (the worker's health probes).
type Probe struct {
	Pattern string // a ServeMux pattern, e.g. "GET /healthz"
	Handler http.Handler
}

// Serve listens on addr and serves GET /metrics, without authentication,
// until the returned stop is called, with any routes beside it. It is the
// only place the metrics are served: never on the API's listener, so that
// an operator chooses who can reach them by the address (METRICS_ADDR)
// alone. An empty addr serves nothing and stop does nothing.
func Serve(addr string, m *Metrics, log *slog.Logger, routes ...Probe) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	for _, r := range routes {
		mux.Handle(r.Pattern, r.Handler)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
