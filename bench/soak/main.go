// Command soak drives a mixed workload against a stack it starts itself (a
// throwaway Temporal server, a uniquely named database, bin/gateway and
// bin/worker on free loopback ports) at 80% of the capacity it measures
// first, for a bounded time, and reports what must hold: no 5xx, latency
// percentiles, flat RSS and goroutine counts, and every run recorded exactly
// once. `make soak` runs it; SOAK_DURATION or -duration shortens it.
//
// The capacity is the soak's own closed-loop ramp over the same workload:
// `make bench` measures single operations, not this mix.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"schedsvc/bench/internal/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	duration     time.Duration
	rampStep     time.Duration
	loadFraction float64
	tenants      int
	users        int // per tenant
	firing       int // firing schedules per user
	maxInFlight  int
	binDir       string
	outDir       string
	replot       string // a soak.json to draw again, without soaking
}

func parseFlags(args []string, getenv func(string) string) (options, error) {
	def := 10 * time.Minute
	if v := getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return options{}, fmt.Errorf("SOAK_DURATION=%q is not a positive duration such as 10m", v)
		}
		def = d
	}
	var o options
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", def, "how long the soak runs at the target rate (SOAK_DURATION)")
	fs.DurationVar(&o.rampStep, "ramp-step", 4*time.Second, "length of each step of the capacity ramp")
	fs.Float64Var(&o.loadFraction, "load", 0.8, "fraction of the measured capacity the soak sends")
	fs.IntVar(&o.tenants, "tenants", 3, "tenants")
	fs.IntVar(&o.users, "users", 4, "users per tenant")
	fs.IntVar(&o.firing, "firing", 5, "schedules per user that fire every minute")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 0, "most requests outstanding at once; 0: four times the concurrency of the capacity knee")
	fs.StringVar(&o.binDir, "bin", "bin", "where the gateway and worker binaries are")
	fs.StringVar(&o.outDir, "out", "docs", "where soak.json, soak.md and soak.png are written")
	fs.StringVar(&o.replot, "replot", "", "draw soak.png again from this soak.json and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.duration <= 0 || o.duration > 2*time.Hour || o.loadFraction <= 0 || o.loadFraction > 1 ||
		o.tenants < 1 || o.users < 1 || o.firing < 1 || o.maxInFlight < 0 {
		return o, errors.New("duration must be in (0, 2h], load in (0, 1], counts positive (max-in-flight 0 or more)")
	}
	return o, nil
}

// report is everything the soak measured; soak.json holds it.
type report struct {
	Started         time.Time          `json:"started"`
	Duration        string             `json:"duration"`
	CapacitySource  string             `json:"capacity_source"`
	Ramp            []rampStep         `json:"ramp"`
	CapacityRPS     float64            `json:"capacity_rps"`
	TargetRPS       float64            `json:"target_rps"`
	Budget          int64              `json:"request_budget"`
	MaxInFlight     int                `json:"max_in_flight"`
	Requests        int                `json:"requests"`
	Elapsed         string             `json:"elapsed"`
	AchievedRPS     float64            `json:"achieved_rps"`
	P50Millis       float64            `json:"p50_ms"`
	P90Millis       float64            `json:"p90_ms"`
	P99Millis       float64            `json:"p99_ms"`
	MaxMillis       float64            `json:"max_ms"`
	ServiceP50      float64            `json:"service_p50_ms"`
	ServiceP99      float64            `json:"service_p99_ms"`
	Status5xx       int                `json:"status_5xx"`
	Status429       int                `json:"status_429"`
	TransportErrors int                `json:"transport_errors"`
	Race404         int                `json:"race_404"`
	Other4xx        int                `json:"other_4xx"`
	ByOp            map[string]opStats `json:"by_op"`
	Warmup          string             `json:"warmup_excluded_from_slopes"`
	GatewayRSS      trend              `json:"gateway_rss_kib"`
	WorkerRSS       trend              `json:"worker_rss_kib"`
	GatewayGor      trend              `json:"gateway_goroutines"`
	WorkerGor       trend              `json:"worker_goroutines"`
	FiringSchedules int                `json:"firing_schedules"`
	ChurnSchedules  int                `json:"churn_schedules_left"`
	RunsRecorded    int                `json:"runs_recorded"`
	RunsExecuted    int                `json:"runs_executed"`
	Inexact         []runCount         `json:"inexact_schedules"`
	Samples         []sampleRow        `json:"samples"`
}

