// Package devtemporal runs a real Temporal server (go.temporal.io/server, SQLite or PostgreSQL
// persistence) as a child process for integration tests and the local dev stack. The `temporal` CLI and its
// dev server cannot be built here, so this package does what `temporal server start-dev` would:
// config with free ports, a namespace registered and usable before Start returns.
package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// Options configure Start. The zero value starts a throwaway server on free ports.
type Options struct {
	// Binary is the Temporal server executable, usually from EnsureBinary. Required.
	Binary string
	// DataDir holds the SQLite databases and generated config. Empty means a temporary
	// directory that Stop removes; a persistent directory keeps namespaces, schedules and
	// workflows across restarts. One server at a time may use a data dir.
	DataDir string
	// Host is the IP address every service binds to. Default 127.0.0.1.
	Host string
	// FrontendPort is the frontend gRPC port; 0 picks a free one. All other ports are always
	// picked free, so several servers can run side by side.
	FrontendPort int
	// Namespace is registered (if missing) and usable when Start returns. Default "default".
	Namespace string
	// Log receives the server's stdout and stderr. Nil discards them; start-up errors
	// still carry the log's tail.
	Log io.Writer

	// Persistence is where the server keeps its state; empty means SQLite. With PostgreSQL,
	// a temporary server (empty DataDir) gets two fresh databases that Stop drops; a
	// persistent data dir gets two databases named after its path, kept across restarts.
	Persistence Persistence
	// PostgresAdminURL is the connection Start creates and drops databases through; the
	// server connects as the same user to the same host. Default DefaultPostgresAdminURL.
	PostgresAdminURL string
	// SQLTool is Temporal's schema tool (EnsureSQLTool). It is needed only while this
	// machine's PostgreSQL has no schema template for ServerVersion; empty builds it into
	// CacheDir then.
	SQLTool string
	// HistoryShards is the number of history shards: 1 for SQLite, 4 for PostgreSQL by
	// default. It is fixed when the cluster's persistence is first created; a persistent
	// data dir keeps the count it was created with.
	HistoryShards int
	// MaxConns is each datastore's connection pool size: 1 for SQLite (one writer at a
	// time; more only queue inside the server), 8 for PostgreSQL by default (per service: one
	// server opens up to 4 x 2 x MaxConns connections).
	MaxConns int
	// PprofPort, when set, has the server serve Go's /debug/pprof on Host:PprofPort.
	PprofPort int
}

const (
	// NamespaceRetention is the workflow retention of the namespace Start registers.
	NamespaceRetention = 72 * time.Hour

	// stopTimeout is how long Stop waits after SIGTERM before it kills the server.
	stopTimeout = 15 * time.Second
	// portAttempts bounds how often Start retries when another process took a picked port.
	portAttempts = 3
)

var errPortTaken = errors.New("a picked port was taken by another process")

// Server is a running Temporal server started by Start.
type Server struct {
	opts    Options
	tempDir bool
	lock    *os.File
	tail    *tailBuffer
	address string

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited; waitErr is set then
	waitErr error

	stopOnce sync.Once
	stopErr  error

	// PostgreSQL persistence: where, which databases, and whether Stop drops them.
	pg      pgTarget
	dbs     pgDatabases
	dropDBs bool
}

