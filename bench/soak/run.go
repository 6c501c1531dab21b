package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// ramp runs the workload closed-loop at rising concurrency for step each and
// returns every step; it stops early once a step has errors or two steps in a
// row fall below 90% of the best so far (well past the knee; one slow step
// on a shared machine is noise).
func ramp(ctx context.Context, w *workload, levels []int, step time.Duration, say io.Writer) []rampStep {
	var steps []rampStep
	var best float64
	drops := 0
	for _, c := range levels {
		end := time.Now().Add(step)
		var mu sync.Mutex
		var lat []time.Duration
		errs := 0
		var wg sync.WaitGroup
		start := time.Now()
		for g := range c {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(c), uint64(g)))
				for time.Now().Before(end) && ctx.Err() == nil {
					s := w.one(ctx, r, time.Now())
					mu.Lock()
					lat = append(lat, s.Latency)
					if s.failed() {
						errs++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		st := rampStep{Concurrency: c, Requests: len(lat), Errors: errs,
			Throughput: float64(len(lat)) / elapsed.Seconds(), P99Millis: ms(percentile(sortedCopy(lat), 99))}
		steps = append(steps, st)
		fmt.Fprintf(say, "  ramp: concurrency %3d  %7.1f req/s  p99 %7.1f ms  errors %d\n", c, st.Throughput, st.P99Millis, errs)
		if st.Throughput < 0.9*best {
			drops++
		} else {
			drops = 0
		}
		if errs > 0 || drops >= 2 || ctx.Err() != nil {
			break
		}
		best = max(best, st.Throughput)
	}
	return steps
}

// sampleRow is one 10-second sample of the processes and the latencies of
// the requests due in the window that ends at it.
type sampleRow struct {
	Seconds           float64 `json:"t_s"`
	GatewayRSSKiB     int64   `json:"gateway_rss_kib"`
	WorkerRSSKiB      int64   `json:"worker_rss_kib"`
	GatewayGoroutines int     `json:"gateway_goroutines"`
	WorkerGoroutines  int     `json:"worker_goroutines"`
	GatewayThreads    int     `json:"gateway_threads"`
	WorkerThreads     int     `json:"worker_threads"`
	InFlight          int     `json:"in_flight"` // the soak's requests outstanding at the sample
	Requests          int     `json:"requests"`
	P99Millis         float64 `json:"p99_ms"`
	ServiceP99Millis  float64 `json:"service_p99_ms"`
}

// openLoop sends n requests at rate, each at its due time whatever the
// answers before it did, with at most maxInFlight outstanding (a full pool
// delays the next start, and the delay counts in its latency).
func openLoop(ctx context.Context, w *workload, rate float64, n int64, maxInFlight int, inFlight *atomic.Int64, done func(sample)) {
	start := time.Now()
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	r := rand.New(rand.NewPCG(1, 2))
	var rmu sync.Mutex
	for i := range n {
		due := dueAt(start, i, rate)
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		rmu.Lock()
		rr := rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
		rmu.Unlock()
		inFlight.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer inFlight.Add(-1)
			done(w.one(ctx, rr, due))
		}()
	}
	wg.Wait()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