type opStats struct {
	Requests  int            `json:"requests"`
	P50Millis float64        `json:"p50_ms"`
	P99Millis float64        `json:"p99_ms"`
	Statuses  map[string]int `json:"statuses"`
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o, err := parseFlags(args, getenv)
	if err != nil {
		return err
	}
	if o.replot != "" {
		return replot(o.replot, filepath.Join(o.outDir, "soak.png"))
	}
	// Everything is bounded: ramp, soak, counting and shutdown fit in this.
	ctx, cancel := context.WithTimeout(ctx, o.duration+20*time.Minute)
	defer cancel()
	say := stdout
	runID := stack.RandomHex(4)
	rep := report{Started: time.Now().UTC(), Duration: o.duration.String(),
		CapacitySource: "the soak's own closed-loop ramp over the same workload (make bench measures single operations, not this mix)"}

	fmt.Fprintf(say, "soak %s: starting the stack\n", runID)
	s, err := stack.Start(ctx, stack.Options{Name: "soak", BinDir: o.binDir, RunID: runID, Say: say,
		Env: []string{
			"SCHEDULE_MAX_PER_USER=1000",
			// The reconciler runs several times during the soak, as it would in
			// production over a longer time.
			"RECONCILE_INTERVAL=1m",
		}})
	if err != nil {
		return err
	}
	defer s.Stop()
	ctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	died := s.Died(ctx)
	go func() {
		select {
		case err := <-died:
			cancelCause(err)
		case <-ctx.Done():
		}
	}()

	w, err := newWorkload(s.BaseURL, s.Secret, o.tenants, o.users, runID)
	if err != nil {
		return err
	}
	if err := w.seed(ctx, o.firing); err != nil {
		return err
	}
	rep.FiringSchedules = o.tenants * o.users * o.firing
	fmt.Fprintf(say, "%d users in %d tenants, %d schedules firing every minute\n", len(w.users), o.tenants, rep.FiringSchedules)

	if err := measureCapacity(ctx, w, o, &rep, say); err != nil {
		return err
	}
	samples, rows, soakStart, elapsed := soak(ctx, s, w, &rep, say)
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("soak stopped early: %w", err)
	}
	summarise(&rep, samples, rows, soakStart, elapsed, o.duration)
	if err := countRuns(ctx, s, w, &rep, say); err != nil {
		return err
	}
	if err := writeReport(o.outDir, rep, say); err != nil {
		return err
	}
	if failed := broken(rep); len(failed) > 0 {
		return errors.New("the soak's promises did not hold: " + strings.Join(failed, "; "))
	}
	s.KeepLogs = false
	return nil
}

// measureCapacity ramps the workload closed-loop and sets the capacity
// (the knee), the target rate, the request budget and the in-flight cap.
func measureCapacity(ctx context.Context, w *workload, o options, rep *report, say io.Writer) error {
	fmt.Fprintf(say, "measuring capacity: %s\n", rep.CapacitySource)
	rep.Ramp = ramp(ctx, w, []int{1, 2, 4, 8, 16}, o.rampStep, say)
	k, ok := knee(rep.Ramp)
	if !ok {
		return fmt.Errorf("every ramp step had errors: %+v", rep.Ramp)
	}
	rep.CapacityRPS = k.Throughput
	rep.TargetRPS = o.loadFraction * k.Throughput
	rep.Budget = budget(rep.TargetRPS, o.duration)
	// Like a client's connection pool, the soak keeps at most a few times
	// the knee's concurrency outstanding: past the knee the service's
	// throughput falls (row locks and Temporal calls contend), so an
	// unbounded backlog after a burst would never drain. Requests held back
	// wait in the soak, and that wait counts in their latency.
	rep.MaxInFlight = o.maxInFlight
	if rep.MaxInFlight == 0 {
		rep.MaxInFlight = max(8, 4*k.Concurrency)
	}
	fmt.Fprintf(say, "capacity %.1f req/s at concurrency %d; soaking at %.0f%%: %.1f req/s for %s (%d requests, at most %d in flight)\n",
		k.Throughput, k.Concurrency, 100*o.loadFraction, rep.TargetRPS, o.duration, rep.Budget, rep.MaxInFlight)
	return nil
}

