// Package stack starts the service under measurement, all of it on loopback
// and free ports: a throwaway Temporal server (devtemporal), a uniquely named
// database (testenv), and the gateway and worker binaries built from the tree,
// each with a debug endpoint. `make soak` and `make bench` both run on it; it
// never touches a developer's .data or their `make run` ports.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"schedsvc/devtemporal"
	"schedsvc/testenv"
)

// Temporal persistence choices for Options.TemporalPersistence.
const (
	PersistenceSQLite   = "sqlite"
	PersistencePostgres = "postgresql" // "postgres" is accepted too
)

// Options configure Start.
type Options struct {
	// Name names the log directory, the database prefix and the task queue ("soak", "bench").
	Name string
	// BinDir holds the gateway and worker binaries (`make build` puts them in bin/).
	BinDir string
	// RunID makes the task queue unique; empty picks one.
	RunID string
	// Env is added to the gateway's and the worker's environment after the defaults, so it
	// overrides them (e.g. SCHEDULE_MAX_PER_USER).
	Env []string
	// TemporalPersistence is "sqlite" (default) or "postgresql".
	TemporalPersistence string
	// TemporalPprof has the Temporal server serve Go's /debug/pprof on a free loopback port,
	// TemporalPprofAddr.
	TemporalPprof bool
	// Say receives progress lines; nil discards them.
	Say io.Writer
}

// Stack is the started service. Stop stops all of it.
type Stack struct {
	Dir      string // logs of every process
	KeepLogs bool   // true until the caller says its run held: Stop then removes Dir
	DB       *testenv.Database
	Temporal *devtemporal.Server
	TC       client.Client
	Gateway  *Proc
	Workers  []*Proc
	BaseURL  string
	// TemporalPprofAddr is the Temporal server's /debug/pprof address when Options.TemporalPprof.
	TemporalPprofAddr string
	Secret            string // HS256 secret the gateway accepts tokens signed with
	TaskQueue         string
	RunID             string

	binDir string
	env    []string
	say    io.Writer
}

