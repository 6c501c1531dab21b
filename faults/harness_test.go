package faults_test

// The process harness: every dependency of a fault row is a real process
// this suite starts on free ports, owns, signals and stops — PostgreSQL
// (initdb/pg_ctl), redis-server, a Temporal server (devtemporal), and the
// gateway and worker binaries built from this module once per run.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"schedsvc/config"
	"schedsvc/devtemporal"
	"schedsvc/schedules"
	"schedsvc/store"
)

const jwtSecret = "fault-suite-secret-of-at-least-32-bytes!"

// suite holds what TestMain prepared for every row.
var suite struct {
	gateway, worker string // built binaries
	temporal        string // Temporal server binary
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("faults: skipped under -short (the suite starts real PostgreSQL, Redis, Temporal, gateway and worker processes)")
		os.Exit(0)
	}
	code, err := runSuite(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runSuite(m *testing.M) (int, error) {
	bin, err := os.MkdirTemp("", "faults-bin-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(bin)
	build := exec.Command("go", "build", "-o", bin+"/", "schedsvc/cmd/gateway", "schedsvc/cmd/worker")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("build gateway and worker: %w", err)
	}
	suite.gateway, suite.worker = filepath.Join(bin, "gateway"), filepath.Join(bin, "worker")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if suite.temporal, err = devtemporal.EnsureBinary(ctx, devtemporal.CacheDir(os.Getenv), os.Stderr); err != nil {
		return 0, err
	}
	start := time.Now()
	code := m.Run()
	table.print(os.Stdout, time.Since(start))
	return code, nil
}

// ---- the fault table ----

type tableRow struct {
	order          int
	fault, outcome string
	held           bool
}

type faultTable struct {
	mu   sync.Mutex
	rows []tableRow
}

var table faultTable

// row registers a fault row: its outcome lines are collected with note and
// printed, with whether it held, when the suite ends.
func row(t *testing.T, order int, fault string) *outcome {
	o := &outcome{}
	t.Cleanup(func() {
		table.mu.Lock()
		defer table.mu.Unlock()
		table.rows = append(table.rows, tableRow{order: order, fault: fault, outcome: strings.Join(o.lines, "; "), held: !t.Failed()})
	})
	return o
}

type outcome struct {
	mu    sync.Mutex
	lines []string
}

func (o *outcome) note(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	o.mu.Lock()
	o.lines = append(o.lines, line)
	o.mu.Unlock()
}

func (ft *faultTable) print(w io.Writer, took time.Duration) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	sort.Slice(ft.rows, func(i, j int) bool { return ft.rows[i].order < ft.rows[j].order })
	fmt.Fprintf(w, "\n==== fault table (%d rows, %s) ====\n", len(ft.rows), took.Round(time.Second))
	for _, r := range ft.rows {
		verdict := "HOLDS"
		if !r.held {
			verdict = "FAILED"
		}
		fmt.Fprintf(w, "[%s] %s\n        %s\n", verdict, r.fault, r.outcome)
	}
	fmt.Fprintln(w, "====")
}

// ---- processes ----

// proc is a child process in its own process group, its output in a file
// that is printed when the test fails.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func startProc(t *testing.T, name, path string, args, env []string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start(), "start %s", name)
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.signal(syscall.SIGCONT)
		p.stop()
		if t.Failed() {
			printTail(t, name, logPath)
		}
	})
	return p
}

func (p *proc) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill is SIGKILL: no shutdown, no clean-up, as a crash or an OOM kill.
func (p *proc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

// stop is SIGTERM, then SIGKILL after 20 s.
func (p *proc) stop() {
	if !p.running() {
		return
	}
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.kill()
	}
}

func (p *proc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

func printTail(t *testing.T, name, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 25 {
		lines = lines[len(lines)-25:]
	}
	for i, l := range lines {
		if len(l) > 400 {
			lines[i] = l[:400] + "…"
		}
	}
	t.Logf("--- %s log (tail of %s) ---\n%s", name, path, strings.Join(lines, "\n"))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, port int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		require.True(t, time.Now().Before(deadline), "port %d did not open within %s: %v", port, within, err)
		time.Sleep(100 * time.Millisecond)
	}
}

// ---- PostgreSQL ----

// postgres is a cluster of its own: initdb into a temporary directory and
// pg_ctl, run as the postgres system user when the suite runs as root
// (initdb refuses root).
type postgres struct {
	t    *testing.T
	bin  string
	dir  string
	port int
}

func postgresBin(t *testing.T) string {
	t.Helper()
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Strings(matches)
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1])
	}
	p, err := exec.LookPath("initdb")
	require.NoError(t, err, "PostgreSQL server binaries (initdb, pg_ctl) not found")
	return filepath.Dir(p)
}

