// Command firing measures figure P3: N schedules due in the same minute, and how late their
// runs start. It starts a throwaway Temporal server (SQLite or PostgreSQL persistence), a
// fresh database and the worker binary, then measures two firings on the same server:
//
//   - floor: N raw Temporal schedules whose action is a no-op workflow on a task queue of its
//     own, polled by this process; lag = workflow start time - TemporalScheduledStartTime.
//   - ours: N schedules created through the schedule manager, run by the worker with the
//     echo executor; lag = the run row's started_at - triggered_at.
//
// Each firing is due at a whole minute, so a run takes two to three minutes of waiting and a
// few seconds of load. Everything listens on 127.0.0.1.
//
//	go build -o /tmp/p3/worker ./cmd/worker
//	go run ./bench/firing -worker /tmp/p3/worker -persistence postgresql -n 300
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"schedsvc/bench/internal/stack"
	"schedsvc/config"
	"schedsvc/devtemporal"
	"schedsvc/schedules"
	"schedsvc/store"
	"schedsvc/testenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "firing:", err)
		os.Exit(1)
	}
}

type options struct {
	n           int
	persistence string
	shards      int
	maxConns    int
	workerBin   string
	workerEnv   string
	floor, ours bool
	profileDir  string
	lead        time.Duration
	createEach  time.Duration
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("firing", flag.ContinueOnError)
	fs.IntVar(&o.n, "n", 300, "schedules due in the same minute")
	fs.StringVar(&o.persistence, "persistence", "sqlite", "Temporal persistence: sqlite or postgresql")
	fs.IntVar(&o.shards, "shards", 0, "history shards (0: devtemporal's default for the persistence)")
	fs.IntVar(&o.maxConns, "max-conns", 0, "persistence connections per datastore (0: default)")
	fs.StringVar(&o.workerBin, "worker", "", "worker binary (go build -o /tmp/p3/worker ./cmd/worker); required for -ours")
	fs.StringVar(&o.workerEnv, "worker-env", "", "extra worker environment, comma-separated KEY=VALUE")
	fs.BoolVar(&o.floor, "floor", true, "measure raw Temporal schedules")
	fs.BoolVar(&o.ours, "ours", true, "measure the service's schedules")
	fs.StringVar(&o.profileDir, "profile", "", "directory for CPU profiles of the worker and the Temporal server during each firing")
	fs.DurationVar(&o.lead, "lead", 20*time.Second, "least time between the end of creation and the firing")
	fs.DurationVar(&o.createEach, "create-each", 150*time.Millisecond, "expected creation time per schedule, to choose the firing minute (a loaded machine creates slowly)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	persistence, err := devtemporal.ParsePersistence(o.persistence)
	if err != nil {
		return err
	}
	if o.ours && o.workerBin == "" {
		return fmt.Errorf("-worker is required to measure our schedules")
	}

	logDir, err := os.MkdirTemp("", "firing-")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "logs in %s\n", logDir)
	tlog, err := os.Create(filepath.Join(logDir, "temporal.log"))
	if err != nil {
		return err
	}
	defer tlog.Close()
	bin, err := devtemporal.EnsureBinary(ctx, devtemporal.CacheDir(os.Getenv), out)
	if err != nil {
		return err
	}
	pprofPort := 0
	if o.profileDir != "" {
		if pprofPort, err = freePort(); err != nil {
			return err
		}
	}
	began := time.Now()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{
		Binary: bin, Log: tlog, Persistence: persistence,
		HistoryShards: o.shards, MaxConns: o.maxConns, PprofPort: pprofPort,
	})
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Fprintf(out, "temporal %s up in %s: %s\n", devtemporal.ServerVersion, time.Since(began).Round(10*time.Millisecond), srv.Storage())

	tc, err := client.Dial(client.Options{
		HostPort: srv.Address(), Namespace: srv.Namespace(),
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return err
	}
	defer tc.Close()

	var figures []figure
	if o.floor {
		f, err := measureFloor(ctx, o, tc, srv, pprofPort, out)
		if err != nil {
			return err
		}
		figures = append(figures, f)
		fmt.Fprintln(out, f)
	}
	if o.ours {
		f, err := measureOurs(ctx, o, tc, srv, pprofPort, logDir, out)
		if err != nil {
			return err
		}
		figures = append(figures, f)
	}
	fmt.Fprintf(out, "\nP3, %d schedules due in the same minute, Temporal on %s (%s)\n", o.n, persistence, srv.Storage())
	fmt.Fprintf(out, "%-6s %5s %8s %8s %8s %8s %8s %9s %10s %10s %12s %12s  %s\n", "what", "runs", "p50", "p90", "p99", "max", "first", "starts/s", "server cpu", "worker cpu", "server/run", "worker/run", "loadavg before/after")
	for _, f := range figures {
		fmt.Fprintln(out, f)
	}
	return nil
}