// Start starts everything; on error it stops what it had started.
func Start(ctx context.Context, o Options) (s *Stack, err error) {
	if o.Name == "" {
		o.Name = "stack"
	}
	if o.RunID == "" {
		o.RunID = RandomHex(4)
	}
	if o.Say == nil {
		o.Say = io.Discard
	}
	s = &Stack{Secret: RandomHex(32), KeepLogs: true, RunID: o.RunID, binDir: o.BinDir, say: o.Say,
		TaskQueue: o.Name + "-" + o.RunID}
	defer func() {
		if err != nil {
			s.Stop()
			s = nil
		}
	}()
	if err := checkPersistence(o.TemporalPersistence); err != nil {
		return s, err
	}
	for _, b := range []string{"gateway", "worker"} {
		if _, err := os.Stat(filepath.Join(o.BinDir, b)); err != nil {
			return s, fmt.Errorf("%s is missing: run `make build` first: %w", filepath.Join(o.BinDir, b), err)
		}
	}
	if s.Dir, err = os.MkdirTemp("", "schedsvc-"+o.Name+"-"); err != nil {
		return s, err
	}
	fmt.Fprintf(o.Say, "logs in %s\n", s.Dir)
	if s.DB, err = testenv.CreateDatabase(ctx, o.Name); err != nil {
		return s, fmt.Errorf("create database: %w", err)
	}
	fmt.Fprintf(o.Say, "database %s created and migrated\n", s.DB.Name)
	pprofPort := 0
	if o.TemporalPprof {
		addr, err := FreeAddr()
		if err != nil {
			return s, err
		}
		_, port, _ := net.SplitHostPort(addr)
		pprofPort, _ = strconv.Atoi(port)
		s.TemporalPprofAddr = addr
	}
	if s.Temporal, err = startTemporal(ctx, o.TemporalPersistence, s.Dir, pprofPort); err != nil {
		return s, fmt.Errorf("start temporal: %w", err)
	}
	fmt.Fprintf(o.Say, "temporal %s at %s (pid %d)\n", devtemporal.ServerVersion, s.Temporal.Address(), s.Temporal.Pid())
	if s.TC, err = client.Dial(client.Options{
		HostPort: s.Temporal.Address(), Namespace: s.Temporal.Namespace(),
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	}); err != nil {
		return s, fmt.Errorf("dial temporal: %w", err)
	}

	httpAddr, err := FreeAddr()
	if err != nil {
		return s, err
	}
	s.BaseURL = "http://" + httpAddr
	s.env = append([]string{
		"DATABASE_URL=" + s.DB.URL,
		"REDIS_URL=" + testenv.RedisURL(),
		"TEMPORAL_ADDRESS=" + s.Temporal.Address(),
		"TEMPORAL_NAMESPACE=" + s.Temporal.Namespace(),
		"TEMPORAL_TASK_QUEUE=" + s.TaskQueue,
		"JWT_HS256_SECRET=" + s.Secret,
		"SCHEDULE_MIN_INTERVAL_MINS=1",
		"EXECUTORS_ENABLED=echo",
		"EXECUTOR_DEFAULT=echo",
		// A measurement measures the service, not the limiter: one tier far above
		// anything it sends.
		"RATE_LIMIT_TIERS=default=1000000/1s:1000000",
	}, o.Env...)
	if _, err := s.StartWorker(); err != nil {
		return s, err
	}
	if s.Gateway, err = startProc(filepath.Join(o.BinDir, "gateway"), "gateway", []string{"serve"}, append(s.env, "HTTP_ADDR="+httpAddr), s.Dir); err != nil {
		return s, err
	}
	if err := waitReady(ctx, s.BaseURL+"/readyz", time.Minute, s.Gateway, s.Workers[0]); err != nil {
		return s, err
	}
	fmt.Fprintf(o.Say, "gateway %s (pid %d), worker (pid %d) ready\n", s.BaseURL, s.Gateway.Pid(), s.Workers[0].Pid())
	return s, nil
}

// startTemporal starts the dev server with the chosen persistence, building the server binary
// into the shared cache first if it is missing (as testenv.StartTemporal does).
func startTemporal(ctx context.Context, persistence, logDir string, pprofPort int) (*devtemporal.Server, error) {
	if err := checkPersistence(persistence); err != nil {
		return nil, err
	}
	tlog, err := os.Create(filepath.Join(logDir, "temporal.log"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	bin, err := devtemporal.EnsureBinary(ctx, devtemporal.CacheDir(os.Getenv), tlog)
	if err != nil {
		return nil, err
	}
	p, err := devtemporal.ParsePersistence(persistence)
	if err != nil {
		return nil, err
	}
	return devtemporal.Start(ctx, devtemporal.Options{Binary: bin, Log: tlog, Persistence: p, PprofPort: pprofPort})
}

// checkPersistence says whether startTemporal can start a server of this persistence; Start
// asks before it creates anything.
func checkPersistence(persistence string) error {
	_, err := devtemporal.ParsePersistence(persistence)
	return err
}

// StartWorker starts one more worker process on the stack's task queue (the first is started by
// Start) and waits until its debug endpoint answers.
func (s *Stack) StartWorker() (*Proc, error) {
	name := "worker"
	if len(s.Workers) > 0 {
		name = fmt.Sprintf("worker-%d", len(s.Workers)+1)
	}
	p, err := startProc(filepath.Join(s.binDir, "worker"), name, nil, s.env, s.Dir)
	if err != nil {
		return nil, err
	}
	s.Workers = append(s.Workers, p)
	return p, nil
}

// WaitDebug waits until p's debug endpoint answers: the process is up and its pollers started.
func WaitDebug(ctx context.Context, p *Proc) error {
	return waitReady(ctx, "http://"+p.DebugAddr+"/debug/vars", time.Minute, p)
}

// Died receives the first exit of the gateway or a worker started so far, while ctx lives.
func (s *Stack) Died(ctx context.Context) <-chan error {
	out := make(chan error, 1)
	procs := append([]*Proc{s.Gateway}, s.Workers...)
	for _, p := range procs {
		go func() {
			select {
			case <-p.Exited:
				select {
				case out <- fmt.Errorf("%w: %s: %v", ErrStopped, p.Name, p.Err):
				default:
				}
			case <-ctx.Done():
			}
		}()
	}
	return out
}

// ErrStopped is what Died reports: a process of the stack exited during a run.
var ErrStopped = errors.New("a process of the stack exited")

// Stop stops the gateway first and Temporal last, and drops the database.
func (s *Stack) Stop() {
	s.Gateway.Stop()
	for _, w := range s.Workers {
		w.Stop()
	}
	if s.TC != nil {
		s.TC.Close()
	}
	if s.Temporal != nil {
		if err := s.Temporal.Stop(); err != nil {
			fmt.Fprintln(s.say, "stop temporal:", err)
		}
	}
	if s.DB != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.DB.Drop(ctx); err != nil {
			fmt.Fprintln(s.say, "drop database:", err)
		} else {
			fmt.Fprintf(s.say, "database %s dropped\n", s.DB.Name)
		}
	}
	if s.Dir != "" {
		if s.KeepLogs {
			fmt.Fprintf(s.say, "logs kept in %s\n", s.Dir)
		} else {
			_ = os.RemoveAll(s.Dir)
		}
	}
}

// Token is an HS256 bearer token for user sub in tenant, valid for six hours.
func (s *Stack) Token(sub, tenant string) (string, error) {
	now := time.Now()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "tenant_id": tenant, "iat": now.Unix(), "exp": now.Add(6 * time.Hour).Unix(),
	}).SignedString([]byte(s.Secret))
}

