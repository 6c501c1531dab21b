package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"schedsvc/devtemporal"
	"schedsvc/testenv"
)

// stack is the service under soak, all of it started here and on loopback:
// a throwaway Temporal server, a uniquely named database, the gateway and
// the worker binaries, each with a debug endpoint. It never touches a
// developer's .data or their `make run` ports.
type stack struct {
	dir      string // logs of every process
	keepLogs bool   // false once the soak held: stop removes dir
	db       *testenv.Database
	temporal *devtemporal.Server
	tc       client.Client
	gateway  *proc
	worker   *proc
	baseURL  string
	secret   string
}

// proc is a started binary.
type proc struct {
	name      string
	cmd       *exec.Cmd
	debugAddr string
	exited    chan struct{}
	err       error
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startStack starts everything; on error it stops what it had started.
func startStack(ctx context.Context, binDir, runID string, say io.Writer) (s *stack, err error) {
	s = &stack{secret: randomHex(32), keepLogs: true}
	defer func() {
		if err != nil {
			s.stop(say)
			s = nil
		}
	}()
	if s.dir, err = os.MkdirTemp("", "schedsvc-soak-"); err != nil {
		return s, err
	}
	fmt.Fprintf(say, "logs in %s\n", s.dir)
	if s.db, err = testenv.CreateDatabase(ctx, "soak"); err != nil {
		return s, fmt.Errorf("create database: %w", err)
	}
	fmt.Fprintf(say, "database %s created and migrated\n", s.db.Name)
	tlog, err := os.Create(filepath.Join(s.dir, "temporal.log"))
	if err != nil {
		return s, err
	}
	if s.temporal, err = testenv.StartTemporal(ctx, tlog); err != nil {
		return s, fmt.Errorf("start temporal: %w", err)
	}
	fmt.Fprintf(say, "temporal %s at %s\n", devtemporal.ServerVersion, s.temporal.Address())
	if s.tc, err = client.Dial(client.Options{
		HostPort: s.temporal.Address(), Namespace: s.temporal.Namespace(),
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	}); err != nil {
		return s, fmt.Errorf("dial temporal: %w", err)
	}

	httpAddr, err := freeAddr()
	if err != nil {
		return s, err
	}
	s.baseURL = "http://" + httpAddr
	env := []string{
		"DATABASE_URL=" + s.db.URL,
		"REDIS_URL=" + testenv.RedisURL(),
		"TEMPORAL_ADDRESS=" + s.temporal.Address(),
		"TEMPORAL_NAMESPACE=" + s.temporal.Namespace(),
		"TEMPORAL_TASK_QUEUE=soak-" + runID,
		"JWT_HS256_SECRET=" + s.secret,
		"SCHEDULE_MIN_INTERVAL_MINS=1",
		"SCHEDULE_MAX_PER_USER=1000",
		"EXECUTORS_ENABLED=echo",
		"EXECUTOR_DEFAULT=echo",
		// The soak measures the service, not the limiter: one tier far above
		// anything it sends.
		"RATE_LIMIT_TIERS=default=1000000/1s:1000000",
		// The reconciler runs several times during the soak, as it would in
		// production over a longer time.
		"RECONCILE_INTERVAL=1m",
	}
	if s.worker, err = startProc(filepath.Join(binDir, "worker"), nil, env, s.dir); err != nil {
		return s, err
	}
	if s.gateway, err = startProc(filepath.Join(binDir, "gateway"), []string{"serve"}, append(env, "HTTP_ADDR="+httpAddr), s.dir); err != nil {
		return s, err
	}
	if err := waitReady(ctx, s.baseURL+"/readyz", time.Minute, s.gateway, s.worker); err != nil {
		return s, err
	}
	fmt.Fprintf(say, "gateway %s (pid %d), worker (pid %d) ready\n", s.baseURL, s.gateway.cmd.Process.Pid, s.worker.cmd.Process.Pid)
	return s, nil
}

func startProc(path string, args, env []string, logDir string) (*proc, error) {
	name := filepath.Base(path)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s is missing: run `make build` first (make soak does): %w", path, err)
	}
	debugAddr, err := freeAddr()
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
	p := &proc{name: name, cmd: cmd, debugAddr: debugAddr, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited: %v (see its log)", p.name, p.err)
	default:
		return nil
	}
}

// stop sends SIGTERM, waits for the graceful shutdown and kills after 30 s.
func (p *proc) stop() {
	if p == nil || p.alive() != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func waitReady(ctx context.Context, url string, timeout time.Duration, procs ...*proc) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		for _, p := range procs {
			if err := p.alive(); err != nil {
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

// stop stops the gateway first and Temporal last, and drops the database.
func (s *stack) stop(say io.Writer) {
	s.gateway.stop()
	s.worker.stop()
	if s.tc != nil {
		s.tc.Close()
	}
	if s.temporal != nil {
		if err := s.temporal.Stop(); err != nil {
			fmt.Fprintln(say, "stop temporal:", err)
		}
	}
	if s.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.db.Drop(ctx); err != nil {
			fmt.Fprintln(say, "drop database:", err)
		} else {
			fmt.Fprintf(say, "database %s dropped\n", s.db.Name)
		}
	}
	if s.dir != "" {
		if s.keepLogs {
			fmt.Fprintf(say, "logs kept in %s\n", s.dir)
		} else {
			_ = os.RemoveAll(s.dir)
		}
	}
}

// errStopped is returned when a process of the stack died during the soak.
var errStopped = errors.New("a process of the stack exited during the soak")