// soak sends the request budget open-loop at the target rate while a
// sampler reads the gateway's and worker's memory and goroutines every 10 s.
func soak(ctx context.Context, s *stack.Stack, w *workload, rep *report, say io.Writer) (samples []sample, rows []sampleRow, start time.Time, elapsed time.Duration) {
	var mu sync.Mutex
	var inFlight atomic.Int64
	start = time.Now()
	hc := &http.Client{Timeout: 2 * time.Second}
	takeRow := func() {
		row := sampleRow{Seconds: time.Since(start).Seconds(), InFlight: int(inFlight.Load())}
		row.GatewayRSSKiB, row.GatewayThreads = stack.ProcStatus(s.Gateway.Pid())
		row.WorkerRSSKiB, row.WorkerThreads = stack.ProcStatus(s.Workers[0].Pid())
		row.GatewayGoroutines = stack.Goroutines(hc, s.Gateway.DebugAddr)
		row.WorkerGoroutines = stack.Goroutines(hc, s.Workers[0].DebugAddr)
		mu.Lock()
		rows = append(rows, row)
		mu.Unlock()
	}
	takeRow()
	samplerDone := make(chan struct{})
	stopSampler := make(chan struct{})
	go func() {
		defer close(samplerDone)
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopSampler:
				return
			case <-t.C:
				takeRow()
				mu.Lock()
				last := rows[len(rows)-1]
				n := len(samples)
				mu.Unlock()
				fmt.Fprintf(say, "  %5.0fs  %6d requests  %3d in flight  gateway %6.1f MiB %4d goroutines  worker %6.1f MiB %4d goroutines\n",
					last.Seconds, n, last.InFlight, float64(last.GatewayRSSKiB)/1024, last.GatewayGoroutines,
					float64(last.WorkerRSSKiB)/1024, last.WorkerGoroutines)
			}
		}
	}()
	openLoop(ctx, w, rep.TargetRPS, rep.Budget, rep.MaxInFlight, &inFlight, func(sm sample) {
		mu.Lock()
		samples = append(samples, sm)
		mu.Unlock()
	})
	elapsed = time.Since(start)
	close(stopSampler)
	<-samplerDone
	takeRow()
	return samples, rows, start, elapsed
}

// countRuns pauses the firing schedules and compares, per schedule, the
// runs recorded in PostgreSQL with the actions Temporal executed.
func countRuns(ctx context.Context, s *stack.Stack, w *workload, rep *report, say io.Writer) error {
	fmt.Fprintln(say, "pausing the firing schedules and counting runs")
	counts, err := verifyRuns(ctx, s, w, 3*time.Minute, say)
	if err != nil {
		return err
	}
	for _, c := range counts {
		rep.RunsRecorded += c.Rows
		rep.RunsExecuted += c.Executed
		if !c.Firing {
			rep.ChurnSchedules++
		}
		if !c.exact() {
			rep.Inexact = append(rep.Inexact, c)
		}
	}
	return nil
}

