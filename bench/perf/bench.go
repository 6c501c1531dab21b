package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"schedsvc/bench/internal/stack"
)

// The bench's own SQL: seeding and the baselines, which are by design not the service's
// queries (those live in db/queries and only store/ runs them).
//
//go:embed sql/*.sql
var sqlFiles embed.FS

func query(name string) string {
	b, err := sqlFiles.ReadFile("sql/" + name + ".sql")
	if err != nil {
		panic(err)
	}
	return string(b)
}

// noopWorkflow is the raw Temporal floor's workflow: it does nothing.
func noopWorkflow(workflow.Context) error { return nil }

const noopWorkflowName = "BenchNoop"

// bench is the measuring side: clients of the started stack.
type bench struct {
	s       *stack.Stack
	o       options
	say     io.Writer
	pool    *pgxpool.Pool
	hc      *http.Client
	floorTQ string
	floorW  worker.Worker
	users   int // users made so far, each figure its own
}

func newBench(ctx context.Context, s *stack.Stack, o options, say io.Writer) (*bench, error) {
	b := &bench{s: s, o: o, say: say, pool: s.DB.Pool, floorTQ: "bench-floor-" + s.RunID,
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute,
		}}}
	// The floor's no-op workflow runs on its own task queue, polled from this process.
	b.floorW = worker.New(s.TC, b.floorTQ, worker.Options{})
	b.floorW.RegisterWorkflowWithOptions(noopWorkflow, workflow.RegisterOptions{Name: noopWorkflowName})
	if err := b.floorW.Start(); err != nil {
		return nil, fmt.Errorf("start the floor's worker: %w", err)
	}
	return b, nil
}

func (b *bench) close() { b.floorW.Stop() }

func (b *bench) serverVersion(ctx context.Context) string {
	var v string
	if err := b.pool.QueryRow(ctx, query("server_version")).Scan(&v); err != nil {
		return "unknown: " + err.Error()
	}
	return v
}

// user is a caller of the API with its own token.
type user struct{ name, token string }

func (b *bench) newUser(figure string) (user, error) {
	b.users++
	name := fmt.Sprintf("bench-%s-%s-%d", b.s.RunID, figure, b.users)
	tok, err := b.s.Token(name, "bench-"+b.s.RunID)
	return user{name: name, token: tok}, err
}

// do sends one API request and reads the answer; out is decoded from a 2xx answer.
func (b *bench) do(ctx context.Context, u user, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.s.BaseURL+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+u.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", stack.RandomHex(12))
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// yearly never fires during a bench.
const yearly = "0 0 1 1 *"

// create makes one schedule of u through the API and returns its id.
func (b *bench) create(ctx context.Context, u user, cron string, n int) (string, error) {
	var a struct {
		ScheduleID string `json:"schedule_id"`
	}
	_, err := b.do(ctx, u, http.MethodPost, "/api/v1/schedules", map[string]any{
		"name":            fmt.Sprintf("bench %d", n),
		"description":     "created by make bench",
		"cron_expression": cron,
		"timezone":        "UTC",
		"task_query":      "bench",
		"executor":        "echo",
	}, &a)
	return a.ScheduleID, err
}

// rssSampler reads the VmRSS of the gateway and the workers every 250 ms while a load runs
// and keeps each one's peak.
type rssSampler struct {
	mu   sync.Mutex
	peak map[string]int64
	stop chan struct{}
	done chan struct{}
}

func (b *bench) sampleRSS() *rssSampler {
	r := &rssSampler{peak: map[string]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	procs := append([]*stack.Proc{b.s.Gateway}, b.s.Workers...)
	take := func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range procs {
			if p.Alive() != nil {
				continue
			}
			if kib, _ := stack.ProcStatus(p.Pid()); kib > r.peak[p.Name] {
				r.peak[p.Name] = kib
			}
		}
	}
	go func() {
		defer close(r.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		take()
		for {
			select {
			case <-r.stop:
				take()
				return
			case <-t.C:
				take()
			}
		}
	}()
	return r
}

// peaks stops the sampler and returns the peak RSS per process, in MiB.
func (r *rssSampler) peaks() map[string]float64 {
	close(r.stop)
	<-r.done
	out := map[string]float64{}
	for k, v := range r.peak {
		out[k] = float64(v) / 1024
	}
	return out
}
