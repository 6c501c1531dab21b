package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"schedsvc/bench/internal/stack"
)

// p1Point is one wrk run at a number of connections.
type p1Point struct {
	Conns int `json:"connections"`
	wrkResult
}

type p1Result struct {
	Duration string             `json:"duration_each"`
	Wrk      string             `json:"wrk"`
	Ours     []p1Point          `json:"ours"`
	Baseline []p1Point          `json:"baseline"`
	RSSMiB   map[string]float64 `json:"peak_rss_mib"`
}

// at is the point of ps at conns connections, or the last one below it.
func at(ps []p1Point, conns int) (p1Point, bool) {
	var best p1Point
	ok := false
	for _, p := range ps {
		if p.Conns <= conns && p.Conns >= best.Conns {
			best, ok = p, true
		}
	}
	return best, ok
}

func (b *bench) p1(ctx context.Context) (*p1Result, error) {
	if _, err := exec.LookPath("wrk"); err != nil {
		return nil, errors.New("wrk is missing: `make bench` installs it (apt-get install wrk)")
	}
	u, err := b.newUser("p1")
	if err != nil {
		return nil, err
	}
	id, err := b.create(ctx, u, yearly, 0)
	if err != nil {
		return nil, err
	}
	base, stop, err := b.startBaseline(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	path := "/api/v1/schedules/" + id
	// Both answer the same row; a wrong answer would make the figure meaningless.
	for _, url := range []string{b.s.BaseURL + path, base + path} {
		if err := checkGet(ctx, url, u.token, id); err != nil {
			return nil, err
		}
	}
	r := &p1Result{Duration: b.o.p1Duration.String(), Wrk: wrkVersion()}
	// Warm both up: connection pools, caches, the Go runtime's heap.
	for _, url := range []string{b.s.BaseURL + path, base + path} {
		if _, err := runWrk(ctx, url, u.token, 16, time.Second); err != nil {
			return nil, err
		}
	}
	rss := b.sampleRSS()
	for _, c := range b.o.p1Conns {
		wait := func() {}
		if c == 64 {
			wait = b.cpuProfile(ctx, b.s.Gateway.DebugAddr, "p1-gateway", b.o.p1Duration-time.Second)
		}
		ours, err := runWrk(ctx, b.s.BaseURL+path, u.token, c, b.o.p1Duration)
		wait()
		if err != nil {
			return nil, err
		}
		bl, err := runWrk(ctx, base+path, u.token, c, b.o.p1Duration)
		if err != nil {
			return nil, err
		}
		r.Ours = append(r.Ours, p1Point{c, ours})
		r.Baseline = append(r.Baseline, p1Point{c, bl})
		fmt.Fprintf(b.say, "  %3d connections: ours %7.0f rps (p99 %6.1f ms, non-2xx %d)   baseline %7.0f rps (p99 %6.1f ms)   %.2f\n",
			c, ours.RPS, ours.P99Ms, ours.Non2xx+ours.SockErrs, bl.RPS, bl.P99Ms, ratio(ours.RPS, bl.RPS))
	}
	r.RSSMiB = rss.peaks()
	return r, nil
}

// checkGet fetches url once and wants a 200 whose JSON names the schedule.
func checkGet(ctx context.Context, url, token, id string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %v", url, resp.StatusCode, err)
	}
	if fmt.Sprint(v["id"]) != id && fmt.Sprint(v["schedule_id"]) != id {
		return fmt.Errorf("GET %s: the answer does not name %s: %v", url, id, v)
	}
	return nil
}

// runWrk runs wrk against url (loopback only) for d at conns connections.
func runWrk(ctx context.Context, url, token string, conns int, d time.Duration) (wrkResult, error) {
	threads := min(2, conns)
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", max(1, int(d.Round(time.Second).Seconds()))), "--timeout", "10s", "--latency",
		"-H", "Authorization: Bearer "+token, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(string(out))
}

func wrkVersion() string {
	out, _ := exec.Command("wrk", "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// startBaseline re-executes this binary as the bare net/http + pgx server, a process of its
// own like the gateway, and returns its base URL.
func (b *bench) startBaseline(ctx context.Context) (string, func(), error) {
	addr, err := stack.FreeAddr()
	if err != nil {
		return "", nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	logf, err := os.Create(filepath.Join(b.s.Dir, "baseline.log"))
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, "-serve-baseline", addr, "-dsn", b.s.DB.URL)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return "", nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			fmt.Fprintf(b.say, "baseline server http://%s (pid %d)\n", addr, cmd.Process.Pid)
			return "http://" + addr, stop, nil
		}
		select {
		case <-exited:
			return "", nil, errors.New("the baseline server exited (see baseline.log)")
		case <-ctx.Done():
			stop()
			return "", nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("the baseline server did not listen within 30 s")
		}
	}
}

// baselineSchedule is the JSON the baseline writes: the row's fields, as the API names them.
type baselineSchedule struct {
	ID             string          `json:"id"`
	UserID         string          `json:"user_id"`
	TenantID       string          `json:"tenant_id"`
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	CronExpression string          `json:"cron_expression"`
	Timezone       string          `json:"timezone"`
	TaskQuery      string          `json:"task_query"`
	TaskContext    json.RawMessage `json:"task_context,omitempty"`
	MaxBudget      float64         `json:"max_budget_per_run_usd"`
	TimeoutSeconds int32           `json:"timeout_seconds"`
	Status         string          `json:"status"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	LastRunAt      *time.Time      `json:"last_run_at"`
	NextRunAt      *time.Time      `json:"next_run_at"`
	TotalRuns      int64           `json:"total_runs"`
	SuccessfulRuns int64           `json:"successful_runs"`
	FailedRuns     int64           `json:"failed_runs"`
	TotalTokens    int64           `json:"total_tokens"`
	TotalCostUSD   float64         `json:"total_cost_usd"`
}

// serveBaseline is the P1 baseline: net/http and a pgx pool, one point select per request,
// the row written as JSON. No auth, no validation, no limiter: the floor of the machine.
func serveBaseline(ctx context.Context, addr, dsn string) error {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	q := query("baseline_point")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/schedules/{id}", func(w http.ResponseWriter, r *http.Request) {
		var s baselineSchedule
		var tc []byte
		err := pool.QueryRow(r.Context(), q, r.PathValue("id")).Scan(&s.ID, &s.UserID, &s.TenantID, &s.Name,
			&s.Description, &s.CronExpression, &s.Timezone, &s.TaskQuery, &tc, &s.MaxBudget, &s.TimeoutSeconds,
			&s.Status, &s.CreatedAt, &s.UpdatedAt, &s.LastRunAt, &s.NextRunAt, &s.TotalRuns, &s.SuccessfulRuns,
			&s.FailedRuns, &s.TotalTokens, &s.TotalCostUSD)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		s.TaskContext = tc
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&s)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
