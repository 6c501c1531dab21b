package main

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"schedsvc/metrics"
)

// probeTimeout bounds each dependency's answer to a readiness probe.
const probeTimeout = time.Second

// pinger is what readiness asks PostgreSQL (a *pgxpool.Pool).
type pinger interface{ Ping(context.Context) error }

// probes are the worker's health endpoints, served on the METRICS_ADDR
// listener beside /metrics (the worker has no API listener): GET /healthz
// answers 200 while the process serves, for a liveness probe; GET /readyz
// answers 200 when PostgreSQL and Temporal both answer within a second,
// else 503 naming the ones that did not, for a readiness probe and alerts.
// A worker that is not ready keeps running: the Temporal SDK retries its
// polls, and the runs wait in Temporal until it is back.
func probes(pg pinger, tc client.Client) []metrics.Probe {
	live := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeProbe(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	ready := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checks := map[string]func(context.Context) error{
			"postgres": pg.Ping,
			"temporal": func(ctx context.Context) error {
				_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
				return err
			},
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		result := map[string]string{}
		for name, check := range checks {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
				defer cancel()
				state := "ok"
				if err := check(ctx); err != nil {
					state = "unavailable"
				}
				mu.Lock()
				result[name] = state
				mu.Unlock()
			})
		}
		wg.Wait()
		status, code := "ready", http.StatusOK
		for _, state := range result {
			if state != "ok" {
				status, code = "not ready", http.StatusServiceUnavailable
			}
		}
		writeProbe(w, code, map[string]any{"status": status, "checks": result})
	})
	return []metrics.Probe{{Pattern: "GET /healthz", Handler: live}, {Pattern: "GET /readyz", Handler: ready}}
}

func writeProbe(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
