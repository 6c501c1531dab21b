package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"schedsvc/bench/internal/stack"
)

// p3Set is one batch of schedules due in the same minute and how late their runs began.
type p3Set struct {
	Name    string    `json:"name"`
	Due     time.Time `json:"due"`
	Count   int       `json:"count"`
	Started int       `json:"started"`
	Lag     dist      `json:"lag_s"`
	Lags    []float64 `json:"lags_s"`
	// Runs not started within waitFor of their minute; Lag counts each of them as waitFor.
	NotStarted int                `json:"not_started"`
	Close      *dist              `json:"close_lag_s,omitempty"` // floor: to the no-op's completion
	RSSMiB     map[string]float64 `json:"peak_rss_mib"`
	// CPU seconds the Temporal server and the workers used from 2 s before the batch was due
	// until the wait for it ended: what firing it cost each of them.
	TemporalCPUs float64 `json:"temporal_cpu_s"`
	WorkerCPUs   float64 `json:"worker_cpu_s"`
}

// cpuPerRunMs is the Temporal server's CPU per started run, in ms.
func (s *p3Set) cpuPerRunMs() float64 {
	if s.Started == 0 {
		return 0
	}
	return 1000 * s.TemporalCPUs / float64(s.Started)
}

// cpuMeter reads the CPU time the Temporal server and the workers have used.
func (b *bench) cpuMeter() func() (temporal, workers float64) {
	read := func() (float64, float64) {
		t := procCPUSeconds(b.s.Temporal.Pid())
		var w float64
		for _, p := range b.s.Workers {
			w += procCPUSeconds(p.Pid())
		}
		return t, w
	}
	t0, w0 := read()
	return func() (float64, float64) {
		t1, w1 := read()
		return t1 - t0, w1 - w0
	}
}

// procCPUSeconds is the user and system CPU time of a process (/proc/PID/stat utime and
// stime, in clock ticks of 1/100 s on Linux), 0 when it cannot be read.
func procCPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count fields after its closing parenthesis.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

type p3Result struct {
	Count    int    `json:"count"`
	Ours     p3Set  `json:"ours"`
	Floor    p3Set  `json:"floor"`
	OursTwo  *p3Set `json:"ours_two_workers,omitempty"`
	Executor string `json:"executor"`
}