// Start starts a Temporal server with all services and returns once the frontend is healthy
// and opts.Namespace is registered and answers API calls. ctx bounds start-up only; the server
// runs until Stop. Cold start (empty data dir) takes a few seconds. Errors include the tail of
// the server log.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Binary == "" {
		return nil, errors.New("devtemporal: Options.Binary is required (see EnsureBinary)")
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}

	var err error
	if opts.Persistence, err = ParsePersistence(string(opts.Persistence)); err != nil {
		return nil, err
	}
	if opts.PostgresAdminURL == "" {
		opts.PostgresAdminURL = DefaultPostgresAdminURL
	}
	if opts.HistoryShards == 0 {
		opts.HistoryShards = map[Persistence]int{SQLite: defaultSQLiteShards, PostgreSQL: defaultPostgresShards}[opts.Persistence]
	}
	if opts.MaxConns == 0 {
		opts.MaxConns = map[Persistence]int{SQLite: 1, PostgreSQL: defaultPostgresConns}[opts.Persistence]
	}

	s := &Server{opts: opts}
	if err := s.prepareDataDir(); err != nil {
		return nil, err
	}
	if opts.Persistence == PostgreSQL {
		err = s.preparePostgres(ctx)
	}
	if err == nil {
		err = s.launch(ctx)
	}
	for attempt := 2; errors.Is(err, errPortTaken) && attempt <= portAttempts; attempt++ {
		fmt.Fprintf(opts.Log, "devtemporal: %v; retrying with other ports\n", err)
		err = s.launch(ctx)
	}
	if err == nil {
		err = s.ensureNamespace(ctx)
	}
	if err != nil {
		stopErr := s.Stop()
		return nil, fmt.Errorf("start temporal server: %w%s", errors.Join(err, stopErr), s.tail.report())
	}
	return s, nil
}

// prepareDataDir creates the data dir if needed and locks it for the lifetime of the server.
func (s *Server) prepareDataDir() error {
	if s.opts.DataDir == "" {
		dir, err := os.MkdirTemp("", "devtemporal-")
		if err != nil {
			return fmt.Errorf("create temporal data dir: %w", err)
		}
		s.opts.DataDir, s.tempDir = dir, true
	} else {
		dir, err := filepath.Abs(s.opts.DataDir)
		if err != nil {
			return fmt.Errorf("temporal data dir: %w", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create temporal data dir: %w", err)
		}
		s.opts.DataDir = dir
	}
	lock, err := tryLock(filepath.Join(s.opts.DataDir, lockFileName))
	if errors.Is(err, errLocked) {
		return fmt.Errorf("temporal data dir %s is in use by another server", s.opts.DataDir)
	}
	if err != nil {
		return fmt.Errorf("lock temporal data dir: %w", err)
	}
	s.lock = lock
	return nil
}

// launch picks ports, writes the config and starts the process, and waits until the frontend
// answers. It returns an error wrapping errPortTaken when the server could not bind a port.
func (s *Server) launch(ctx context.Context) error {
	previous := readPorts(s.opts.DataDir)
	p, err := pickPorts(s.opts.Host, s.opts.FrontendPort, previous, s.opts.Persistence == PostgreSQL)
	if err != nil {
		return err
	}
	if previous != (ports{}) && s.opts.FrontendPort != 0 {
		previous.FrontendGRPC = s.opts.FrontendPort
	}
	if previous != (ports{}) && p != previous {
		fmt.Fprintln(s.opts.Log, "devtemporal: some ports of the last run are taken; "+
			"start-up may wait up to a minute for the server to forget the old hosts")
	}
	if err := writePorts(s.opts.DataDir, p); err != nil {
		return err
	}
	sp := storeParams{historyShards: s.opts.HistoryShards, maxConns: s.opts.MaxConns}
	if s.opts.Persistence == PostgreSQL {
		sp.postgres, sp.dbs = &s.pg, s.dbs
	}
	configFile, err := writeConfig(s.opts.DataDir, s.opts.Host, p, s.opts.PprofPort, sp)
	if err != nil {
		return err
	}
	s.address = net.JoinHostPort(broadcastAddress(s.opts.Host), strconv.Itoa(p.FrontendGRPC))

	s.tail = newTailBuffer(64 << 10) // per attempt: a retry must not see the last attempt's errors
	out := io.MultiWriter(s.opts.Log, s.tail)
	cmd := exec.Command(s.opts.Binary, "--allow-no-auth", "--config-file", configFile, "start")
	cmd.Dir = s.opts.DataDir
	cmd.Stdout, cmd.Stderr = out, out
	// The server inherits the data dir lock, so the dir stays locked until the server itself
	// is gone even if this process dies first. Its own process group keeps a terminal's
	// Ctrl-C away from it (the owner decides the shutdown order); Pdeathsig stops it when the
	// owner dies without calling Stop, e.g. a test binary killed by -timeout.
	cmd.ExtraFiles = []*os.File{s.lock}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", s.opts.Binary, err)
	}
	s.cmd, s.exited, s.waitErr = cmd, make(chan struct{}), nil
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	err = s.waitHealthy(ctx)
	if err != nil && s.hasExited() && strings.Contains(s.tail.String(), "address already in use") {
		return fmt.Errorf("%w: %v", errPortTaken, err)
	}
	return err
}

