// Command bench measures the four figures of issue 9, each beside its baseline in the same
// run, on a stack it starts itself (a throwaway Temporal server, a uniquely named database,
// bin/gateway and bin/worker on free loopback ports), and writes docs/BENCHMARKS.md, one PNG
// per figure and docs/bench.json. `make bench` runs it; -quick shortens every figure.
//
//	P1  GET /api/v1/schedules/{id} under wrk at rising connections, beside a bare net/http +
//	    pgx server doing a point select of the same row (this binary re-executed).
//	P2  the run history of one schedule with 1,000,000 runs, page by page at rising depth,
//	    over HTTP, beside the seed's SQL shape (COUNT(*) + OFFSET over the history view).
//	P3  300 schedules due in the same minute: run start lag, beside 300 raw Temporal schedules
//	    of a no-op workflow in an adjacent minute, and again with two worker processes.
//	P4  POST /api/v1/schedules by one user's concurrent callers, beside raw
//	    ScheduleClient.Create with as many goroutines.
//
// Every load generator is bounded in count and time and targets 127.0.0.1 only.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"schedsvc/bench/internal/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	quick       bool
	figures     []string
	binDir      string
	outDir      string
	from        string
	persistence string
	profileDir  string

	p1Conns    []int
	p1Duration time.Duration
	p2Runs     int
	p2Pages    []int
	p2Reps     int
	p3Count    int
	p4Callers  []int
	p4Duration time.Duration

	serveBaseline string // internal: serve the P1 baseline on this address
	dsn           string // internal: the baseline's database
}

var allFigures = []string{"p1", "p2", "p3", "p4"}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.BoolVar(&o.quick, "quick", false, "shorter and smaller: fewer levels, 2-3 s steps, 100,000 runs, 100 schedules (about 5 minutes)")
	only := fs.String("only", strings.Join(allFigures, ","), "figures to run, comma-separated")
	fs.StringVar(&o.binDir, "bin", "bin", "where the gateway and worker binaries are")
	fs.StringVar(&o.outDir, "out", "docs", "where BENCHMARKS.md, bench.json and bench-p*.png are written")
	fs.StringVar(&o.from, "from", "", "write BENCHMARKS.md and the plots again from this bench.json, without measuring")
	fs.StringVar(&o.persistence, "temporal-persistence", stack.PersistenceSQLite, "the dev Temporal server's persistence: sqlite or postgresql")
	fs.StringVar(&o.profileDir, "profile", "", "write CPU profiles here: the gateway in P1 at 64 connections and in P4 at 16 callers, the worker and Temporal during P3's firing")
	conns := fs.String("p1-conns", "", "P1 wrk connection levels (default 1,4,16,64,128; quick 1,16,64)")
	fs.DurationVar(&o.p1Duration, "p1-duration", 0, "P1 length of each wrk run (default 5s; quick 2s)")
	fs.IntVar(&o.p2Runs, "p2-runs", 0, "P2 runs seeded into the one schedule (default 1000000; quick 100000)")
	pages := fs.String("p2-pages", "", "P2 page numbers read (default 1,10,100,1000,10000,50000; those beyond the last page are dropped)")
	fs.IntVar(&o.p2Reps, "p2-reps", 0, "P2 reads of each page (default 20; quick 10); the seed's shape gets a quarter as many, one when a read takes over 2 s")
	fs.IntVar(&o.p3Count, "p3-count", 0, "P3 schedules due in the same minute (default 300; quick 100)")
	callers := fs.String("p4-callers", "", "P4 concurrent callers levels (default 1,4,16; quick 1,16)")
	fs.DurationVar(&o.p4Duration, "p4-duration", 0, "P4 time each side gets per level, in two halves run ABBA (default 12s; quick 4s)")
	fs.StringVar(&o.serveBaseline, "serve-baseline", "", "internal: serve the P1 baseline on this address")
	fs.StringVar(&o.dsn, "dsn", "", "internal: the P1 baseline's database URL")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	pick := func(set string, full, quick string) ([]int, error) {
		if set == "" {
			set = full
			if o.quick {
				set = quick
			}
		}
		return parseInts(set)
	}
	var err error
	if o.p1Conns, err = pick(*conns, "1,4,16,64,128", "1,16,64"); err != nil {
		return o, err
	}
	if o.p2Pages, err = pick(*pages, "1,10,100,1000,10000,50000", "1,10,100,1000,5000"); err != nil {
		return o, err
	}
	if o.p4Callers, err = pick(*callers, "1,4,16", "1,16"); err != nil {
		return o, err
	}
	def := func(v *int, full, quick int) {
		if *v == 0 {
			*v = map[bool]int{false: full, true: quick}[o.quick]
		}
	}
	defD := func(v *time.Duration, full, quick time.Duration) {
		if *v == 0 {
			*v = map[bool]time.Duration{false: full, true: quick}[o.quick]
		}
	}
	def(&o.p2Runs, 1_000_000, 100_000)
	def(&o.p2Reps, 20, 10)
	def(&o.p3Count, 300, 100)
	defD(&o.p1Duration, 5*time.Second, 2*time.Second)
	defD(&o.p4Duration, 12*time.Second, 4*time.Second)
	// Bounded: no level above these, whatever the flags say.
	if slices.Max(o.p1Conns) > 512 || slices.Max(o.p4Callers) > 64 || o.p1Duration > 30*time.Second ||
		o.p4Duration > 30*time.Second || o.p2Runs > 5_000_000 || o.p3Count > 2000 || o.p2Reps > 200 {
		return o, errors.New("bounds: connections <= 512, callers <= 64, steps <= 30s, runs <= 5,000,000, schedules <= 2000, reps <= 200")
	}
	for f := range strings.SplitSeq(*only, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		if !slices.Contains(allFigures, f) {
			return o, fmt.Errorf("-only: %q is not one of %v", f, allFigures)
		}
		o.figures = append(o.figures, f)
	}
	return o, nil
}

