package server_test

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"testing"

	"go.temporal.io/sdk/client"

	"schedsvc/devtemporal"
	"schedsvc/testenv"
)

// env is the real infrastructure every integration test in this package
// shares: one Temporal server, one fresh database, one worker. Tests keep
// out of each other's way by using owners of their own.
var env struct {
	temporal  *devtemporal.Server
	db        *testenv.Database
	tc        client.Client
	taskQueue string
	fakes     executorFakes // see worker_test.go
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

	stopWorker, err := startWorker()
	if err != nil {
		return 0, err
	}
	defer stopWorker()
	return m.Run(), nil
}

type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
