// Command devstack runs the whole service on a developer's machine (`make run`): a Temporal dev
// server (SQLite persistence by default, PostgreSQL with TEMPORAL_PERSISTENCE=postgresql), the
// PostgreSQL database, migrations, a development task endpoint, the gateway and the worker. It
// prints a URL, a development JWT and curl examples, and stops everything on Ctrl-C. Run it from
// the repository root after building bin/gateway and bin/worker.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"schedsvc/devtemporal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

// config is what devstack reads from the environment, with the development defaults.
type config struct {
	temporalPort     int                     // TEMPORAL_PORT, 7233: frontend port of the dev Temporal server
	temporalAddress  string                  // TEMPORAL_ADDRESS: set means use that Temporal, start none
	persistence      devtemporal.Persistence // TEMPORAL_PERSISTENCE, defaultPersistence: sqlite or postgresql
	namespace        string                  // TEMPORAL_NAMESPACE, default
	pgAdminURL       string                  // DEV_PG_ADMIN_URL: where CREATE DATABASE runs
	databaseURL      string                  // DATABASE_URL
	httpAddr         string                  // HTTP_ADDR, 127.0.0.1:8080
	redisURL         string                  // REDIS_URL
	taskQueue        string                  // TEMPORAL_TASK_QUEUE
	jwtSecret        string                  // JWT_HS256_SECRET, else the stable secret in .data/dev-jwt-secret
	minIntervalMins  string                  // SCHEDULE_MIN_INTERVAL_MINS, 1
	taskEndpointURL  string                  // TASK_ENDPOINT_URL; empty starts the development task endpoint
	taskEndpointKey  string                  // TASK_ENDPOINT_SECRET, else the stable secret in .data/dev-webhook-secret
	executors        string                  // EXECUTORS_ENABLED, http,echo: the webhook by default, the echo demo on request
	notifyKey        string                  // NOTIFY_SIGNING_SECRET, else the stable secret in .data/dev-notify-secret
	notifyAllowed    string                  // NOTIFY_ALLOWED_HOSTS: the receiver's name is added to it
	notifyURL        string                  // the development notification receiver's URL, once started
	dataDir          string                  // .data, relative to the working directory
	binDir           string                  // bin, relative to the working directory
	devEndpointAddr  string                  // where the development task endpoint listens
	readinessTimeout time.Duration
}

func (c config) temporalLog() string { return filepath.Join(c.dataDir, "temporal.log") }

func loadConfig(getenv func(string) string) (config, error) {
	str := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	c := config{
		temporalAddress:  getenv("TEMPORAL_ADDRESS"),
		namespace:        str("TEMPORAL_NAMESPACE", "default"),
		pgAdminURL:       str("DEV_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		databaseURL:      str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/schedsvc?sslmode=disable"),
		httpAddr:         str("HTTP_ADDR", "127.0.0.1:8080"),
		redisURL:         str("REDIS_URL", "redis://127.0.0.1:6379/0"),
		taskQueue:        str("TEMPORAL_TASK_QUEUE", "scheduled-tasks"),
		jwtSecret:        getenv("JWT_HS256_SECRET"),
		minIntervalMins:  str("SCHEDULE_MIN_INTERVAL_MINS", "1"),
		taskEndpointURL:  getenv("TASK_ENDPOINT_URL"),
		taskEndpointKey:  getenv("TASK_ENDPOINT_SECRET"),
		executors:        str("EXECUTORS_ENABLED", "http,echo"),
		notifyKey:        getenv("NOTIFY_SIGNING_SECRET"),
		notifyAllowed:    getenv("NOTIFY_ALLOWED_HOSTS"),
		dataDir:          ".data",
		binDir:           "bin",
		devEndpointAddr:  "127.0.0.1:8090",
		readinessTimeout: 2 * time.Minute,
	}
	port, err := strconv.Atoi(str("TEMPORAL_PORT", "7233"))
	if err != nil || port < 1 || port > 65535 {
		return config{}, fmt.Errorf("TEMPORAL_PORT=%q is not a port number", getenv("TEMPORAL_PORT"))
	}
	c.temporalPort = port
	if c.persistence, err = devtemporal.ParsePersistence(str("TEMPORAL_PERSISTENCE", string(defaultPersistence))); err != nil {
		return config{}, fmt.Errorf("TEMPORAL_PERSISTENCE: %w", err)
	}
	return c, nil
}

// defaultPersistence is where the dev Temporal keeps its state unless TEMPORAL_PERSISTENCE
// says otherwise. Measured with bench/firing (300 schedules due in the same minute) on this
// 2-core machine while others loaded it (load 10-20), the figures do not pick a winner yet:
// Temporal's own no-op runs started sooner on SQLite (p99 27 s against 56 s at similar load),
// our runs sooner on PostgreSQL (p99 84 s against 118 s) at less server CPU per run (85 ms
// against 122 ms with local recording). SQLite stays the default until a quiet machine
// decides; PostgreSQL is one variable away.
const defaultPersistence = devtemporal.SQLite

