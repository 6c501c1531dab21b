package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// The development task endpoint stands in for a real model call so that a schedule created
// in the dev stack produces complete runs (result, tokens, cost, model, provider) without
// credentials or network. It is started only when TASK_ENDPOINT_URL is not set, and says what
// it is in its answers: model "dev-echo", provider "devstack".

type devTaskRequest struct {
	TaskQuery string `json:"task_query"`
}

type devTaskResponse struct {
	Result       string  `json:"result"`
	TotalTokens  int64   `json:"total_tokens"`
	TotalCostUSD float64 `json:"total_cost_usd"`
	ModelUsed    string  `json:"model_used"`
	Provider     string  `json:"provider"`
}

func devTaskHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /task", func(w http.ResponseWriter, r *http.Request) {
		var req devTaskRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, "the body must be a JSON run request: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(devTaskResponse{
			Result:       "echo: " + req.TaskQuery,
			TotalTokens:  42,
			TotalCostUSD: 0.00042,
			ModelUsed:    "dev-echo",
			Provider:     "devstack",
		})
	})
	return mux
}

// startDevTaskEndpoint serves devTaskHandler on addr until the returned server is closed.
func startDevTaskEndpoint(addr string, log io.Writer) (*http.Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("development task endpoint (set TASK_ENDPOINT_URL to use another): %w", err)
	}
	srv := &http.Server{Handler: devTaskHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(log, "development task endpoint stopped: %v\n", err)
		}
	}()
	return srv, nil
}
