package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
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
	raw := func(ctx context.Context) error {
		id := fmt.Sprintf("bench-raw-%s-%d", b.s.RunID, seq.Add(1))
		_, err := b.s.TC.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID:     id,
			Spec:   client.ScheduleSpec{CronExpressions: []string{yearly}},
			Action: &client.ScheduleWorkflowAction{ID: id + "-wf", Workflow: noopWorkflowName, TaskQueue: b.floorTQ},
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
		o := closedLoop(ctx, c, b.o.p4Duration, ours)
		w := closedLoop(ctx, c, b.o.p4Duration, raw)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.Ours, r.Raw = append(r.Ours, o), append(r.Raw, w)
		fmt.Fprintf(b.say, "  %2d callers: ours %6.1f/s (p99 %6.1f ms, %d errors)   raw Temporal %6.1f/s (p99 %6.1f ms, %d errors)   %.2f\n",
			c, o.Rate, o.Latency.P99, o.Errors, w.Rate, w.Latency.P99, w.Errors, ratio(o.Rate, w.Rate))
	}
	r.RSSMiB = rss.peaks()
	return r, nil
}

// closedLoop runs f from callers goroutines, each calling again as soon as the last call
// returned, for d; a call still running at the end is waited for and counted.
func closedLoop(ctx context.Context, callers int, d time.Duration, f func(context.Context) error) p4Point {
	p := p4Point{Callers: callers}
	var mu sync.Mutex
	var lat []float64
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
				l := millis(time.Since(t))
				mu.Lock()
				if err != nil {
					p.Errors++
				} else {
					p.Created++
					lat = append(lat, l)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	p.Rate = float64(p.Created) / time.Since(start).Seconds()
	p.Latency = summarise(lat)
	return p
}
