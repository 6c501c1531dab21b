package schedules_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"schedsvc/config"
	. "schedsvc/schedules"
	"schedsvc/schedules/cron"
	"schedsvc/store"
	"schedsvc/testenv"
)

// BenchmarkCreateOneOwner16 is figure P4 below the HTTP layer: 16 callers
// creating schedules for one owner through Manager.Create, beside 16
// callers of raw ScheduleClient.Create with the same schedules on the same
// Temporal server, in alternating rounds of b.N creates each. It reports
// both rates and their ratio; the schedules fire yearly, never during the
// run, and no worker polls their task queue:
//
//	go test -run '^$' -bench BenchmarkCreateOneOwner16 -benchtime 300x ./schedules/
func BenchmarkCreateOneOwner16(b *testing.B) {
	const callers, rounds = 16, 2
	ctx := context.Background()
	logFile, err := os.CreateTemp("", "schedsvc-create-bench-temporal-*.log")
	require.NoError(b, err)
	b.Cleanup(func() { _ = logFile.Close() })
	ts, err := testenv.StartTemporal(ctx, logFile)
	require.NoError(b, err, "temporal log: %s", logFile.Name())
	b.Cleanup(func() { _ = ts.Stop() })
	tc, err := client.Dial(client.Options{HostPort: ts.Address(), Namespace: ts.Namespace(), Logger: silentLogger{}})
	require.NoError(b, err)
	b.Cleanup(tc.Close)
	db, err := testenv.CreateDatabase(ctx, "schedsvc_create_bench")
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Drop(context.Background()) })

	cfg := config.Defaults()
	limits := cfg.Limits
	limits.MaxPerUser = 1 << 30
	tcfg := cfg.Temporal
	tcfg.TaskQueue = "create-bench-" + uuid.NewString()
	m := NewManager(store.New(db.Pool), tc, limits, tcfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	owner := Owner{UserID: "bench-user", TenantID: "bench-tenant"}
	in := CreateInput{Name: "yearly", CronExpression: "0 3 1 1 *", Timezone: "UTC", TaskQuery: "q"}
	// Compiled the way the manager compiles it, so both sides create the
	// same Temporal schedule.
	timing, err := cron.Parse(in.CronExpression, in.Timezone)
	require.NoError(b, err)
	spec := timing.TemporalSpec(time.Now())

	// run makes n creates with 16 callers and returns creates per second.
	run := func(b *testing.B, n int, create func() error) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		began := time.Now()
		for range callers {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					if err := create(); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		took := time.Since(began)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		return float64(n) / took.Seconds()
	}
	manager := func() error {
		_, err := m.Create(ctx, owner, in)
		return err
	}
	raw := func() error {
		id := uuid.New()
		_, err := tc.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID:     "raw-" + id.String(),
			Spec:   spec,
			Action: &client.ScheduleWorkflowAction{ID: "raw-run-" + id.String(), Workflow: WorkflowName, TaskQueue: tcfg.TaskQueue, Args: []any{RunInput{ScheduleID: id.String(), TaskQuery: "q"}}},
			Note:   "raw create, the baseline",
		})
		return err
	}
	// Warm both paths (connections, Temporal's namespace caches) first.
	run(b, 2*callers, manager)
	run(b, 2*callers, raw)

	b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
		var managerRate, rawRate float64
		for range rounds {
			rawRate += run(b, b.N, raw) / rounds
			managerRate += run(b, b.N, manager) / rounds
		}
		b.ReportMetric(managerRate, "manager-creates/s")
		b.ReportMetric(rawRate, "raw-creates/s")
		b.ReportMetric(managerRate/rawRate, "ratio")
		b.ReportMetric(0, "ns/op")
	})
}

type silentLogger struct{}

func (silentLogger) Debug(string, ...any) {}
func (silentLogger) Info(string, ...any)  {}
func (silentLogger) Warn(string, ...any)  {}
func (silentLogger) Error(string, ...any) {}
