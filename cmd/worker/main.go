// Command worker runs ScheduledTaskWorkflow and its activities on the
// schedule task queue.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"schedsvc/cmd/internal/connect"
	"schedsvc/cmd/internal/debug"
	"schedsvc/config"
	"schedsvc/metrics"
	"schedsvc/notify"
	"schedsvc/schedules"
	"schedsvc/store"
	"schedsvc/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, _ []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	executors, err := buildExecutors(cfg)
	if err != nil {
		return err
	}
	sender, err := buildSender(cfg.Notify)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	pool, err := connect.Postgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	tracer, err := connect.Tracing(ctx, "schedsvc-worker", getenv)
	if err != nil {
		return err
	}
	defer tracer.Shutdown(context.WithoutCancel(ctx)) //nolint:errcheck // best effort flush at exit
	tc, err := connect.Temporal(cfg.TemporalAddress, cfg.Namespace, log, tracer)
	if err != nil {
		return err
	}
	defer tc.Close()
	st := store.New(pool)
	stopDebug, err := debug.Serve(cfg.DebugAddr, log)
	if err != nil {
		return err
	}
	defer stopDebug()
	m := metrics.New(metrics.WithModels(modelNames(cfg.Execution)...))
	stopMetrics, err := metrics.Serve(cfg.MetricsAddr, m, log, probes(pool, tc)...)
	if err != nil {
		return err
	}
	defer stopMetrics()

	w := worker.New(tc, cfg.Temporal.TaskQueue, workerOptions(cfg))
	w.RegisterWorkflowWithOptions(workflows.ScheduledTaskWorkflow, workflow.RegisterOptions{Name: schedules.WorkflowName})
	w.RegisterActivityWithOptions(&workflows.Activities{
		Recorder:        schedules.NewRecorder(st, tc.ScheduleClient()),
		Executors:       executors,
		DefaultExecutor: cfg.Execution.DefaultExecutor,
		Child:           workflows.ChildWorkflowConfig{WorkflowType: cfg.Execution.ChildWorkflowType, TaskQueue: cfg.Execution.ChildWorkflowTaskQueue},
		Metrics:         m,
		Notify:          &workflows.Notifications{Sender: sender, Store: st},
	}, activity.RegisterOptions{})
	if sender != nil {
		w.RegisterWorkflowWithOptions(notify.DeliveryWorkflow, workflow.RegisterOptions{Name: notify.WorkflowName})
		w.RegisterActivity(&notify.Activities{Sender: sender, Recorder: st})
	}
	log.Info("worker starting", "task_queue", cfg.Temporal.TaskQueue, "executors", cfg.Execution.Executors,
		"default_executor", cfg.Execution.DefaultExecutor, "task_endpoint", cfg.TaskEndpointURL, "llm_base_url", cfg.Execution.LLMBaseURL)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	// Every worker replica runs the reconciler; a PostgreSQL lock lets one
	// pass run at a time.
	reconciler := schedules.NewReconciler(st, tc.ScheduleClient(), cfg.Temporal, log)
	reconciler.Observe = func(rep schedules.ReconcileReport, err error) { observeReconcile(m, rep, err) }
	reconciled := make(chan struct{})
	go func() {
		defer close(reconciled)
		reconciler.Run(ctx, cfg.ReconcileInterval)
	}()
	<-ctx.Done()
	w.Stop()
	<-reconciled
	log.Info("worker stopped")
	return nil
}

// workerOptions are the SDK's worker options from WORKER_* (zero keeps the
// SDK's default) and its interceptors: the SDK's tracing interceptor comes
// from the client (connect.Temporal), RunSpans names the run on the spans
// it makes.
func workerOptions(cfg config.Config) worker.Options {
	c := cfg.Worker
	return worker.Options{
		MaxConcurrentWorkflowTaskPollers:        c.WorkflowPollers,
		MaxConcurrentActivityTaskPollers:        c.ActivityPollers,
		MaxConcurrentWorkflowTaskExecutionSize:  c.MaxConcurrentWorkflow,
		MaxConcurrentActivityExecutionSize:      c.MaxConcurrentActivity,
		MaxConcurrentLocalActivityExecutionSize: c.MaxConcurrentLocal,
		Interceptors:                            []interceptor.WorkerInterceptor{&workflows.RunSpans{DefaultExecutor: cfg.Execution.DefaultExecutor}},
	}
}

