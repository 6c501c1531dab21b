package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"schedsvc/config"
	"schedsvc/schedules"
	"schedsvc/schedules/cron"
)

// p4Point is one closed-loop level of concurrent creators.
type p4Point struct {
	Callers int     `json:"callers"`
	Created int     `json:"created"`
	Errors  int     `json:"errors"`
	Rate    float64 `json:"per_second"`
	Latency dist    `json:"latency_ms"`
}

type p4Result struct {
	Duration string             `json:"duration_each"`
	Ours     []p4Point          `json:"ours"`
	Raw      []p4Point          `json:"raw"`
	RSSMiB   map[string]float64 `json:"peak_rss_mib"`
}

func (b *bench) p4(ctx context.Context) (*p4Result, error) {
	r := &p4Result{Duration: b.o.p4Duration.String()}
	u, err := b.newUser("p4")
	if err != nil {
		return nil, err
	}
	var seq atomic.Int64
	ours := func(ctx context.Context) error {
		_, err := b.create(ctx, u, yearly, int(seq.Add(1)))
		return err
	}
	// The raw side creates the same Temporal schedule the service makes: the
	// spec our cron module compiles for the expression, an action of the same
	// shape, the default catch-up window. What differs is only what the
	// service adds (HTTP, auth, validation, limits, the row).
	timing, err := cron.Parse(yearly, "UTC")
	if err != nil {
		return nil, err
	}
	spec := timing.TemporalSpec(time.Now())
	catchup := config.Defaults().Temporal.CatchupWindow
	raw := func(ctx context.Context) error {
		n := seq.Add(1)
		id := fmt.Sprintf("bench-raw-%s-%d", b.s.RunID, n)
		_, err := b.s.TC.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID:   id,
			Spec: spec,
			Action: &client.ScheduleWorkflowAction{ID: id + "-wf", Workflow: noopWorkflowName, TaskQueue: b.floorTQ,
				Args: []any{schedules.RunInput{ScheduleID: id, UserID: u.name, TenantID: "bench-" + b.s.RunID, TaskQuery: "bench",
					TimeoutSeconds: 300, Executor: schedules.ExecutorEcho}},
				WorkflowRunTimeout: 6 * time.Minute},
			CatchupWindow: catchup,
			Note:          "raw create, the baseline",
		})
		return err
	}
	// Warm both paths up.
	for _, f := range []func(context.Context) error{ours, raw} {
		if err := f(ctx); err != nil {
			return nil, err
		}
	}
	rss := b.sampleRSS()
	for _, c := range b.o.p4Callers {
		// ABBA halves: the server slows a little as schedules pile up, and
		// neither side may get the emptier server.
		half := b.o.p4Duration / 2
		var o, w loopSamples
		wait := func() {}
		if c == 16 {
			wait = b.cpuProfile(ctx, b.s.Gateway.DebugAddr, "p4-gateway", half-time.Second)
		}
		o.run(ctx, c, half, ours)
		wait()
		w.run(ctx, c, half, raw)
		w.run(ctx, c, half, raw)
		o.run(ctx, c, half, ours)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.Ours, r.Raw = append(r.Ours, o.point(c)), append(r.Raw, w.point(c))
		fmt.Fprintf(b.say, "  %2d callers: ours %6.1f/s (p99 %6.1f ms, %d errors)   raw Temporal %6.1f/s (p99 %6.1f ms, %d errors)   %.2f\n",
			c, r.Ours[len(r.Ours)-1].Rate, r.Ours[len(r.Ours)-1].Latency.P99, r.Ours[len(r.Ours)-1].Errors,
			r.Raw[len(r.Raw)-1].Rate, r.Raw[len(r.Raw)-1].Latency.P99, r.Raw[len(r.Raw)-1].Errors,
			ratio(r.Ours[len(r.Ours)-1].Rate, r.Raw[len(r.Raw)-1].Rate))
	}
	r.RSSMiB = rss.peaks()
	return r, nil
}

// loopSamples gathers the calls of several closed-loop rounds of one side.
type loopSamples struct {
	created, errors int
	elapsed         time.Duration
	lat             []float64
}

// run is one closed-loop round: callers goroutines, each calling f again as soon as the last
// call returned, for d; a call still running at the end is waited for and counted.
func (l *loopSamples) run(ctx context.Context, callers int, d time.Duration, f func(context.Context) error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) && ctx.Err() == nil {
				t := time.Now()
				err := f(ctx)
				ms := millis(time.Since(t))
				mu.Lock()
				if err != nil {
					l.errors++
				} else {
					l.created++
					l.lat = append(l.lat, ms)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	l.elapsed += time.Since(start)
}

func (l *loopSamples) point(callers int) p4Point {
	return p4Point{Callers: callers, Created: l.created, Errors: l.errors,
		Rate: float64(l.created) / l.elapsed.Seconds(), Latency: summarise(l.lat)}
}