// figure is one firing's lags.
type figure struct {
	name                  string
	lags                  []time.Duration
	span                  time.Duration // first start to last start
	serverCPU, workerCPU  float64       // cores used during the firing window
	window                float64       // its length in seconds
	loadBefore, loadAfter string
}

func (f figure) String() string {
	slices.Sort(f.lags)
	q := func(p float64) string {
		if len(f.lags) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fs", f.lags[min(len(f.lags)-1, int(p*float64(len(f.lags))))].Seconds())
	}
	rate := 0.0
	if f.span > 0 {
		rate = float64(len(f.lags)) / f.span.Seconds()
	}
	worker := "-"
	if f.workerCPU >= 0 {
		worker = fmt.Sprintf("%.0f%%", 100*f.workerCPU)
	}
	// CPU per run is what a loaded machine changes least: the time a run costs, not the
	// time it waits for a core.
	perRun := func(cores float64) string {
		if cores < 0 || len(f.lags) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1fms", 1000*cores*f.window/float64(len(f.lags)))
	}
	return fmt.Sprintf("%-6s %5d %8s %8s %8s %8s %8s %9.1f %10s %10s %12s %12s  %s / %s", f.name, len(f.lags), q(0.5), q(0.9), q(0.99), q(1), q(0),
		rate, fmt.Sprintf("%.0f%%", 100*f.serverCPU), worker, perRun(f.serverCPU), perRun(f.workerCPU), f.loadBefore, f.loadAfter)
}

// fireAt is the first whole minute at least lead after creating n schedules at each.
func fireAt(n int, each, lead time.Duration) time.Time {
	ready := time.Now().Add(time.Duration(n)*each + lead)
	return ready.Truncate(time.Minute).Add(time.Minute)
}

// dailyCron fires once a day at t's minute, in UTC.
func dailyCron(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%d %d * * *", t.Minute(), t.Hour())
}

// --- the floor: raw Temporal schedules -------------------------------------------------

var scheduledStart = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

type floorRecorder struct {
	mu   sync.Mutex
	lags map[string]time.Duration
	last time.Time
	frst time.Time
}

