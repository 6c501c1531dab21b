package main

import (
	_ "embed"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// row is one line of the summary table.
type row struct {
	figure, ours, baseline string
	ratio                  float64
	goal                   string
	met                    bool
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2f", x)
}

func fmtRSS(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.0f MiB", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

const p1Conns, p4Callers = 64, 16

// rows are the summary: one per figure measured, each with its goal from issue 9.
func rows(r *results) []row {
	var out []row
	if r.P1 != nil {
		o, ok1 := at(r.P1.Ours, p1Conns)
		b, ok2 := at(r.P1.Baseline, p1Conns)
		if ok1 && ok2 {
			x := ratio(o.RPS, b.RPS)
			out = append(out, row{fmt.Sprintf("**P1** `GET /schedules/{id}`, %d connections (wrk)", o.Conns),
				fmt.Sprintf("%.0f rps, p99 %.1f ms", o.RPS, o.P99Ms),
				fmt.Sprintf("bare net/http + pgx point select: %.0f rps, p99 %.1f ms", b.RPS, b.P99Ms),
				x, "≥ 0.5", x >= 0.5})
		}
	}
	if r.P2 != nil && len(r.P2.Points) > 0 {
		x, w := r.P2.worst()
		first := r.P2.Points[0]
		deepest := r.P2.Points[len(r.P2.Points)-1]
		out = append(out, row{fmt.Sprintf("**P2** runs history, %s runs: slowest page over the first", thousands(r.P2.Runs)),
			slowest(w, first),
			fmt.Sprintf("the seed's shape at page %s: %.1f ms", thousands(deepest.Page), deepest.Baseline.P50),
			x, "≤ 3", x <= 3})
	}
	if r.P3 != nil {
		for _, s := range []*p3Set{&r.P3.Ours, r.P3.OursTwo} {
			if s == nil {
				continue
			}
			x := ratio(s.Lag.P99, r.P3.Floor.Lag.P99)
			out = append(out, row{fmt.Sprintf("**P3** %d schedules due in the same minute, %s: start lag", r.P3.Count, strings.TrimPrefix(s.Name, "ours, ")),
				fmt.Sprintf("p50 %.2f s, p99 %.2f s (%d/%d started%s)", s.Lag.P50, s.Lag.P99, s.Started, s.Count, notStarted(s)),
				fmt.Sprintf("raw Temporal no-op schedules: p99 %.2f s", r.P3.Floor.Lag.P99),
				x, "p99 ≤ 2 s and ≤ 1.25", s.Lag.P99 <= 2 && x <= 1.25 && s.Started == s.Count})
		}
	}
	if r.P4 != nil {
		o, ok1 := atCallers(r.P4.Ours, p4Callers)
		w, ok2 := atCallers(r.P4.Raw, p4Callers)
		if ok1 && ok2 {
			x := ratio(o.Rate, w.Rate)
			out = append(out, row{fmt.Sprintf("**P4** `POST /schedules`, one user, %d callers", o.Callers),
				fmt.Sprintf("%.1f/s, p99 %.0f ms", o.Rate, o.Latency.P99),
				fmt.Sprintf("raw `ScheduleClient.Create`: %.1f/s", w.Rate),
				x, "≥ 0.8", x >= 0.8})
		}
	}
	return out
}

// slowest describes P2's slowest page against the first.
func slowest(w, first p2Point) string {
	if w.Page == first.Page {
		return fmt.Sprintf("no page slower than the first (%.2f ms, p50)", first.Ours.P50)
	}
	return fmt.Sprintf("page %s %.2f ms (p50); first page %.2f ms", thousands(w.Page), w.Ours.P50, first.Ours.P50)
}

// notStarted says how the runs not started within the wait were counted.
func notStarted(s *p3Set) string {
	if s.NotStarted == 0 {
		return ""
	}
	return fmt.Sprintf("; the %d not started within %s count as %s", s.NotStarted, waitFor, waitFor)
}

func atCallers(ps []p4Point, c int) (p4Point, bool) {
	var best p4Point
	ok := false
	for _, p := range ps {
		if p.Callers <= c && p.Callers >= best.Callers {
			best, ok = p, true
		}
	}
	return best, ok
}

// table is the summary as markdown, printed and written.
func table(r *results) string {
	var b strings.Builder
	b.WriteString("| figure | measured | baseline in the same run | ratio | goal | met |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, x := range rows(r) {
		met := "no"
		if x.met {
			met = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", x.figure, x.ours, x.baseline, fmtRatio(x.ratio), x.goal, met)
	}
	return b.String()
}

// thousands writes n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// markdown is docs/BENCHMARKS.md.
func markdown(r *results, plots []string) string {
	var b strings.Builder
	img := func(name string) {
		for _, p := range plots {
			if filepath.Base(p) == name {
				fmt.Fprintf(&b, "\n![%s](%s)\n", strings.TrimSuffix(name, ".png"), name)
			}
		}
	}
	m := r.Machine
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("The four speed figures of issue 9, each beside its baseline measured in the same run on the same\n")
	b.WriteString("machine. This page, `docs/bench.json` and the `docs/bench-p*.png` plots are written by `make bench`;\n")
	b.WriteString("do not edit them by hand (`bin/bench -from docs/bench.json` redraws them from the JSON).\n\n")
	b.WriteString("## Machine and run\n\n")
	fmt.Fprintf(&b, "- %d cores (%s), %.1f GiB RAM, Linux %s\n", m.Cores, m.CPU, m.MemGiB, m.Kernel)
	fmt.Fprintf(&b, "- PostgreSQL %s on 127.0.0.1; Temporal server %s (dev server, %s persistence); %s\n", m.PostgreSQL, m.Temporal, orDefault(r.Persistence, "sqlite"), m.Go)
	fmt.Fprintf(&b, "- load average (1, 5, 15 min) %s before, %s after; started %s, took %s\n",
		m.LoadBefore, m.LoadAfter, r.Started.Format(time.RFC3339), r.Finished.Sub(r.Started).Round(time.Second))
	if r.Quick {
		b.WriteString("- **quick run** (`-quick`): fewer levels, shorter steps, smaller P2 and P3 — indicative only\n")
	}
	b.WriteString("\nA load average near or above the core count means other work shared the machine: the ratios,\n")
	b.WriteString("each taken against a baseline measured minutes apart in the same run, hold up better than the\n")
	b.WriteString("absolute figures.\n\n")
	b.WriteString("## Commands\n\n```sh\n")
	b.WriteString("make bench                           # all four figures with their baselines\n")
	b.WriteString("make bench BENCH_FLAGS=-quick        # every figure smaller and shorter\n")
	b.WriteString("make bench BENCH_FLAGS='-only p1,p4' # some figures only (./bin/bench -h lists every flag)\n")
	fmt.Fprintf(&b, "# this page: %s (make bench runs it), %s\n", r.Command, r.Finished.Sub(r.Started).Round(time.Second))
	b.WriteString("```\n\n")
	b.WriteString("`make bench` builds `bin/gateway`, `bin/worker` and `bin/bench`, installs wrk from Debian when it is\n")
	b.WriteString("missing, and starts everything it measures on free loopback ports: a throwaway Temporal dev\n")
	b.WriteString("server, a uniquely named PostgreSQL database (dropped at the end), the gateway and one worker\n")
	b.WriteString("(`EXECUTORS_ENABLED=echo`, a rate-limit tier far above the load, `SCHEDULE_MAX_PER_USER=10000000`).\n")
	b.WriteString("Every load generator is bounded in count and time and targets 127.0.0.1 only.\n\n")
	b.WriteString("## Summary\n\n")
	b.WriteString(table(r))

	if p := r.P1; p != nil {
		b.WriteString("\n## P1: reading one schedule\n\n")
		fmt.Fprintf(&b, "`%s` with two threads (one at one connection), %s at each level, the gateway and the\n", p.Wrk, p.Duration)
		b.WriteString("baseline alternating level by level. The baseline is this binary re-executed as a separate\n")
		b.WriteString("process: `net/http` and a default `pgxpool`, one point select of the same row per request\n")
		b.WriteString("(`bench/perf/sql/baseline_point.sql`) written as JSON; no auth, validation, limiter or next-runs.\n\n")
		b.WriteString("| connections | gateway rps | p50 ms | p99 ms | errors | baseline rps | p50 ms | p99 ms | ratio |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for i, o := range p.Ours {
			bl := p.Baseline[i]
			fmt.Fprintf(&b, "| %d | %.0f | %.2f | %.2f | %d | %.0f | %.2f | %.2f | %s |\n", o.Conns, o.RPS, o.P50Ms, o.P99Ms,
				o.Non2xx+o.SockErrs, bl.RPS, bl.P50Ms, bl.P99Ms, fmtRatio(ratio(o.RPS, bl.RPS)))
		}
		fmt.Fprintf(&b, "\nPeak RSS during P1: %s.\n", fmtRSS(p.RSSMiB))
		img("bench-p1.png")
	}
	if p := r.P3; p != nil {
		b.WriteString("\n## P3: many schedules due in the same minute\n\n")
		fmt.Fprintf(&b, "%d schedules made through the API (executor `%s`) fire in one minute; the lag of a run is\n", p.Count, p.Executor)
		b.WriteString("`started_at − triggered_at` of its row. The floor is as many raw Temporal schedules on the same\n")
		b.WriteString("server, due in the next minute, whose no-op workflow runs on a task queue of its own polled by\n")
		b.WriteString("the bench process: lag = the workflow's start time − its `TemporalScheduledStartTime`. Then the\n")
		b.WriteString("API's schedules again, a minute later, with a second worker process on the same task queue.\n")
		fmt.Fprintf(&b, "Each batch is waited for %s after its minute; a run not started by then counts as %s.\n\n", waitFor, waitFor)
		b.WriteString("| batch | due | started | p50 s | p90 s | p99 s | max s | Temporal CPU per run | workers' CPU per run | peak RSS |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, s := range []*p3Set{&p.Ours, &p.Floor, p.OursTwo} {
			if s == nil {
				continue
			}
			workers := "—"
			if s.WorkerCPUs > 0 && s.Started > 0 {
				workers = fmt.Sprintf("%.1f ms", 1000*s.WorkerCPUs/float64(s.Started))
			}
			fmt.Fprintf(&b, "| %s | %s | %d/%d | %.2f | %.2f | %.2f | %.2f | %.1f ms | %s | %s |\n", s.Name, s.Due.Format("15:04"), s.Started, s.Count,
				s.Lag.P50, s.Lag.P90, s.Lag.P99, s.Lag.Max, s.cpuPerRunMs(), workers, fmtRSS(s.RSSMiB))
		}
		if p.Ours.NotStarted+p.Floor.NotStarted > 0 || (p.OursTwo != nil && p.OursTwo.NotStarted > 0) {
			b.WriteString("\nNot every run started within the wait: the backlog of one batch then falls on the next one too,\n")
			b.WriteString("so the later batches of this run overstate their lag.\n")
		}
		if c := p.Floor.Close; c != nil {
			fmt.Fprintf(&b, "\nThe floor's workflows completed (their one workflow task done) p50 %.2f s, p99 %.2f s after they were due.\n", c.P50, c.P99)
		}
		b.WriteString("\nCPU per run is the process's CPU time (`/proc/PID/stat`) from 2 s before the batch was due until\n")
		b.WriteString("its wait ended, over the runs that started; the floor's includes the bench's once-a-second\n")
		b.WriteString("visibility listing of its workflows.\n")
		img("bench-p3.png")
		capacity(&b, p)
	}
	if p := r.P4; p != nil {
		b.WriteString("\n## P4: creating schedules\n\n")
		fmt.Fprintf(&b, "One user's callers, each sending its next `POST /api/v1/schedules` (yearly cron, so nothing\n")
		fmt.Fprintf(&b, "fires) as soon as the last answered, for %s at each level; beside it as many goroutines calling\n", p.Duration)
		b.WriteString("`ScheduleClient.Create` directly on the same Temporal server.\n\n")
		b.WriteString("| callers | created/s | p50 ms | p99 ms | errors | raw created/s | p50 ms | p99 ms | ratio |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for i, o := range p.Ours {
			w := p.Raw[i]
			fmt.Fprintf(&b, "| %d | %.1f | %.1f | %.1f | %d | %.1f | %.1f | %.1f | %s |\n", o.Callers, o.Rate, o.Latency.P50, o.Latency.P99,
				o.Errors, w.Rate, w.Latency.P50, w.Latency.P99, fmtRatio(ratio(o.Rate, w.Rate)))
		}
		fmt.Fprintf(&b, "\nPeak RSS during P4: %s.\n", fmtRSS(p.RSSMiB))
		img("bench-p4.png")
	}
	if p := r.P2; p != nil {
		b.WriteString("\n## P2: a deep page of run history costs what the first page costs\n\n")
		fmt.Fprintf(&b, "One schedule with %s runs (seeded with `generate_series` in %s; `bench/perf/sql/seed_runs.sql`),\n", thousands(p.Runs), p.SeedTime)
		fmt.Fprintf(&b, "%d runs a page, `GET /api/v1/schedules/{id}/runs?page=n` through the gateway %d times per page,\n", p.PageSize, p.Reps)
		fmt.Fprintf(&b, "beside the seed's SQL shape %d times per page (once where a read took over 2 s): `COUNT(*)` over\n", p.BaseReps)
		b.WriteString("`v_schedule_execution_history` and an\n")
		b.WriteString("`OFFSET` page ordered by trigger time (`bench/perf/sql/seed_shape_*.sql`).\n\n")
		b.WriteString("| page | gateway p50 ms | p99 ms | vs the first page | seed shape p50 ms | vs its first page |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, x := range p.Points {
			fmt.Fprintf(&b, "| %s | %.2f | %.2f | %s× | %.2f | %s× |\n", thousands(x.Page), x.Ours.P50, x.Ours.P99,
				fmtRatio(ratio(x.Ours.P50, p.Points[0].Ours.P50)), x.Baseline.P50, fmtRatio(ratio(x.Baseline.P50, p.Points[0].Baseline.P50)))
		}
		if c := p.Cursor; c != nil {
			fmt.Fprintf(&b, "| %s by cursor | %.2f | %.2f | %s× | | |\n", thousands(c.Page), c.Ours.P50, c.Ours.P99,
				fmtRatio(ratio(c.Ours.P50, p.Points[0].Ours.P50)))
		}
		b.WriteString("\nWhy: every run gets its schedule's next sequence number when it is recorded (under the schedule's\n")
		b.WriteString("row lock, in the same transaction as the counters; migration `00005_run_sequence.sql`), so page n is\n")
		b.WriteString("the index range below `max(seq) − (n−1)·size` and a cursor is a sequence number. Neither reads the\n")
		b.WriteString("rows it skips, and the total is the schedule's maintained `total_runs` counter, not a `COUNT(*)`.\n")
		b.WriteString("The seed's shape reads every skipped row, so its cost grows with the depth.\n\n")
		b.WriteString("The same comparison without HTTP, through `Manager.Runs` (200,000 runs, page 9,000):\n\n")
		b.WriteString("```sh\ngo test -count=1 -run '^$' -bench BenchmarkRunsDeepPage -benchtime 200x ./schedules/\n```\n")
		img("bench-p2.png")
	}
	b.WriteString(analysis)
	return b.String()
}

// analysis is the hand-written account of the profiles behind the figures (what they showed and
// what changed because of them), dated by the measurements it cites.
//
//go:embed analysis.md
var analysis string

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// capacity is the section that carries the measured per-run costs past this machine: what
// 100,000 schedules due in the same minute, all started within 2 s, would take.
func capacity(b *strings.Builder, p *p3Result) {
	ours := p.Ours
	if ours.Started == 0 {
		return
	}
	const due, window = 100000.0, 2.0
	rate := due / window
	tMs := ours.cpuPerRunMs()
	wMs := 1000 * ours.WorkerCPUs / float64(ours.Started)
	fMs := p.Floor.cpuPerRunMs()
	thisMachine := 2 / (tMs / 1000)
	b.WriteString("\n## Past this machine: 100,000 schedules due in the same minute\n\n")
	b.WriteString("The goal: every one of 100,000 runs due at the same minute starts within 2 s, i.e. Temporal starts\n")
	fmt.Fprintf(b, "and our worker records **%s runs a second** for those 2 s. From this run's P3 (one worker):\n\n", thousands(int(rate)))
	fmt.Fprintf(b, "| cost per run, measured above | ms of CPU | at %s runs/s |\n| --- | --- | --- |\n", thousands(int(rate)))
	fmt.Fprintf(b, "| Temporal server, our runs (scheduler workflow, start, the run's workflow tasks and its one activity) | %.1f | %s cores |\n", tMs, thousands(int(rate*tMs/1000)))
	fmt.Fprintf(b, "| Temporal server, the floor (a no-op workflow) | %.1f | %s cores |\n", fMs, thousands(int(rate*fMs/1000)))
	fmt.Fprintf(b, "| our workers (two local-activity recordings, the echo executor) | %.1f | %s cores |\n\n", wMs, thousands(int(rate*wMs/1000)))
	fmt.Fprintf(b, "This machine's 2 cores start at most 2 / %.3f s = **%.0f of our runs a second** when Temporal has\n", tMs/1000, thisMachine)
	fmt.Fprintf(b, "them all, so %d runs due together cannot start within 2 s here (they need %.1f s of Temporal CPU):\n", p.Count, float64(p.Count)*tMs/1000)
	b.WriteString("the P3 goal of a 2 s p99 is out of reach of this machine by arithmetic, and the ratio to the floor\n")
	b.WriteString("measured beside it is the figure that says what our code adds. The dev server's CPU per run includes\n")
	b.WriteString("its persistence (SQLite in process, or the local PostgreSQL) and one history shard's serial work, so a\n")
	b.WriteString("cluster's cost per run is of the same order, spread over many hosts.\n\n")
	b.WriteString("What a cluster needs for the 2 s goal (the arithmetic, then Temporal's own guidance):\n\n")
	fmt.Fprintf(b, "- **Temporal history service**: ≈ %s cores of history, matching and frontend CPU at the measured cost\n", thousands(int(rate*tMs/1000)))
	b.WriteString("  (e.g. history hosts of 16 cores: the count above / 16, with headroom to run below 70% CPU).\n")
	b.WriteString("  Each run is several persistence writes on its shard, and a shard does one at a time\n")
	b.WriteString("  (\"the number of History Shards represents the number of concurrent database operations that can\n")
	b.WriteString("  occur for a Cluster\", and the shard count cannot change after the cluster is created:\n")
	b.WriteString("  [What is a History Shard?](https://docs.temporal.io/concepts/what-is-a-history-shard)). At an assumed ~5 ms a write and ~5\n")
	fmt.Fprintf(b, "  writes a run, a shard does ~40 runs/s: %s runs/s needs ≥ %s shards; take **8,192** (a power of two,\n", thousands(int(rate)), thousands(int(rate/40)))
	b.WriteString("  sized for the worst peak, as [the production checklist](https://docs.temporal.io/self-hosted-guide/production-deployment)\n")
	b.WriteString("  says throughput \"is often limited by the number of Shards\"), and watch `semaphore_latency` and\n")
	b.WriteString("  `history.shardIOConcurrency` as [Temporal's engineers advise](https://community.temporal.io/t/temporal-shards-configured-in-shards-table/15533).\n")
	b.WriteString("- **Temporal's rate limits**: `worker.schedulerNamespaceStartWorkflowRPS` (30/s by default: 100,000 runs\n")
	fmt.Fprintf(b, "  would take %s minutes to start) must be ≥ %s, and the namespace's frontend and persistence rate limits\n", fmt.Sprintf("%.0f", due/30/60), thousands(int(rate)))
	b.WriteString("  (`frontend.namespaceRPS`, `history.persistenceNamespaceMaxQPS`) raised to match; the schedules'\n")
	b.WriteString("  scheduler workflows run in the server's own worker service, which scales with the frontend.\n")
	b.WriteString("- **Persistence**: Cassandra or a sharded SQL store sized for ~5 writes a run, i.e. ≈ " + thousands(int(rate*5)) + " writes/s\n")
	b.WriteString("  during the burst; one PostgreSQL primary does not.\n")
	fmt.Fprintf(b, "- **Our workers**: ≈ %s cores at the measured %.1f ms a run (e.g. %s workers of 4 cores, each with\n", thousands(int(rate*wMs/1000)), wMs, thousands(int(rate*wMs/1000/4)+1))
	b.WriteString("  `WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES` and pollers raised), and the service's PostgreSQL takes two\n")
	fmt.Fprintf(b, "  recording transactions a run: ≈ %s transactions/s, beyond one primary; the run history would have to\n", thousands(int(rate*2)))
	b.WriteString("  be partitioned by schedule across databases, or recording batched, before this scale.\n")
	b.WriteString("- **Gateways** take no part in firing: they scale with API traffic (P1: one gateway core serves\n")
	b.WriteString("  thousands of reads a second), behind a load balancer, any number of replicas.\n\n")
	b.WriteString("Short of that, the same cluster with fewer hosts starts the burst in `100,000 × CPU per run / cores`\n")
	b.WriteString("seconds; e.g. 64 history cores at the measured cost start it in about " +
		fmt.Sprintf("%.0f s", due*tMs/1000/64) + ".\n")
}
