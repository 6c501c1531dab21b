package server_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"schedsvc/devtemporal"
	"schedsvc/schedules"
	"schedsvc/testenv"
	"schedsvc/workflows"
)

// env is the real infrastructure every integration test in this package
// shares: one Temporal server, one fresh database, one worker. Tests keep
// out of each other's way by using owners of their own.
var env struct {
	temporal  *devtemporal.Server
	db        *testenv.Database
	tc        client.Client
	taskQueue string
	task      *httptest.Server
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	code, err := runIntegration(m)
	if err != nil {
		log.Printf("integration set-up: %v", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runIntegration(m *testing.M) (int, error) {
	ctx := context.Background()
	logFile, err := os.CreateTemp("", "schedsvc-server-test-temporal-*.log")
	if err != nil {
		return 0, err
	}
	defer logFile.Close()
	env.temporal, err = testenv.StartTemporal(ctx, logFile)
	if err != nil {
		return 0, fmt.Errorf("start temporal (log: %s): %w", logFile.Name(), err)
	}
	defer env.temporal.Stop() //nolint:errcheck // best effort at exit

	env.db, err = testenv.CreateDatabase(ctx, "schedsvc_server_test")
	if err != nil {
		return 0, err
	}
	defer env.db.Drop(context.Background()) //nolint:errcheck // best effort at exit

	env.tc, err = client.Dial(client.Options{HostPort: env.temporal.Address(), Namespace: env.temporal.Namespace(), Logger: quietLogger{}})
	if err != nil {
		return 0, fmt.Errorf("dial temporal: %w", err)
	}
	defer env.tc.Close()

	env.task = httptest.NewServer(http.HandlerFunc(taskEndpoint))
	defer env.task.Close()

	env.taskQueue = fmt.Sprintf("server-test-%d", time.Now().UnixNano())
	w := worker.New(env.tc, env.taskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.ScheduledTaskWorkflow, workflow.RegisterOptions{Name: schedules.WorkflowName})
	w.RegisterActivity(&workflows.Activities{
		Recorder: schedules.NewRecorder(env.db.Pool),
		Executor: &workflows.HTTPExecutor{URL: env.task.URL, Client: env.task.Client()},
	})
	if err := w.Start(); err != nil {
		return 0, fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	return m.Run(), nil
}

// taskEndpoint stands in for the platform's task service. The task query
// picks the behaviour: "fail…" answers 502, "slow…" outlasts a 1 s timeout,
// anything else succeeds with fixed usage figures.
func taskEndpoint(w http.ResponseWriter, r *http.Request) {
	var t workflows.Task
	if err := json.NewDecoder(r.Body).Decode(&t); err != nil {
		http.Error(w, "bad task json", http.StatusBadRequest)
		return
	}
	switch {
	case strings.HasPrefix(t.TaskQuery, "fail"):
		http.Error(w, "upstream model exploded", http.StatusBadGateway)
	case strings.HasPrefix(t.TaskQuery, "slow"):
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, `{"result":"too late"}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"result":         "done: " + t.TaskQuery,
			"total_tokens":   1234,
			"total_cost_usd": 0.0123,
			"model_used":     "test-model",
			"provider":       "test-provider",
		})
	}
}

type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