// results is everything one run measured; bench.json holds it.
type results struct {
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`
	Command     string    `json:"command"`
	Quick       bool      `json:"quick"`
	Machine     machine   `json:"machine"`
	P1          *p1Result `json:"p1,omitempty"`
	P2          *p2Result `json:"p2,omitempty"`
	P3          *p3Result `json:"p3,omitempty"`
	P4          *p4Result `json:"p4,omitempty"`
	Persistence string    `json:"temporal_persistence"`
}

func run(ctx context.Context, args []string, say io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	if o.serveBaseline != "" {
		return serveBaseline(ctx, o.serveBaseline, o.dsn)
	}
	if o.from != "" {
		b, err := os.ReadFile(o.from)
		if err != nil {
			return err
		}
		var r results
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", o.from, err)
		}
		if r.P3 != nil { // a bench.json from before runs not started were counted
			for _, s := range []*p3Set{&r.P3.Ours, &r.P3.Floor, r.P3.OursTwo} {
				if s != nil && s.NotStarted == 0 && s.Started < s.Count {
					s.censor(s.Lags)
				}
			}
		}
		return writeReport(o.outDir, &r, say, false)
	}
	// Everything is bounded: the whole run fits in this.
	ctx, cancel := context.WithTimeout(ctx, 40*time.Minute)
	defer cancel()
	r := &results{Started: time.Now().UTC(), Quick: o.quick, Persistence: o.persistence,
		Command: strings.TrimSpace("./bin/bench " + strings.Join(args, " "))}
	r.Machine = readMachine()
	fmt.Fprintf(say, "bench: %d cores, %s, load average %s\n", r.Machine.Cores, r.Machine.CPU, r.Machine.LoadBefore)

	s, err := stack.Start(ctx, stack.Options{Name: "bench", BinDir: o.binDir, Say: say,
		TemporalPersistence: o.persistence, TemporalPprof: o.profileDir != "",
		Env: []string{
			// One user creates thousands of schedules in P4 and P3.
			"SCHEDULE_MAX_PER_USER=10000000",
			// The reconciler does not run during the figures.
			"RECONCILE_INTERVAL=24h",
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
	b, err := newBench(ctx, s, o, say)
	if err != nil {
		return err
	}
	defer b.close()
	r.Machine.PostgreSQL = b.serverVersion(ctx)

	// P2 last: its million rows and their vacuum would weigh on the others.
	for _, f := range []string{"p1", "p3", "p4", "p2"} {
		if !slices.Contains(o.figures, f) {
			continue
		}
		fmt.Fprintf(say, "\n== %s\n", strings.ToUpper(f))
		switch f {
		case "p1":
			r.P1, err = b.p1(ctx)
		case "p2":
			r.P2, err = b.p2(ctx)
		case "p3":
			r.P3, err = b.p3(ctx)
		case "p4":
			r.P4, err = b.p4(ctx)
		}
		if cause := context.Cause(ctx); cause != nil {
			return fmt.Errorf("%s stopped: %w", f, cause)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	r.Finished = time.Now().UTC()
	r.Machine.LoadAfter = loadAverage()
	if err := writeReport(o.outDir, r, say, true); err != nil {
		return err
	}
	s.KeepLogs = false
	return nil
}

// writeReport writes bench.json (when fresh), BENCHMARKS.md and the plots, and prints the table.
func writeReport(dir string, r *results, say io.Writer, fresh bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if fresh {
		b, _ := json.MarshalIndent(r, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, "bench.json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	plots, err := writePlots(dir, r)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "BENCHMARKS.md"), []byte(markdown(r, plots)), 0o644); err != nil {
		return err
	}
	fmt.Fprint(say, "\n"+table(r))
	fmt.Fprintf(say, "\nwrote %s, %s and %s\n", filepath.Join(dir, "BENCHMARKS.md"), filepath.Join(dir, "bench.json"), strings.Join(plots, ", "))
	return nil
}