// temporalDataDir keeps each persistence's state apart, so switching back and forth finds
// each one's schedules again: SQLite's files in .data/temporal as before, PostgreSQL's
// config and the name of its databases under .data/temporal-postgresql.
func (c config) temporalDataDir() string {
	if c.persistence == devtemporal.PostgreSQL {
		return filepath.Join(c.dataDir, "temporal-postgresql")
	}
	return filepath.Join(c.dataDir, "temporal")
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 1 {
		return fmt.Errorf("devstack takes no arguments; configure it with environment variables (see cmd/devstack/main.go)")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	out := newConsole(stdout)
	err = runStack(ctx, cfg, out, stdout)
	if err != nil && ctx.Err() != nil {
		// Interrupted while starting: what failed was only the reaction to the interrupt.
		fmt.Fprintf(out.prefixed("devstack"), "interrupted (%v)\n", err)
		return nil
	}
	return err
}

// runStack starts everything, waits for an interrupt or for a process to die, and stops
// everything it started, the gateway first and Temporal last.
func runStack(ctx context.Context, cfg config, out *console, stdout io.Writer) error {
	say := out.prefixed("devstack")
	var err error

	if cfg.jwtSecret == "" {
		if cfg.jwtSecret, err = devSecret(filepath.Join(cfg.dataDir, "dev-jwt-secret")); err != nil {
			return err
		}
	}
	if cfg.taskEndpointKey == "" {
		if cfg.taskEndpointKey, err = devSecret(filepath.Join(cfg.dataDir, "dev-webhook-secret")); err != nil {
			return err
		}
	}
	if cfg.notifyKey == "" {
		if cfg.notifyKey, err = devSecret(filepath.Join(cfg.dataDir, "dev-notify-secret")); err != nil {
			return err
		}
	}
	for _, bin := range []string{"gateway", "worker"} {
		if _, err := os.Stat(filepath.Join(cfg.binDir, bin)); err != nil {
			return fmt.Errorf("%s/%s is missing: build it first (make run does): %w", cfg.binDir, bin, err)
		}
	}

	if cfg.temporalAddress == "" {
		srv, err := startTemporal(ctx, cfg, out)
		if err != nil {
			return err
		}
		defer func() {
			fmt.Fprintln(say, "stopping temporal")
			if err := srv.Stop(); err != nil {
				fmt.Fprintln(say, "stop temporal:", err)
			}
		}()
		cfg.temporalAddress = srv.Address()
		fmt.Fprintf(say, "temporal %s ready at %s, namespace %q, state: %s (TEMPORAL_PERSISTENCE=sqlite|postgresql)\n",
			devtemporal.ServerVersion, srv.Address(), srv.Namespace(), srv.Storage())
		ctx = cancelWhenClosed(ctx, srv.Done(), "temporal server exited; see "+cfg.temporalLog())
	} else {
		fmt.Fprintf(say, "using the Temporal at TEMPORAL_ADDRESS=%s\n", cfg.temporalAddress)
	}

	if err := ensureDatabase(ctx, cfg.pgAdminURL, cfg.databaseURL); err != nil {
		return err
	}

	if cfg.taskEndpointURL == "" {
		endpoint, err := startDevTaskEndpoint(cfg.devEndpointAddr, say)
		if err != nil {
			return err
		}
		defer endpoint.Close()
		cfg.taskEndpointURL = "http://" + cfg.devEndpointAddr + "/task"
		fmt.Fprintf(say, "development task endpoint (echoes the task, no model is called) at %s\n", cfg.taskEndpointURL)
	}

	receiver, notifyURL, err := startDevReceiver([]byte(cfg.notifyKey), out.prefixed("receiver"))
	if err != nil {
		return err
	}
	defer receiver.Close()
	cfg.notifyURL = notifyURL
	fmt.Fprintf(say, "development notification receiver (verifies signatures, logs events) at %s\n", notifyURL)

	env := childEnv(cfg)
	if err := runToCompletion(ctx, filepath.Join(cfg.binDir, "gateway"), []string{"migrate"}, env, out.prefixed("migrate")); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	apiKey, err := devAPIKey(ctx, filepath.Join(cfg.binDir, "gateway"), env, filepath.Join(cfg.dataDir, "dev-api-key"), say)
	if err != nil {
		return err
	}

	var children processGroup
	defer children.stopAll(say)
	for _, name := range []string{"worker", "gateway"} {
		if err := children.start(name, filepath.Join(cfg.binDir, name), env, out.prefixed(name)); err != nil {
			return err
		}
	}
	ctx = cancelWhenClosed(ctx, children.firstExit(), "a child process exited")

	baseURL := "http://" + cfg.httpAddr
	if err := waitReady(ctx, baseURL+"/readyz", cfg.readinessTimeout); err != nil {
		return errors.Join(err, children.exitError())
	}
	token, err := devToken(cfg.jwtSecret, time.Now())
	if err != nil {
		return err
	}
	printWelcome(stdout, baseURL, token, apiKey, cfg.notifyURL)

	<-ctx.Done()
	if err := children.exitError(); err != nil {
		return err
	}
	if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) {
		return cause
	}
	fmt.Fprintln(say, "shutting down")
	return nil
}