// waitHealthy polls the frontend's health check until it is SERVING.
func (s *Server) waitHealthy(ctx context.Context) error {
	for {
		err := s.checkHealth(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("server exited during start-up: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("wait for frontend %s: %w (last error: %v)", s.address, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Server) checkHealth(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// dial connects an SDK client to the frontend; it fails unless the frontend answers.
func (s *Server) dial(ctx context.Context) (client.Client, error) {
	return client.DialContext(ctx, s.clientOptions())
}

func (s *Server) clientOptions() client.Options {
	return client.Options{
		HostPort:  s.address,
		Namespace: s.opts.Namespace,
		// Start-up polling fails by design; the SDK's default logger would print every attempt.
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	}
}

// Address is the frontend's gRPC address (host:port) for client.Options.HostPort.
func (s *Server) Address() string { return s.address }

// Namespace is the namespace Start registered.
func (s *Server) Namespace() string { return s.opts.Namespace }

// DataDir is the absolute path of the server's data dir.
func (s *Server) DataDir() string { return s.opts.DataDir }

// Persistence is where the server keeps its state.
func (s *Server) Persistence() Persistence { return s.opts.Persistence }

// Storage describes where the state is, for people: the data dir, or the PostgreSQL
// databases and the shard count.
func (s *Server) Storage() string {
	if s.opts.Persistence == PostgreSQL {
		return fmt.Sprintf("PostgreSQL databases %s and %s on %s, %d history shards",
			s.dbs.History, s.dbs.Visibility, s.pg.address(), s.opts.HistoryShards)
	}
	return fmt.Sprintf("SQLite in %s, %d history shard(s)", s.opts.DataDir, s.opts.HistoryShards)
}

// Pid is the server's process id, which is also its process group id: a
// fault test signals -Pid to stall (SIGSTOP) or kill the whole server.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Done is closed when the server process exits, whether by Stop or on its own.
func (s *Server) Done() <-chan struct{} { return s.exited }

func (s *Server) hasExited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// Stop shuts the server down: SIGTERM to its process group, SIGKILL if it is still running
// after 15 s. It then releases the data dir and removes it if it was temporary. Calling it
// again returns the first call's result. It returns an error if the server had already
// exited on its own or did not stop cleanly.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.stopErr = s.stop()
		if err := s.dropPostgres(); err != nil {
			s.stopErr = errors.Join(s.stopErr, err)
		}
		if s.lock != nil {
			s.lock.Close()
		}
		if s.tempDir {
			if err := os.RemoveAll(s.opts.DataDir); err != nil {
				s.stopErr = errors.Join(s.stopErr, fmt.Errorf("remove temporal data dir: %w", err))
			}
		}
	})
	return s.stopErr
}

func (s *Server) stop() error {
	if s.cmd == nil {
		return nil
	}
	if s.hasExited() {
		return fmt.Errorf("temporal server had exited on its own: %v", s.waitErr)
	}
	pgid := s.cmd.Process.Pid
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop temporal server: %w", err)
	}
	select {
	case <-s.exited:
		if s.waitErr != nil {
			return fmt.Errorf("temporal server exited: %w", s.waitErr)
		}
		return nil
	case <-time.After(stopTimeout):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.exited
	return fmt.Errorf("temporal server did not stop within %s of SIGTERM and was killed", stopTimeout)
}

// tailBuffer keeps the last bytes written to it.
type tailBuffer struct {
	mu   sync.Mutex
	max  int
	data []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data = append(b.data, p...)
	if over := len(b.data) - b.max; over > 0 {
		b.data = append(b.data[:0], b.data[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.data)
}

// report formats the last lines for an error message, or "" if the log is empty.
func (b *tailBuffer) report() string {
	if b == nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return "\n--- temporal server log (tail) ---\n" + strings.Join(lines, "\n")
}