// Proc is a started binary with a debug endpoint.
type Proc struct {
	Name      string
	DebugAddr string
	Exited    chan struct{} // closed when the process has exited; Err is set then
	Err       error
	cmd       *exec.Cmd
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// startProc starts path with args and env (added to this process's environment) and a
// DEBUG_ADDR of its own, its output in logDir/name.log.
func startProc(path, name string, args, env []string, logDir string) (*Proc, error) {
	debugAddr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(append(os.Environ(), env...), "DEBUG_ADDR="+debugAddr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, DebugAddr: debugAddr, Exited: make(chan struct{})}
	go func() {
		p.Err = cmd.Wait()
		logFile.Close()
		close(p.Exited)
	}()
	return p, nil
}

// Alive is nil while the process runs.
func (p *Proc) Alive() error {
	select {
	case <-p.Exited:
		return fmt.Errorf("%s exited: %v (see its log)", p.Name, p.Err)
	default:
		return nil
	}
}

// Stop sends SIGTERM, waits for the graceful shutdown and kills after 30 s.
func (p *Proc) Stop() {
	if p == nil || p.Alive() != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.Exited
	}
}

func waitReady(ctx context.Context, url string, timeout time.Duration, procs ...*Proc) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		for _, p := range procs {
			if err := p.Alive(); err != nil {
				return err
			}
		}
		if resp, err := hc.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not become ready: %w", url, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// FreeAddr is a loopback address with a port free at the time of asking.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// RandomHex is n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ProcStatus reads VmRSS (KiB) and Threads of pid from /proc; zeros when it cannot.
func ProcStatus(pid int) (rssKiB int64, threads int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			rssKiB, _ = strconv.ParseInt(f[0], 10, 64)
		case "Threads":
			threads, _ = strconv.Atoi(f[0])
		}
	}
	return rssKiB, threads
}

// Goroutines reads the goroutine count a DEBUG_ADDR endpoint publishes; zero when it cannot.
func Goroutines(hc *http.Client, addr string) int {
	resp, err := hc.Get("http://" + addr + "/debug/vars")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var v struct {
		Goroutines int `json:"goroutines"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return v.Goroutines
}
