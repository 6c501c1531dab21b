package devtemporal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"schedsvc/devtemporal"
)

func TestCacheDir(t *testing.T) {
	t.Parallel()

	env := func(vars map[string]string) func(string) string {
		return func(key string) string { return vars[key] }
	}
	require.Equal(t, "/c", devtemporal.CacheDir(env(map[string]string{
		"SCHEDSVC_CACHE": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h",
	})))
	require.Equal(t, "/x/schedsvc", devtemporal.CacheDir(env(map[string]string{
		"XDG_CACHE_HOME": "/x", "HOME": "/h",
	})))
	require.Equal(t, "/h/.cache/schedsvc", devtemporal.CacheDir(env(map[string]string{"HOME": "/h"})))
}

type testBundle struct {
	binary string
	ctx    context.Context
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)

	start := time.Now()
	binary, err := devtemporal.EnsureBinary(ctx, devtemporal.CacheDir(os.Getenv), t.Output())
	require.NoError(t, err)
	t.Logf("EnsureBinary: %s", time.Since(start))
	return &testBundle{binary: binary, ctx: ctx}
}

func (b *testBundle) start(t *testing.T, dataDir string) *devtemporal.Server {
	t.Helper()
	begin := time.Now()
	srv, err := devtemporal.Start(b.ctx, devtemporal.Options{Binary: b.binary, DataDir: dataDir})
	require.NoError(t, err)
	t.Logf("Start (data dir %q): %s, frontend %s", dataDir, time.Since(begin), srv.Address())
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

func (b *testBundle) dial(t *testing.T, srv *devtemporal.Server) client.Client {
	t.Helper()
	c, err := client.DialContext(b.ctx, client.Options{HostPort: srv.Address(), Namespace: srv.Namespace()})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestStart_SchedulesSurviveRestart(t *testing.T) {
	t.Parallel()
	bundle := setup(t)
	dataDir := filepath.Join(t.TempDir(), "temporal")

	srv := bundle.start(t, dataDir)
	require.Equal(t, "default", srv.Namespace())

	_, err := devtemporal.Start(bundle.ctx, devtemporal.Options{Binary: bundle.binary, DataDir: dataDir})
	require.ErrorContains(t, err, "in use by another server")

	c := bundle.dial(t, srv)
	created := time.Now()
	handle, err := c.ScheduleClient().Create(bundle.ctx, client.ScheduleOptions{
		ID: "devtemporal-test-schedule",
		Spec: client.ScheduleSpec{
			CronExpressions: []string{"*/5 * * * *"},
			TimeZoneName:    "Europe/Berlin",
		},
		Action: &client.ScheduleWorkflowAction{
			ID:        "devtemporal-test-run",
			Workflow:  "ScheduledTaskWorkflow",
			TaskQueue: "devtemporal-test",
		},
	})
	require.NoError(t, err)
	desc, err := handle.Describe(bundle.ctx)
	require.NoError(t, err)
	t.Logf("create + describe schedule: %s", time.Since(created))
	require.Len(t, desc.Schedule.Spec.Calendars, 1)
	require.Equal(t, "Europe/Berlin", desc.Schedule.Spec.TimeZoneName)
	require.NotEmpty(t, desc.Info.NextActionTimes)

	require.NoError(t, srv.Stop())
	require.NoError(t, srv.Stop(), "Stop is idempotent")
	c.Close()

	srv = bundle.start(t, dataDir)
	c = bundle.dial(t, srv)
	again, err := c.ScheduleClient().GetHandle(bundle.ctx, handle.GetID()).Describe(bundle.ctx)
	require.NoError(t, err)
	require.Equal(t, desc.Schedule.Spec.Calendars, again.Schedule.Spec.Calendars)
	action, ok := again.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok, "action is %T", again.Schedule.Action)
	require.Equal(t, "devtemporal-test", action.TaskQueue)
}

func TestStart_ThrowawayDataDir(t *testing.T) {
	t.Parallel()
	bundle := setup(t)

	srv := bundle.start(t, "")
	dataDir := srv.DataDir()
	c := bundle.dial(t, srv)
	_, err := c.ScheduleClient().List(bundle.ctx, client.ScheduleListOptions{})
	require.NoError(t, err)

	require.NoError(t, srv.Stop())
	select {
	case <-srv.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	require.NoDirExists(t, dataDir)
}

// TestEnsureBinary_BuildsOnceForConcurrentCallers replaces `go` with a script that counts its
// invocations, so the locking is tested without a real build.
func TestEnsureBinary_BuildsOnceForConcurrentCallers(t *testing.T) {
	fakeBin := t.TempDir()
	counter := filepath.Join(t.TempDir(), "builds")
	script := "#!/bin/sh\necho build >> " + counter + "\nsleep 1\n" +
		"printf '#!/bin/sh\\n' > \"$GOBIN/server\"\nchmod +x \"$GOBIN/server\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(fakeBin, "go"), []byte(script), 0o755))
	t.Setenv("PATH", fakeBin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cacheDir := t.TempDir()

	results := make(chan error, 3)
	for range 3 {
		go func() {
			path, err := devtemporal.EnsureBinary(context.Background(), cacheDir, nil)
			if err == nil && path != filepath.Join(cacheDir, "bin", "temporal-server-"+devtemporal.ServerVersion) {
				err = errors.New("unexpected path " + path)
			}
			results <- err
		}()
	}
	for range 3 {
		require.NoError(t, <-results)
	}
	builds, err := os.ReadFile(counter)
	require.NoError(t, err)
	require.Equal(t, "build\n", string(builds), "one build for three callers")

	entries, err := os.ReadDir(filepath.Join(cacheDir, "bin"))
	require.NoError(t, err)
	for _, e := range entries {
		require.NotContains(t, e.Name(), "build-", "temporary build dir left behind")
	}
}

// TestStart_PostgreSQL: a temporary server on PostgreSQL serves schedules from databases of
// its own, copied from the schema template, and Stop drops them; a persistent data dir keeps
// its databases, and its schedules, across a restart.
func TestStart_PostgreSQL(t *testing.T) {
	t.Parallel()
	bundle := setup(t)
	admin, err := pgx.Connect(bundle.ctx, devtemporal.DefaultPostgresAdminURL)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close(context.Background()) })
	databases := func(t *testing.T, like string) []string {
		t.Helper()
		rows, err := admin.Query(bundle.ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname", like)
		require.NoError(t, err)
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return names
	}
	startPG := func(t *testing.T, dataDir string) *devtemporal.Server {
		t.Helper()
		begin := time.Now()
		srv, err := devtemporal.Start(bundle.ctx, devtemporal.Options{Binary: bundle.binary, DataDir: dataDir, Persistence: devtemporal.PostgreSQL})
		require.NoError(t, err)
		t.Logf("Start on PostgreSQL (data dir %q): %s, %s", dataDir, time.Since(begin), srv.Storage())
		t.Cleanup(func() { _ = srv.Stop() })
		return srv
	}

	srv := startPG(t, "")
	require.Equal(t, devtemporal.PostgreSQL, srv.Persistence())
	var mine []string
	for _, n := range databases(t, "devtemporal_tmp_%") {
		if strings.Contains(srv.Storage(), n) {
			mine = append(mine, n)
		}
	}
	require.Len(t, mine, 2, "a history and a visibility database of its own")
	c := bundle.dial(t, srv)
	_, err = c.ScheduleClient().Create(bundle.ctx, client.ScheduleOptions{
		ID:     "devtemporal-pg-schedule",
		Spec:   client.ScheduleSpec{CronExpressions: []string{"0 3 * * *"}},
		Action: &client.ScheduleWorkflowAction{ID: "devtemporal-pg-run", Workflow: "W", TaskQueue: "devtemporal-test"},
	})
	require.NoError(t, err)
	require.NoError(t, srv.Stop())
	for _, n := range mine {
		require.NotContains(t, databases(t, "devtemporal_tmp_%"), n, "Stop drops a temporary server's databases")
	}

	dataDir := filepath.Join(t.TempDir(), "temporal")
	srv = startPG(t, dataDir)
	c = bundle.dial(t, srv)
	handle, err := c.ScheduleClient().Create(bundle.ctx, client.ScheduleOptions{
		ID:     "devtemporal-pg-kept",
		Spec:   client.ScheduleSpec{CronExpressions: []string{"0 3 * * *"}},
		Action: &client.ScheduleWorkflowAction{ID: "devtemporal-pg-kept-run", Workflow: "W", TaskQueue: "devtemporal-test"},
	})
	require.NoError(t, err)
	storage := srv.Storage()
	require.NoError(t, srv.Stop())
	c.Close()
	srv = startPG(t, dataDir)
	require.Equal(t, storage, srv.Storage(), "the same databases after a restart")
	c = bundle.dial(t, srv)
	_, err = c.ScheduleClient().GetHandle(bundle.ctx, handle.GetID()).Describe(bundle.ctx)
	require.NoError(t, err, "the schedule survived the restart")
	require.NoError(t, srv.Stop())
	for _, n := range databases(t, "devtemporal_dir_%") {
		if strings.Contains(storage, n) {
			_, err := admin.Exec(bundle.ctx, "DROP DATABASE "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)")
			require.NoError(t, err)
		}
	}
}

func TestParsePersistence(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]devtemporal.Persistence{"": devtemporal.SQLite, "sqlite": devtemporal.SQLite, "PostgreSQL": devtemporal.PostgreSQL, "postgres": devtemporal.PostgreSQL} {
		got, err := devtemporal.ParsePersistence(in)
		require.NoError(t, err)
		require.Equal(t, want, got, in)
	}
	_, err := devtemporal.ParsePersistence("cassandra")
	require.ErrorContains(t, err, "unknown temporal persistence")
}
