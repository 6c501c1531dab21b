// Command worker runs ScheduledTaskWorkflow and its activities on the
// schedule task queue.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"schedsvc/config"
	"schedsvc/schedules"
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
	if cfg.TaskEndpointURL == "" {
		return errors.New("TASK_ENDPOINT_URL must name the endpoint that performs runs (see README)")
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))
	pool, err := config.OpenPostgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	tc, err := config.OpenTemporal(cfg.TemporalAddress, cfg.Namespace, log)
	if err != nil {
		return err
	}
	defer tc.Close()

	w := worker.New(tc, cfg.Temporal.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.ScheduledTaskWorkflow, workflow.RegisterOptions{Name: schedules.WorkflowName})
	w.RegisterActivityWithOptions(&workflows.Activities{
		Recorder: schedules.NewRecorder(pool),
		Executor: &workflows.HTTPExecutor{URL: cfg.TaskEndpointURL, Client: &http.Client{}},
	}, activity.RegisterOptions{})
	log.Info("worker starting", "task_queue", cfg.Temporal.TaskQueue, "task_endpoint", cfg.TaskEndpointURL)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	<-ctx.Done()
	w.Stop()
	log.Info("worker stopped")
	return nil
}