func startPostgres(t *testing.T) *postgres {
	t.Helper()
	dir, err := os.MkdirTemp("", "faults-pg-")
	require.NoError(t, err)
	pg := &postgres{t: t, bin: postgresBin(t), dir: dir, port: freePort(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root needs the postgres system user for initdb")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	pg.run("initdb", "-D", pg.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
	t.Cleanup(func() {
		_ = pg.ctl("stop", "-m", "immediate")
		if t.Failed() {
			printTail(t, "postgres", filepath.Join(dir, "server.log"))
		}
		os.RemoveAll(dir)
	})
	pg.up()
	return pg
}

func (pg *postgres) data() string { return filepath.Join(pg.dir, "data") }

func (pg *postgres) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(pg.bin, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (pg *postgres) run(name string, args ...string) {
	pg.t.Helper()
	out, err := pg.command(name, args...).CombinedOutput()
	require.NoError(pg.t, err, "%s: %s", name, out)
}

func (pg *postgres) ctl(args ...string) error {
	args = append([]string{"-D", pg.data(), "-w", "-t", "60"}, args...)
	out, err := pg.command("pg_ctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %w: %s", args, err, out)
	}
	return nil
}

// up starts (or restarts) the server on its port.
func (pg *postgres) up() {
	pg.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=200", pg.port, pg.dir)
	require.NoError(pg.t, pg.ctl("start", "-l", filepath.Join(pg.dir, "server.log"), "-o", opts))
}

// down stops the server at once (immediate mode: no checkpoint, every
// connection cut), as a crash does.
func (pg *postgres) down() {
	pg.t.Helper()
	require.NoError(pg.t, pg.ctl("stop", "-m", "immediate"))
}

func (pg *postgres) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.port, db)
}

// createDB creates a database and returns its URL.
func (pg *postgres) createDB(name string) string {
	pg.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.url("postgres"))
	require.NoError(pg.t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	require.NoError(pg.t, err)
	return pg.url(name)
}

// ---- Redis ----

type redisServer struct {
	p    *proc
	port int
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	require.NoError(t, err, "redis-server not on PATH")
	port := freePort(t)
	r := &redisServer{port: port}
	r.p = startProc(t, "redis", path, []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}, nil)
	waitPort(t, port, 10*time.Second)
	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// ---- Temporal ----

// temporalServer is a devtemporal server with a data dir and frontend port
// of its own, so it can be killed and started again where it was.
type temporalServer struct {
	t    *testing.T
	opts devtemporal.Options
	srv  *devtemporal.Server
}

func startTemporal(t *testing.T) *temporalServer {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "temporal.log"))
	require.NoError(t, err)
	ts := &temporalServer{t: t, opts: devtemporal.Options{
		Binary: suite.temporal, DataDir: t.TempDir(), Log: f,
	}}
	// The frontend port is fixed, so that a restarted server is found where
	// clients left it; another process may take a port freePort found free
	// before the server binds it, so the first start tries a few.
	for attempt := 1; ; attempt++ {
		ts.opts.FrontendPort = freePort(t)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		srv, err := devtemporal.Start(ctx, ts.opts)
		cancel()
		if err != nil && attempt < 3 && strings.Contains(err.Error(), "address already in use") {
			t.Logf("temporal frontend port %d was taken meanwhile; trying another: %v", ts.opts.FrontendPort, err)
			ts.opts.DataDir = t.TempDir()
			continue
		}
		require.NoError(t, err)
		ts.srv = srv
		break
	}
	t.Cleanup(func() {
		if ts.srv != nil {
			_ = syscall.Kill(-ts.srv.Pid(), syscall.SIGCONT)
			_ = ts.srv.Stop()
		}
		f.Close()
		if t.Failed() {
			printTail(t, "temporal", f.Name())
		}
	})
	return ts
}

func (ts *temporalServer) start() {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, ts.opts)
	require.NoError(ts.t, err)
	ts.srv = srv
}

func (ts *temporalServer) address() string { return ts.srv.Address() }

// stall freezes every process of the server (SIGSTOP): connections stay
// open and calls hang, the worst kind of outage for a caller.
func (ts *temporalServer) stall() { _ = syscall.Kill(-ts.srv.Pid(), syscall.SIGSTOP) }

func (ts *temporalServer) unstall() { _ = syscall.Kill(-ts.srv.Pid(), syscall.SIGCONT) }

// kill is SIGKILL of the whole server; restart brings it back on the same
// port and data.
func (ts *temporalServer) kill() {
	_ = syscall.Kill(-ts.srv.Pid(), syscall.SIGKILL)
	<-ts.srv.Done()
	_ = ts.srv.Stop() // releases the data dir; reports the kill
	ts.srv = nil
}

func (ts *temporalServer) restart() { ts.start() }