// startTemporal ensures the pinned server binary and starts it on the configured port with
// its state in .data (SQLite) or in PostgreSQL databases named after .data (PostgreSQL), so
// schedules survive a restart of the stack.
func startTemporal(ctx context.Context, cfg config, out *console) (*devtemporal.Server, error) {
	say := out.prefixed("devstack")
	binary, err := devtemporal.EnsureBinary(ctx, devtemporal.CacheDir(os.Getenv), say)
	if err != nil {
		return nil, err
	}
	// The server's own log is too chatty for the console (it logs errors while shutting down
	// by design); it goes to a file, and a failed start-up shows its tail anyway.
	if err := os.MkdirAll(cfg.dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", cfg.dataDir, err)
	}
	logPath := cfg.temporalLog()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open temporal log: %w", err)
	}
	fmt.Fprintf(say, "starting temporal on port %d, logging to %s\n", cfg.temporalPort, logPath)
	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(startCtx, devtemporal.Options{
		Binary:           binary,
		DataDir:          cfg.temporalDataDir(),
		FrontendPort:     cfg.temporalPort,
		Namespace:        cfg.namespace,
		Log:              logFile,
		Persistence:      cfg.persistence,
		PostgresAdminURL: cfg.pgAdminURL,
	})
	if err != nil {
		logFile.Close()
		return nil, err
	}
	return srv, nil
}

// childEnv is the environment of the gateway and worker: ours, with every setting devstack
// decided on top, so that the children see exactly what the banner describes.
func childEnv(cfg config) []string {
	return append(os.Environ(),
		"HTTP_ADDR="+cfg.httpAddr,
		"DATABASE_URL="+cfg.databaseURL,
		"REDIS_URL="+cfg.redisURL,
		"TEMPORAL_ADDRESS="+cfg.temporalAddress,
		"TEMPORAL_NAMESPACE="+cfg.namespace,
		"TEMPORAL_TASK_QUEUE="+cfg.taskQueue,
		"JWT_HS256_SECRET="+cfg.jwtSecret,
		"SCHEDULE_MIN_INTERVAL_MINS="+cfg.minIntervalMins,
		"TASK_ENDPOINT_URL="+cfg.taskEndpointURL,
		"TASK_ENDPOINT_SECRET="+cfg.taskEndpointKey,
		"EXECUTORS_ENABLED="+cfg.executors,
		"NOTIFY_SIGNING_SECRET="+cfg.notifyKey,
		"NOTIFY_ALLOWED_HOSTS="+strings.Trim(cfg.notifyAllowed+","+devReceiverHost, ","),
	)
}

// cancelWhenClosed returns a context that ends with cause when done is closed.
func cancelWhenClosed(ctx context.Context, done <-chan struct{}, cause string) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-done:
			cancel(errors.New(cause))
		case <-ctx.Done():
		}
	}()
	return ctx
}

// waitReady polls url until it answers 200.
func waitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last answer: %s)", url, context.Cause(ctx), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func printWelcome(w io.Writer, baseURL, token, apiKey, notifyURL string) {
	fmt.Fprintf(w, `
The schedule service is running at %[1]s (Ctrl-C stops everything).

Development JWT (sub=dev-user, tenant_id=dev-tenant, valid 30 days):
  export TOKEN=%[2]s

Development API key (user dev-user, tenant dev-tenant, default tier: 60 requests/minute, bursts
of 10; a new one each run, also in .data/dev-api-key). Send it as -H "X-API-Key: $API_KEY":
  export API_KEY=%[3]s

Create a schedule that runs every minute:
  curl -sS -X POST %[1]s/api/v1/schedules \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"Morning news","cron_expression":"* * * * *","timezone":"Europe/Berlin","task_query":"Summarise the news"}'

Or one that notifies the development receiver when a run ends (its log shows each signed event):
  curl -sS -X POST %[1]s/api/v1/schedules \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"Notifying news","cron_expression":"* * * * *","task_query":"Summarise the news","notify":{"url":"%[4]s","on":["COMPLETED","FAILED","TIMED_OUT","CANCELLED","SCHEDULE_PAUSED"]}}'

List its runs (SCHEDULE_ID is the "schedule_id" the create answered with):
  curl -sS %[1]s/api/v1/schedules/$SCHEDULE_ID/runs -H "Authorization: Bearer $TOKEN"

Or with the CLI (./bin/schedctl --help lists its commands; -o json prints the API's JSON):
  SCHEDSVC_URL=%[1]s SCHEDSVC_TOKEN=$TOKEN ./bin/schedctl schedules list
  SCHEDSVC_URL=%[1]s SCHEDSVC_API_KEY=$API_KEY ./bin/schedctl runs list $SCHEDULE_ID

`, baseURL, token, apiKey, notifyURL)
}