// p3 makes every batch before the first is due: ours (one worker) at minute T, the raw
// Temporal floor at T+1, ours again at T+2 with a second worker process started between.
func (b *bench) p3(ctx context.Context) (*p3Result, error) {
	n := b.o.p3Count
	r := &p3Result{Count: n, Executor: "echo"}
	// Eight users, so that one user's creates (serialised by its limit) do not set the pace of
	// making the batches.
	var users []user
	for range 8 {
		u, err := b.newUser("p3")
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	raw := func(label, cron string) func(context.Context, int) (string, error) {
		return func(ctx context.Context, i int) (string, error) {
			id := fmt.Sprintf("bench-floor-%s-%s-%d", b.s.RunID, label, i)
			_, err := b.s.TC.ScheduleClient().Create(ctx, client.ScheduleOptions{
				ID:   id,
				Spec: client.ScheduleSpec{CronExpressions: []string{cron}},
				Action: &client.ScheduleWorkflowAction{
					ID: id + "-wf", Workflow: noopWorkflowName, TaskQueue: b.floorTQ,
					WorkflowExecutionTimeout: time.Minute,
				},
			})
			return id, err
		}
	}
	// Every batch is made before the first is due (making one while another fires would weigh
	// on it). How long making them takes is calibrated on this machine, now: 16 of each kind,
	// yearly, then the first batch is due at the first minute boundary after 1.5 times the
	// estimate and 10 s more.
	t0 := time.Now()
	if _, err := b.createMany(ctx, 16, func(ctx context.Context, i int) (string, error) {
		return b.create(ctx, users[i%len(users)], yearly, i)
	}); err != nil {
		return nil, err
	}
	perOurs := time.Since(t0) / 16
	t0 = time.Now()
	if _, err := b.createMany(ctx, 16, raw("calibration", yearly)); err != nil {
		return nil, err
	}
	perRaw := time.Since(t0) / 16
	margin := 10*time.Second + time.Duration(1.5*float64(time.Duration(2*n)*perOurs+time.Duration(n)*perRaw))
	fmt.Fprintf(b.say, "  a create takes %s through the API, %s raw (8 at once): making the batches takes about %s\n",
		perOurs.Round(time.Millisecond), perRaw.Round(time.Millisecond), (time.Duration(2*n)*perOurs + time.Duration(n)*perRaw).Round(time.Second))
	t := time.Now().Add(margin).Truncate(time.Minute).Add(time.Minute)
	due := []time.Time{t, t.Add(time.Minute), t.Add(2 * time.Minute)}
	cron := func(at time.Time) string { return fmt.Sprintf("%d %d * * *", at.UTC().Minute(), at.UTC().Hour()) }
	fmt.Fprintf(b.say, "  making %d schedules due %s (ours), %d raw due %s (floor), %d due %s (ours, two workers)\n",
		n, due[0].Format("15:04"), n, due[1].Format("15:04"), n, due[2].Format("15:04"))

	made := time.Now()
	ours, err := b.createMany(ctx, n, func(ctx context.Context, i int) (string, error) {
		return b.create(ctx, users[i%len(users)], cron(due[0]), i)
	})
	if err != nil {
		return nil, err
	}
	if _, err := b.createMany(ctx, n, raw("due", cron(due[1]))); err != nil {
		return nil, err
	}
	two, err := b.createMany(ctx, n, func(ctx context.Context, i int) (string, error) {
		return b.create(ctx, users[i%len(users)], cron(due[2]), n+i)
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(b.say, "  made in %s\n", time.Since(made).Round(100*time.Millisecond))
	if time.Now().After(due[0].Add(-5 * time.Second)) {
		return nil, fmt.Errorf("making the schedules took until %s, past the first batch's minute %s less 5 s", time.Now().Format("15:04:05"), due[0].Format("15:04:05"))
	}

	fmt.Fprintf(b.say, "  waiting for %s\n", due[0].Format("15:04:05"))
	if r.Ours, err = b.oursLag(ctx, "ours, one worker", ours, due[0]); err != nil {
		return nil, err
	}
	if r.Floor, err = b.floorLag(ctx, n, due[1]); err != nil {
		return nil, err
	}
	w2, err := b.s.StartWorker()
	if err != nil {
		return nil, err
	}
	if err := stack.WaitDebug(ctx, w2); err != nil {
		return nil, err
	}
	fmt.Fprintf(b.say, "  second worker (pid %d) started\n", w2.Pid())
	set, err := b.oursLag(ctx, "ours, two workers", two, due[2])
	if err != nil {
		return nil, err
	}
	r.OursTwo = &set
	b.explainSlowest(ctx, ours, 4)
	b.explainSlowest(ctx, two, 4)
	// The later figures run with one worker, as the earlier ones did.
	w2.Stop()
	b.s.Workers = b.s.Workers[:1]
	return r, nil
}

// waitFor is how long after its minute a batch's runs are waited for.
const waitFor = 90 * time.Second

// censor sets the started lags and the summary, in which a run not started counts as waitFor:
// its true lag is at least that.
func (s *p3Set) censor(lags []float64) {
	s.Lags, s.Started = lags, len(lags)
	s.NotStarted = max(0, s.Count-len(lags))
	all := slices.Clone(lags)
	for range s.NotStarted {
		all = append(all, waitFor.Seconds())
	}
	s.Lag = summarise(all)
}

// createMany calls mk for 0..n-1 from 8 goroutines and returns what each made, in order.
func (b *bench) createMany(ctx context.Context, n int, mk func(context.Context, int) (string, error)) ([]string, error) {
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				id, err := mk(ctx, i)
				if err != nil {
					mu.Lock()
					first = errors.Join(first, err)
					mu.Unlock()
					return
				}
				ids[i] = id
			}
		}()
	}
	wg.Wait()
	return ids, first
}