func measureFloor(ctx context.Context, o options, tc client.Client, srv *devtemporal.Server, pprofPort int, out io.Writer) (figure, error) {
	queue := "floor-" + uuid.NewString()[:8]
	rec := &floorRecorder{lags: map[string]time.Duration{}}
	noop := func(ctx workflow.Context) error {
		info := workflow.GetInfo(ctx)
		nominal, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStart)
		if ok && !workflow.IsReplaying(ctx) {
			rec.mu.Lock()
			rec.lags[info.WorkflowExecution.ID] = info.WorkflowStartTime.Sub(nominal)
			if rec.frst.IsZero() || info.WorkflowStartTime.Before(rec.frst) {
				rec.frst = info.WorkflowStartTime
			}
			if info.WorkflowStartTime.After(rec.last) {
				rec.last = info.WorkflowStartTime
			}
			rec.mu.Unlock()
		}
		return nil
	}
	w := worker.New(tc, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(noop, workflow.RegisterOptions{Name: "FloorNoop"})
	if err := w.Start(); err != nil {
		return figure{}, err
	}
	defer w.Stop()

	at := fireAt(o.n, o.createEach, o.lead)
	fmt.Fprintf(out, "floor: creating %d raw Temporal schedules due at %s\n", o.n, at.Format(time.TimeOnly))
	ids := make([]string, o.n)
	err := parallel(ctx, o.n, 16, func(ctx context.Context, i int) error {
		ids[i] = fmt.Sprintf("floor-%s-%03d", queue, i)
		_, err := tc.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID:     ids[i],
			Spec:   client.ScheduleSpec{CronExpressions: []string{dailyCron(at)}},
			Action: &client.ScheduleWorkflowAction{ID: ids[i] + "-run", Workflow: "FloorNoop", TaskQueue: queue},
		})
		return err
	})
	if err != nil {
		return figure{}, fmt.Errorf("create raw schedules: %w", err)
	}
	if time.Until(at) < 5*time.Second {
		return figure{}, fmt.Errorf("creation ran into the firing minute; raise -lead")
	}
	f := figure{name: "floor"}
	err = watchFiring(ctx, at, srv, nil, pprofPort, o.profileDir, "floor", &f, func() (bool, error) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.lags) >= o.n, nil
	})
	rec.mu.Lock()
	for _, l := range rec.lags {
		f.lags = append(f.lags, l)
	}
	f.span = rec.last.Sub(rec.frst)
	rec.mu.Unlock()
	_ = parallel(context.WithoutCancel(ctx), o.n, 16, func(ctx context.Context, i int) error {
		return tc.ScheduleClient().GetHandle(ctx, ids[i]).Delete(ctx)
	})
	return f, err
}

// --- ours: schedules through the manager, run by the worker ----------------------------

func measureOurs(ctx context.Context, o options, tc client.Client, srv *devtemporal.Server, pprofPort int, logDir string, out io.Writer) (figure, error) {
	db, err := testenv.CreateDatabase(ctx, "firing")
	if err != nil {
		return figure{}, err
	}
	defer db.Drop(context.WithoutCancel(ctx))
	queue := "firing-" + uuid.NewString()[:8]
	env := map[string]string{
		"DATABASE_URL":               db.URL,
		"TEMPORAL_ADDRESS":           srv.Address(),
		"TEMPORAL_NAMESPACE":         srv.Namespace(),
		"TEMPORAL_TASK_QUEUE":        queue,
		"EXECUTORS_ENABLED":          "echo",
		"EXECUTOR_DEFAULT":           "echo",
		"SCHEDULE_MAX_PER_USER":      "100000",
		"SCHEDULE_MIN_INTERVAL_MINS": "1",
		"RECONCILE_INTERVAL":         "1h",
	}
	for _, kv := range strings.Split(o.workerEnv, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return figure{}, err
	}
	debugPort, err := freePort()
	if err != nil {
		return figure{}, err
	}
	env["DEBUG_ADDR"] = "127.0.0.1:" + strconv.Itoa(debugPort)
	wk, err := startWorker(o.workerBin, env, filepath.Join(logDir, "worker.log"))
	if err != nil {
		return figure{}, err
	}
	defer wk.stop()

	st := store.New(db.Pool)
	mgr := schedules.NewManager(st, tc, cfg.Limits, cfg.Temporal, slog.New(slog.DiscardHandler))
	at := fireAt(o.n, o.createEach, o.lead)
	fmt.Fprintf(out, "ours: creating %d schedules due at %s on task queue %s\n", o.n, at.Format(time.TimeOnly), queue)
	ids := make([]uuid.UUID, o.n)
	echo := schedules.ExecutorEcho
	err = parallel(ctx, o.n, 16, func(ctx context.Context, i int) error {
		s, err := mgr.Create(ctx, schedules.Owner{UserID: fmt.Sprintf("user-%02d", i%20), TenantID: "firing"}, schedules.CreateInput{
			Name: fmt.Sprintf("firing %d", i), CronExpression: dailyCron(at), Timezone: "UTC",
			TaskQuery: "p3", Executor: &echo,
		})
		ids[i] = s.ID
		return err
	})
	if err != nil {
		return figure{}, fmt.Errorf("create schedules: %w", err)
	}
	if time.Until(at) < 5*time.Second {
		return figure{}, fmt.Errorf("creation ran into the firing minute; raise -lead")
	}
	f := figure{name: "ours"}
	var lags []time.Duration
	var first, last time.Time
	collect := func() (bool, error) {
		lags, first, last = lags[:0], time.Time{}, time.Time{}
		done := 0
		for _, id := range ids {
			runs, err := st.RunList(ctx, id, schedules.ListQuery{Limit: 5})
			if err != nil {
				return false, err
			}
			for _, r := range runs {
				lags = append(lags, r.StartedAt.Sub(r.TriggeredAt))
				if first.IsZero() || r.StartedAt.Before(first) {
					first = r.StartedAt
				}
				if r.StartedAt.After(last) {
					last = r.StartedAt
				}
				if r.CompletedAt != nil {
					done++
				}
			}
		}
		return done >= o.n, nil
	}
	err = watchFiring(ctx, at, srv, wk, pprofPort, o.profileDir, "ours", &f, collect)
	if err == nil {
		_, err = collect()
	}
	f.lags, f.span = lags, last.Sub(first)
	return f, err
}