// writeReport writes soak.json, soak.md and soak.png into dir and prints
// the figures.
func writeReport(dir string, rep report, say io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "soak.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := writePlot(filepath.Join(dir, "soak.png"), rep.Samples, "soak "+rep.Duration); err != nil {
		return err
	}
	md := figures(rep)
	if err := os.WriteFile(filepath.Join(dir, "soak.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprint(say, "\n"+md)
	fmt.Fprintf(say, "\nwrote %s, %s and %s\n", filepath.Join(dir, "soak.json"), filepath.Join(dir, "soak.md"), filepath.Join(dir, "soak.png"))
	return nil
}

// broken lists the soak's promises that did not hold, sorted.
func broken(rep report) []string {
	var failed []string
	if rep.Status5xx > 0 || rep.TransportErrors > 0 || rep.Status429 > 0 {
		failed = append(failed, fmt.Sprintf("%d 5xx, %d 429, %d transport errors", rep.Status5xx, rep.Status429, rep.TransportErrors))
	}
	if len(rep.Inexact) > 0 {
		failed = append(failed, fmt.Sprintf("%d schedules whose recorded runs differ from Temporal's actions", len(rep.Inexact)))
	}
	for name, t := range map[string]trend{"gateway RSS": rep.GatewayRSS, "worker RSS": rep.WorkerRSS, "gateway goroutines": rep.GatewayGor, "worker goroutines": rep.WorkerGor} {
		if !t.Flat {
			failed = append(failed, fmt.Sprintf("%s grows %.1f/min", name, t.PerMinute))
		}
	}
	slices.Sort(failed)
	return failed
}

// summarise fills the latency, status and trend figures.
func summarise(rep *report, samples []sample, rows []sampleRow, start time.Time, elapsed, duration time.Duration) {
	var all, service []time.Duration
	byOp := map[string][]sample{}
	for _, s := range samples {
		if s.Status == -1 {
			continue
		}
		all = append(all, s.Latency)
		service = append(service, s.Service)
		byOp[s.Op] = append(byOp[s.Op], s)
		switch {
		case s.Status == 0:
			rep.TransportErrors++
		case s.Status >= 500:
			rep.Status5xx++
		case s.Status == 429:
			rep.Status429++
		case s.Race404:
			rep.Race404++
		case s.Status >= 400:
			rep.Other4xx++
		}
	}
	rep.Requests = len(all)
	rep.Elapsed = elapsed.Round(time.Second).String()
	rep.AchievedRPS = float64(len(all)) / elapsed.Seconds()
	sorted := sortedCopy(all)
	rep.P50Millis, rep.P90Millis = ms(percentile(sorted, 50)), ms(percentile(sorted, 90))
	rep.P99Millis, rep.MaxMillis = ms(percentile(sorted, 99)), ms(percentile(sorted, 100))
	sortedService := sortedCopy(service)
	rep.ServiceP50, rep.ServiceP99 = ms(percentile(sortedService, 50)), ms(percentile(sortedService, 99))
	rep.ByOp = map[string]opStats{}
	for op, ss := range byOp {
		st := opStats{Requests: len(ss), Statuses: map[string]int{}}
		var lat []time.Duration
		for _, s := range ss {
			lat = append(lat, s.Latency)
			st.Statuses[fmt.Sprint(s.Status)]++
		}
		l := sortedCopy(lat)
		st.P50Millis, st.P99Millis = ms(percentile(l, 50)), ms(percentile(l, 99))
		rep.ByOp[op] = st
	}
	// Each row's p99 is over the requests due in the window that ends at it.
	sort.Slice(samples, func(i, j int) bool { return samples[i].Due.Before(samples[j].Due) })
	j := 0
	for i := range rows {
		end := start.Add(time.Duration(rows[i].Seconds * float64(time.Second)))
		var lat, svc []time.Duration
		for ; j < len(samples) && !samples[j].Due.After(end); j++ {
			if samples[j].Status != -1 {
				lat = append(lat, samples[j].Latency)
				svc = append(svc, samples[j].Service)
			}
		}
		rows[i].Requests = len(lat)
		rows[i].P99Millis = ms(percentile(sortedCopy(lat), 99))
		rows[i].ServiceP99Millis = ms(percentile(sortedCopy(svc), 99))
	}
	rep.Samples = rows
	// The first minute (a third of a short soak) is warm-up: pools fill and
	// the heap finds its size. Slopes are fitted over the rest.
	warm := min(time.Minute, duration/3)
	rep.Warmup = warm.String()
	var mins, grss, wrss, ggor, wgor []float64
	for _, r := range rows {
		if r.Seconds < warm.Seconds() {
			continue
		}
		mins = append(mins, r.Seconds/60)
		grss = append(grss, float64(r.GatewayRSSKiB))
		wrss = append(wrss, float64(r.WorkerRSSKiB))
		ggor = append(ggor, float64(r.GatewayGoroutines))
		wgor = append(wgor, float64(r.WorkerGoroutines))
	}
	// Flat: the fitted drift over the window is under 10% of the mean, and
	// under at least 4 MiB (a garbage-collected heap breathes by that much)
	// or 50 goroutines (each open connection and in-flight request holds
	// one or two, so the gateway's count follows the load from sample to
	// sample). A leak of one goroutine per 100 requests, or 1 MiB a minute,
	// exceeds both over a 10-minute soak.
	rep.GatewayRSS = fitTrend(mins, grss, 4096, 0.10)
	rep.WorkerRSS = fitTrend(mins, wrss, 4096, 0.10)
	rep.GatewayGor = fitTrend(mins, ggor, 50, 0.10)
	rep.WorkerGor = fitTrend(mins, wgor, 50, 0.10)
}

// figures is the markdown summary, written to soak.md and printed.
func figures(r report) string {
	var b strings.Builder
	flat := func(t trend) string {
		if t.Flat {
			return "flat"
		}
		return "GROWING"
	}
	fmt.Fprintf(&b, "| figure | value |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| started | %s |\n", r.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "| duration at the target rate | %s |\n", r.Duration)
	fmt.Fprintf(&b, "| capacity (knee of the soak's own ramp over its mix) | %.1f req/s |\n", r.CapacityRPS)
	fmt.Fprintf(&b, "| target rate (80%%), request budget | %.1f req/s, %d |\n", r.TargetRPS, r.Budget)
	fmt.Fprintf(&b, "| requests sent, achieved rate, time to send the budget | %d, %.1f req/s, %s |\n", r.Requests, r.AchievedRPS, r.Elapsed)
	fmt.Fprintf(&b, "| latency p50 / p90 / p99 / max (from each request's due time) | %.1f / %.1f / %.1f / %.1f ms |\n", r.P50Millis, r.P90Millis, r.P99Millis, r.MaxMillis)
	fmt.Fprintf(&b, "| service time p50 / p99 (from sending; differs when the %d-request in-flight cap was reached) | %.1f / %.1f ms |\n", r.MaxInFlight, r.ServiceP50, r.ServiceP99)
	fmt.Fprintf(&b, "| 5xx / 429 / transport errors | %d / %d / %d |\n", r.Status5xx, r.Status429, r.TransportErrors)
	fmt.Fprintf(&b, "| 404 on a schedule a concurrent delete removed / other 4xx | %d / %d |\n", r.Race404, r.Other4xx)
	fmt.Fprintf(&b, "| gateway RSS slope (after %s warm-up) | %+.1f KiB/min, drift %+.0f KiB over a mean of %.1f MiB: %s |\n", r.Warmup, r.GatewayRSS.PerMinute, r.GatewayRSS.Drift, r.GatewayRSS.Mean/1024, flat(r.GatewayRSS))
	fmt.Fprintf(&b, "| worker RSS slope | %+.1f KiB/min, drift %+.0f KiB over a mean of %.1f MiB: %s |\n", r.WorkerRSS.PerMinute, r.WorkerRSS.Drift, r.WorkerRSS.Mean/1024, flat(r.WorkerRSS))
	fmt.Fprintf(&b, "| goroutine slope gateway / worker | %+.2f / %+.2f per min (means %.0f / %.0f): %s / %s |\n", r.GatewayGor.PerMinute, r.WorkerGor.PerMinute, r.GatewayGor.Mean, r.WorkerGor.Mean, flat(r.GatewayGor), flat(r.WorkerGor))
	fmt.Fprintf(&b, "| schedules counted (firing every minute + churn left) | %d + %d |\n", r.FiringSchedules, r.ChurnSchedules)
	fmt.Fprintf(&b, "| runs recorded in PostgreSQL / executed by Temporal | %d / %d (%d schedules differ) |\n", r.RunsRecorded, r.RunsExecuted, len(r.Inexact))
	b.WriteString("\n| operation | requests | p50 ms | p99 ms | statuses |\n| --- | --- | --- | --- | --- |\n")
	ops := make([]string, 0, len(r.ByOp))
	for op := range r.ByOp {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	for _, op := range ops {
		st := r.ByOp[op]
		codes := make([]string, 0, len(st.Statuses))
		for c, n := range st.Statuses {
			codes = append(codes, fmt.Sprintf("%s×%d", c, n))
		}
		slices.Sort(codes)
		fmt.Fprintf(&b, "| %s | %d | %.1f | %.1f | %s |\n", op, st.Requests, st.P50Millis, st.P99Millis, strings.Join(codes, " "))
	}
	return b.String()
}

// replot draws the plot of an earlier soak from its soak.json.
func replot(jsonPath, pngPath string) error {
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return err
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("%s: %w", jsonPath, err)
	}
	return writePlot(pngPath, rep.Samples, "soak "+rep.Duration)
}