// client is a Temporal client for the suite's own checks.
func (ts *temporalServer) client() client.Client {
	ts.t.Helper()
	c, err := client.Dial(client.Options{HostPort: ts.address(), Namespace: "default",
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(ts.t, err)
	ts.t.Cleanup(c.Close)
	return c
}

// ---- the service ----

// stack is one deployment of the service: its own database, Redis,
// a Temporal server (its own or shared, then with its own task queue), any
// number of gateways and a worker.
type stack struct {
	t         *testing.T
	pg        *postgres
	dbURL     string
	redis     *redisServer
	temporal  *temporalServer
	taskQueue string
	env       map[string]string
	pool      *pgxpool.Pool
	gateways  []*gateway
	worker    *proc
	workers   int
}

type gateway struct {
	p   *proc
	url string
}

func newStack(t *testing.T, ts *temporalServer, env map[string]string) *stack {
	t.Helper()
	s := &stack{t: t, pg: startPostgres(t), redis: startRedis(t), temporal: ts,
		taskQueue: "faults-" + strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-")}
	s.dbURL = s.pg.createDB("schedsvc")
	s.env = map[string]string{
		"DATABASE_URL":               s.dbURL,
		"REDIS_URL":                  s.redis.url(),
		"TEMPORAL_NAMESPACE":         "default",
		"TEMPORAL_TASK_QUEUE":        s.taskQueue,
		"JWT_HS256_SECRET":           jwtSecret,
		"RATE_LIMIT_TIERS":           "default=1000000/1m:1000000",
		"RECONCILE_INTERVAL":         "1h",
		"SCHEDULE_MIN_INTERVAL_MINS": "1",
		"SCHEDULE_MAX_PER_USER":      "2000",
		"EXECUTORS_ENABLED":          "http",
		"EXECUTOR_DEFAULT":           "http",
		"TASK_ENDPOINT_URL":          "http://127.0.0.1:1/unused",
		"TASK_ENDPOINT_SECRET":       endpointSecret,
		"SHUTDOWN_TIMEOUT":           "2s",
	}
	for k, v := range env {
		s.env[k] = v
	}
	cmd := exec.Command(suite.gateway, "migrate")
	cmd.Env = s.environ()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "migrate: %s", out)
	s.pool, err = pgxpool.New(context.Background(), s.dbURL)
	require.NoError(t, err)
	t.Cleanup(s.pool.Close)
	return s
}

func (s *stack) environ() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TEMPORAL_ADDRESS=" + s.temporal.address()}
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	return env
}

// startGateway starts one more gateway and waits until it is ready.
func (s *stack) startGateway() *gateway {
	s.t.Helper()
	port := freePort(s.t)
	env := append(s.environ(), fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", port))
	g := &gateway{p: startProc(s.t, fmt.Sprintf("gateway-%d", len(s.gateways)+1), suite.gateway, nil, env),
		url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	s.gateways = append(s.gateways, g)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(g.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return g
			}
		}
		require.True(s.t, g.p.running(), "gateway exited")
		require.True(s.t, time.Now().Before(deadline), "gateway not ready within 60 s")
		time.Sleep(200 * time.Millisecond)
	}
}

// startWorker starts a worker and waits until it polls its task queue.
func (s *stack) startWorker() *proc {
	s.t.Helper()
	s.workers++
	w := startProc(s.t, fmt.Sprintf("worker-%d", s.workers), suite.worker, nil, s.environ())
	s.worker = w
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(w.logText(), "worker starting") || !strings.Contains(w.logText(), "reconcile pass") {
		require.True(s.t, w.running(), "worker exited:\n%s", w.logText())
		require.True(s.t, time.Now().Before(deadline), "worker not started within 60 s")
		time.Sleep(200 * time.Millisecond)
	}
	return w
}

// reconciler is the worker's reconciler, run in-process against the
// stack's database.
func (s *stack) reconciler(tc client.Client) *schedules.Reconciler {
	cfg := config.Defaults()
	cfg.Temporal.TaskQueue = s.taskQueue
	return schedules.NewReconciler(store.New(s.pool), tc.ScheduleClient(), cfg.Temporal, slog.New(slog.DiscardHandler))
}

// ---- the API ----

type owner struct{ user, tenant, token string }

func newOwner(t *testing.T, name string) owner {
	t.Helper()
	o := owner{user: "user-" + name, tenant: "tenant-" + name}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": o.user, "tenant_id": o.tenant, "exp": time.Now().Add(2 * time.Hour).Unix(),
	}).SignedString([]byte(jwtSecret))
	require.NoError(t, err)
	o.token = tok
	return o
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body)) }

var httpClient = &http.Client{Timeout: 60 * time.Second}

// call sends one API request; key, when set, is the Idempotency-Key.
func call(base string, o owner, method, path, key string, body any) (response, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+o.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}, err
}

func mustCall(t *testing.T, base string, o owner, method, path, key string, body any) response {
	t.Helper()
	r, err := call(base, o, method, path, key, body)
	require.NoError(t, err)
	return r
}

// oneShotCron fires once a day at the first minute boundary at least lead
// away, in UTC, and returns that time.
func oneShotCron(lead time.Duration) (string, time.Time) {
	at := time.Now().UTC().Add(lead).Truncate(time.Minute).Add(time.Minute)
	return fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour()), at
}

var errTimeout = errors.New("timed out")

// eventually polls f every interval until it returns true or within ends.
func eventually(within, interval time.Duration, f func() bool) error {
	deadline := time.Now().Add(within)
	for {
		if f() {
			return nil
		}
		if time.Now().After(deadline) {
			return errTimeout
		}
		time.Sleep(interval)
	}
}