// sleepUntil waits until t or ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	select {
	case <-time.After(time.Until(t)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// oursLag waits for the batch's runs to start (a minute at most) and reads
// started_at - triggered_at of each from PostgreSQL.
func (b *bench) oursLag(ctx context.Context, name string, ids []string, due time.Time) (p3Set, error) {
	set := p3Set{Name: name, Due: due, Count: len(ids)}
	if err := sleepUntil(ctx, due.Add(-2*time.Second)); err != nil {
		return set, err
	}
	rss := b.sampleRSS()
	cpu := b.cpuMeter()
	var profiles []func()
	if name == "ours, one worker" {
		profiles = append(profiles, b.cpuProfile(ctx, b.s.Workers[0].DebugAddr, "p3-worker", 20*time.Second),
			b.cpuProfile(ctx, b.s.TemporalPprofAddr, "p3-temporal", 20*time.Second))
	}
	defer func() {
		for _, wait := range profiles {
			wait()
		}
	}()
	deadline := due.Add(waitFor)
	for {
		rows, err := b.pool.Query(ctx, query("run_lags"), ids)
		if err != nil {
			return set, err
		}
		var lags []float64
		for rows.Next() {
			var l float64
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return set, err
			}
			lags = append(lags, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return set, err
		}
		if len(lags) >= len(ids) || time.Now().After(deadline) {
			set.censor(lags)
			set.TemporalCPUs, set.WorkerCPUs = cpu()
			break
		}
		if err := sleepUntil(ctx, time.Now().Add(time.Second)); err != nil {
			return set, err
		}
	}
	set.RSSMiB = rss.peaks()
	fmt.Fprintf(b.say, "  %s: %d/%d started; lag p50 %.2f s, p90 %.2f s, p99 %.2f s, max %.2f s; peak RSS %s; Temporal CPU %.1f ms/run, workers %.1f s\n",
		name, set.Started, set.Count, set.Lag.P50, set.Lag.P90, set.Lag.P99, set.Lag.Max, fmtRSS(set.RSSMiB), set.cpuPerRunMs(), set.WorkerCPUs)
	return set, nil
}

// floorLag waits for the raw schedules' no-op workflows and reads, from Temporal's visibility,
// each one's start time less its TemporalScheduledStartTime.
func (b *bench) floorLag(ctx context.Context, n int, due time.Time) (p3Set, error) {
	set := p3Set{Name: "raw Temporal schedules, no-op workflow", Due: due, Count: n}
	if err := sleepUntil(ctx, due.Add(-2*time.Second)); err != nil {
		return set, err
	}
	rss := b.sampleRSS()
	cpu := b.cpuMeter()
	deadline := due.Add(waitFor)
	for {
		starts, closes, err := b.listFloor(ctx)
		if err != nil {
			return set, err
		}
		if len(closes) >= n || time.Now().After(deadline) {
			set.censor(starts)
			set.TemporalCPUs, _ = cpu()
			c := summarise(closes)
			set.Close = &c
			break
		}
		if err := sleepUntil(ctx, time.Now().Add(time.Second)); err != nil {
			return set, err
		}
	}
	set.RSSMiB = rss.peaks()
	fmt.Fprintf(b.say, "  floor: %d/%d started; lag p50 %.2f s, p90 %.2f s, p99 %.2f s, max %.2f s (to completion p99 %.2f s); Temporal CPU %.1f ms/run\n",
		set.Started, set.Count, set.Lag.P50, set.Lag.P90, set.Lag.P99, set.Lag.Max, set.Close.P99, set.cpuPerRunMs())
	return set, nil
}

// listFloor lists the floor's workflows: start lags of all, completion lags of the closed.
func (b *bench) listFloor(ctx context.Context) (starts, closes []float64, err error) {
	var token []byte
	for {
		resp, err := b.s.TC.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: b.s.Temporal.Namespace(), PageSize: 1000, NextPageToken: token,
			Query: fmt.Sprintf("TaskQueue = '%s'", b.floorTQ),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("list the floor's workflows: %w", err)
		}
		for _, e := range resp.Executions {
			at, ok := scheduledStart(e.GetSearchAttributes())
			if !ok || e.GetStartTime() == nil {
				continue
			}
			starts = append(starts, e.GetStartTime().AsTime().Sub(at).Seconds())
			if ct := e.GetCloseTime(); ct != nil && ct.IsValid() && !ct.AsTime().IsZero() && ct.AsTime().After(at) {
				closes = append(closes, ct.AsTime().Sub(at).Seconds())
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return starts, closes, nil
		}
	}
}

func scheduledStart(sa *commonpb.SearchAttributes) (time.Time, bool) {
	p := sa.GetIndexedFields()["TemporalScheduledStartTime"]
	if p == nil {
		return time.Time{}, false
	}
	var t time.Time
	if err := converter.GetDefaultDataConverter().FromPayload(p, &t); err != nil {
		return time.Time{}, false
	}
	return t, true
}