// watchFiring waits for the firing at `at`, profiles the firing window if asked, and polls
// done until it holds or two minutes pass.
func watchFiring(ctx context.Context, at time.Time, srv *devtemporal.Server, wk *workerProc, pprofPort int, profileDir, name string, f *figure, done func() (bool, error)) error {
	select {
	case <-time.After(time.Until(at.Add(-2 * time.Second))):
	case <-ctx.Done():
		return ctx.Err()
	}
	f.loadBefore = loadAvg()
	const window = 15 * time.Second
	var profiles sync.WaitGroup
	if profileDir != "" {
		_ = os.MkdirAll(profileDir, 0o755)
		grab := func(addr, file string) {
			defer profiles.Done()
			if err := stack.FetchProfile(ctx, addr, window, filepath.Join(profileDir, file)); err != nil {
				fmt.Fprintf(os.Stderr, "profile %s: %v\n", file, err)
			}
		}
		profiles.Add(1)
		go grab("127.0.0.1:"+strconv.Itoa(pprofPort), name+"-temporal.pprof")
		if wk != nil {
			profiles.Add(1)
			go grab(wk.debugAddr, name+"-worker.pprof")
		}
	}
	serverCPU0 := procCPU(srv.Pid())
	workerCPU0 := -1.0
	if wk != nil {
		workerCPU0 = procCPU(wk.cmd.Process.Pid)
	}
	t0 := time.Now()
	deadline := at.Add(2 * time.Minute)
	var err error
	for {
		var ok bool
		if ok, err = done(); ok || err != nil || time.Now().After(deadline) {
			break
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	elapsed := time.Since(t0).Seconds()
	f.window = elapsed
	f.serverCPU = (procCPU(srv.Pid()) - serverCPU0) / elapsed
	f.workerCPU = -1
	if wk != nil {
		f.workerCPU = (procCPU(wk.cmd.Process.Pid) - workerCPU0) / elapsed
	}
	f.loadAfter = loadAvg()
	profiles.Wait()
	if err == nil && time.Now().After(deadline) {
		fmt.Fprintf(os.Stderr, "%s: not every run started (or finished) within two minutes of the firing; the figure counts those that did\n", name)
	}
	return err
}

// --- helpers ---------------------------------------------------------------------------

func parallel(ctx context.Context, n, workers int, f func(context.Context, int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// procCPU is the CPU seconds (user + system) of pid and its reaped children.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var ticks float64
	for _, i := range []int{11, 12} { // utime, stime: fields 14 and 15 of stat
		v, _ := strconv.ParseFloat(fields[i], 64)
		ticks += v
	}
	return ticks / 100 // USER_HZ
}

type workerProc struct {
	cmd       *exec.Cmd
	debugAddr string
	exited    chan struct{}
}

func startWorker(bin string, env map[string]string, logFile string) (*workerProc, error) {
	lf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	w := &workerProc{cmd: cmd, debugAddr: env["DEBUG_ADDR"], exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		lf.Close()
		close(w.exited)
	}()
	return w, nil
}

func (w *workerProc) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(20 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
}