// buildExecutors builds every enabled executor from its settings; an
// enabled executor without them stops the worker at start rather than
// failing runs later.
func buildExecutors(cfg config.Config) (map[schedules.Executor]workflows.Executor, error) {
	x := cfg.Execution
	out := map[schedules.Executor]workflows.Executor{}
	for _, name := range x.Executors {
		switch name {
		case schedules.ExecutorHTTP:
			if cfg.TaskEndpointURL == "" || x.TaskEndpointSecret == "" {
				return nil, errors.New("executor http needs TASK_ENDPOINT_URL (the endpoint that performs runs) and TASK_ENDPOINT_SECRET (its signing key); see README")
			}
			e, err := workflows.NewHTTPExecutor(workflows.HTTPConfig{
				URL: cfg.TaskEndpointURL, Secret: []byte(x.TaskEndpointSecret),
				MaxRedirects: x.TaskEndpointMaxRedirects, MaxResponseBytes: x.TaskEndpointMaxResponseBytes,
			})
			if err != nil {
				return nil, fmt.Errorf("executor http: %w", err)
			}
			out[name] = e
		case schedules.ExecutorLLM:
			e, err := workflows.NewLLMExecutor(workflows.LLMConfig{
				BaseURL: x.LLMBaseURL, APIKey: x.LLMAPIKey, Model: x.LLMModel, Provider: x.LLMProvider,
				Prices: llmPrices(x.LLMPrices), MaxTokens: x.LLMMaxTokens,
			})
			if err != nil {
				return nil, fmt.Errorf("executor llm (LLM_BASE_URL, LLM_MODEL, LLM_PRICES): %w", err)
			}
			out[name] = e
		case schedules.ExecutorWorkflow:
			// Performed by the workflow itself as a child workflow.
			if x.ChildWorkflowType == "" || x.ChildWorkflowTaskQueue == "" {
				return nil, errors.New("executor workflow needs CHILD_WORKFLOW_TYPE and CHILD_WORKFLOW_TASK_QUEUE")
			}
		case schedules.ExecutorEcho:
			out[name] = workflows.EchoExecutor{}
		}
	}
	return out, nil
}

// buildSender is the notification sender, or nil when notifications are
// off (no NOTIFY_SIGNING_SECRET; the gateway then refuses `notify`).
func buildSender(c config.Notify) (*notify.Sender, error) {
	if c.SigningSecret == "" {
		return nil, nil
	}
	retry := notify.DefaultRetry
	retry.MaxAttempts = c.MaxAttempts
	s, err := notify.New(notify.Config{
		SigningSecret: []byte(c.SigningSecret), AllowedHosts: c.AllowedHosts,
		AttemptTimeout: c.Timeout, Retry: retry,
	})
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	return s, nil
}

// llmPrices is LLM_PRICES as the llm executor prices its calls.
func llmPrices(prices map[string]config.Price) map[string]workflows.Price {
	out := make(map[string]workflows.Price, len(prices))
	for model, p := range prices {
		out[model] = workflows.Price(p)
	}
	return out
}

// observeReconcile counts a reconciler pass and its repairs by kind.
func observeReconcile(m *metrics.Metrics, rep schedules.ReconcileReport, err error) {
	m.ReconcilePass(rep.Skipped, err)
	for kind, n := range map[string]int{
		metrics.RepairRecreated: rep.Recreated, metrics.RepairPauseFixed: rep.PauseFixed,
		metrics.RepairSpecRefreshed: rep.SpecRefreshed, metrics.RepairSpecFixed: rep.SpecFixed,
		metrics.RepairNextRunFixed: rep.NextRunFixed, metrics.RepairOrphanDeleted: rep.OrphansDeleted,
		metrics.RepairReservationRemoved: rep.ReservationsRemoved, metrics.RepairFailed: rep.Failed,
	} {
		m.ReconcileRepaired(kind, n)
	}
}

// modelNames are the models of the price table: the only model labels the
// executor metrics use (any other becomes "other").
func modelNames(x config.Execution) []string {
	names := make([]string, 0, len(x.LLMPrices))
	for name := range x.LLMPrices {
		names = append(names, name)
	}
	return names
}
