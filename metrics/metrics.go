// Package metrics owns every Prometheus metric the service exports: their
// names, help texts, label sets and buckets live here and nowhere else, so
// that a reader (and the lint test) sees the whole vocabulary at once.
//
// Each process makes one *Metrics with New and hands it to whatever records;
// a nil *Metrics records nothing, so packages can take one optionally. The
// registry is the process's own, never prometheus.DefaultRegisterer: tests
// and two servers in one process do not collide.
//
// Labels are bounded by construction: operation ids from the spec, status
// codes, executors, run statuses, the operator's priced models and fixed
// kinds. Schedule ids, users, tenants and URLs are never labels; they belong
// in logs and traces.
package metrics

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/api/serviceerror"
)

const namespace = "schedsvc"

// Label values the callers do not choose themselves.
const (
	// Unmatched is the operation of a request no spec operation matches.
	Unmatched = "unmatched"
	// OtherModel stands for a model the operator's price table does not
	// name, and NoModel for usage that names none (the http executor).
	OtherModel = "other"
	NoModel    = "none"
)

// Reconciler repair kinds, one per field of schedules.ReconcileReport that
// counts a repair (and Failed, the schedules a pass could not repair).
const (
	RepairRecreated     = "recreated"      // live row without a Temporal schedule
	RepairPauseFixed    = "pause_fixed"    // Temporal's paused state differed from the row
	RepairSpecRefreshed = "spec_refreshed" // spec compiled again for the zone's next transitions
	RepairSpecFixed     = "spec_fixed"     // Temporal's next actions did not follow the cron
	RepairNextRunFixed  = "next_run_fixed" // stored next_run_at differed from Temporal
	RepairOrphanDeleted = "orphan_deleted" // Temporal schedule without a live row
	RepairFailed        = "failed"         // could not be repaired in this pass
	// RepairReservationRemoved: a create that died between reserving its
	// limit slot and inserting its row, removed with its Temporal schedule.
	RepairReservationRemoved = "reservation_removed"
)

// Reconciler pass results.
const (
	reconcilePassOK      = "ok"      // a pass ran to its end
	reconcilePassSkipped = "skipped" // another replica held the lock
	reconcilePassError   = "error"   // the pass stopped on an error
)

var repairKinds = []string{RepairRecreated, RepairPauseFixed, RepairSpecRefreshed, RepairSpecFixed,
	RepairNextRunFixed, RepairOrphanDeleted, RepairReservationRemoved, RepairFailed}

// NoLag is the lag to pass to RunStarted for runs that have no nominal time
// to be late for (a manual trigger) or are late on purpose (a backfill):
// they are counted as started but not observed in the fire-lag histogram.
const NoLag time.Duration = -1

// Buckets, in seconds.
var (
	// requestBuckets span a cached read to a Temporal call at its timeout.
	requestBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	// fireLagBuckets span a healthy start (tens of ms) to a start two
	// minutes late (an overloaded worker, the scheduler's start-rate limit).
	fireLagBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	// attemptBuckets span an echo to an LLM call at a long timeout.
	attemptBuckets = []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}
)

// Metrics is every metric of one process.
type Metrics struct {
	registry *prometheus.Registry
	models   map[string]bool

	httpRequests        *prometheus.CounterVec
	httpDuration        *prometheus.HistogramVec
	httpInFlight        prometheus.Gauge
	runsStarted         *prometheus.CounterVec
	runsCompleted       *prometheus.CounterVec
	fireLag             prometheus.Histogram
	attemptDuration     *prometheus.HistogramVec
	tokens              *prometheus.CounterVec
	cost                *prometheus.CounterVec
	rateLimitDecisions  *prometheus.CounterVec
	rateLimitRedisFails prometheus.Counter
	temporalErrors      *prometheus.CounterVec
	reconcileRepairs    *prometheus.CounterVec
	reconcilePasses     *prometheus.CounterVec
	idempotencyReplays  prometheus.Counter
}

// Option configures New.
type Option func(*Metrics)

// WithModels names the models usage may be labelled with: the operator's
// price table. Any other model is counted as OtherModel, so the label stays
// bounded whatever a provider answers.
func WithModels(names ...string) Option {
	return func(m *Metrics) {
		for _, n := range names {
			m.models[n] = true
		}
	}
}

// New makes the process's metrics on a registry of its own, with the Go
// runtime and process collectors beside them.
func New(opts ...Option) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry(), models: map[string]bool{}}
	for _, o := range opts {
		o(m)
	}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP requests answered, by OpenAPI operationId (or \"unmatched\") and status code.",
	}, []string{"operation", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time from receiving a request to its handler returning, by operationId and status code.",
		Buckets: requestBuckets,
	}, []string{"operation", "code"})
	m.httpInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_in_flight",
		Help: "HTTP requests being served.",
	})
	m.runsStarted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "runs", Name: "started_total",
		Help: "Runs recorded as started, by executor.",
	}, []string{"executor"})
	m.runsCompleted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "runs", Name: "completed_total",
		Help: "Runs recorded as finished, by executor and final status.",
	}, []string{"executor", "status"})
	m.fireLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "runs", Name: "fire_lag_seconds",
		Help:    "How late a scheduled run started: its start time minus its nominal (scheduled) time.",
		Buckets: fireLagBuckets,
	})
	m.attemptDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "executor", Name: "attempt_duration_seconds",
		Help:    "Duration of one executor attempt, by executor and the attempt's status.",
		Buckets: attemptBuckets,
	}, []string{"executor", "status"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "executor", Name: "tokens_total",
		Help: "Tokens executors consumed, by executor, priced model (or \"other\"/\"none\") and type (prompt or completion).",
	}, []string{"executor", "model", "type"})
	m.cost = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "executor", Name: "cost_usd_total",
		Help: "Cost executors incurred in US dollars, by executor and priced model (or \"other\"/\"none\").",
	}, []string{"executor", "model"})
	m.rateLimitDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "ratelimit", Name: "decisions_total",
		Help: "Rate-limiter answers from Redis, by decision (allowed or limited).",
	}, []string{"decision"})
	m.rateLimitRedisFails = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "ratelimit", Name: "redis_failures_total",
		Help: "Rate-limiter calls that got no answer from Redis (the fail mode then decided).",
	})
	m.temporalErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "temporal", Name: "call_errors_total",
		Help: "Failed calls to Temporal, by operation and gRPC status code.",
	}, []string{"operation", "code"})
	m.reconcileRepairs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "reconciler", Name: "repairs_total",
		Help: "Schedules the reconciler repaired (or failed to), by kind of repair.",
	}, []string{"kind"})
	m.reconcilePasses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "reconciler", Name: "passes_total",
		Help: "Reconciler passes, by result (ok, skipped: another replica held the lock, error).",
	}, []string{"result"})
	m.idempotencyReplays = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "idempotency", Name: "replays_total",
		Help: "Requests answered with the stored response of an earlier request with the same Idempotency-Key.",
	})

	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.httpInFlight,
		m.runsStarted, m.runsCompleted, m.fireLag,
		m.attemptDuration, m.tokens, m.cost,
		m.rateLimitDecisions, m.rateLimitRedisFails,
		m.temporalErrors, m.reconcileRepairs, m.reconcilePasses,
		m.idempotencyReplays,
	)
	// Series whose label values are known up front exist from the start,
	// so that rate() and absent() work before the first event.
	for _, d := range []string{"allowed", "limited"} {
		m.rateLimitDecisions.WithLabelValues(d)
	}
	for _, k := range repairKinds {
		m.reconcileRepairs.WithLabelValues(k)
	}
	for _, r := range []string{reconcilePassOK, reconcilePassSkipped, reconcilePassError} {
		m.reconcilePasses.WithLabelValues(r)
	}
	return m
}

// Registry is the process's registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return prometheus.NewRegistry()
	}
	return m.registry
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	reg := m.Registry()
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, EnableOpenMetrics: true})
}

// RunStarted counts a run the recorder recorded as started and observes how
// late it started (started − nominal). Pass NoLag for runs without a
// meaningful nominal time (manual triggers, backfills). A negative lag from
// clock skew between Temporal and the worker is observed as zero.
func (m *Metrics) RunStarted(executor string, lag time.Duration) {
	if m == nil {
		return
	}
	m.runsStarted.WithLabelValues(executor).Inc()
	if lag == NoLag {
		return
	}
	m.fireLag.Observe(max(lag, 0).Seconds())
}

// RunCompleted counts a run that reached a final status (COMPLETED, FAILED,
// TIMED_OUT, CANCELLED). Call it once per run: where the recorder's state
// change happens, not on every retry of the activity.
func (m *Metrics) RunCompleted(executor, status string) {
	if m == nil {
		return
	}
	m.runsCompleted.WithLabelValues(executor, status).Inc()
}

// ExecutorAttempt observes one attempt of an executor and how it ended.
func (m *Metrics) ExecutorAttempt(executor, status string, d time.Duration) {
	if m == nil {
		return
	}
	m.attemptDuration.WithLabelValues(executor, status).Observe(d.Seconds())
}

// ExecutorUsage counts the tokens and cost one attempt reported. The model
// label is the model if WithModels named it, NoModel if empty, OtherModel
// otherwise.
func (m *Metrics) ExecutorUsage(executor, model string, promptTokens, completionTokens int64, costUSD float64) {
	if m == nil {
		return
	}
	switch {
	case model == "":
		model = NoModel
	case !m.models[model]:
		model = OtherModel
	}
	if promptTokens > 0 {
		m.tokens.WithLabelValues(executor, model, "prompt").Add(float64(promptTokens))
	}
	if completionTokens > 0 {
		m.tokens.WithLabelValues(executor, model, "completion").Add(float64(completionTokens))
	}
	if costUSD > 0 {
		m.cost.WithLabelValues(executor, model).Add(costUSD)
	}
}

// RateLimitDecision counts an answer the limiter got from Redis.
func (m *Metrics) RateLimitDecision(allowed bool) {
	if m == nil {
		return
	}
	d := "limited"
	if allowed {
		d = "allowed"
	}
	m.rateLimitDecisions.WithLabelValues(d).Inc()
}

// RateLimitRedisFailed counts a limiter call Redis did not answer.
func (m *Metrics) RateLimitRedisFailed() {
	if m == nil {
		return
	}
	m.rateLimitRedisFails.Inc()
}

// TemporalCallFailed counts a failed call to Temporal. operation is a fixed
// name of the call site (schedules.temporalErr's op, such as "create
// temporal schedule"; spaces become underscores); the code is the gRPC
// status code the error carries, DeadlineExceeded or Canceled for context
// errors, Unknown otherwise.
func (m *Metrics) TemporalCallFailed(operation string, err error) {
	if m == nil || err == nil {
		return
	}
	code := serviceerror.ToStatus(err).Code().String()
	m.temporalErrors.WithLabelValues(strings.ReplaceAll(operation, " ", "_"), code).Inc()
}

// ReconcileRepaired counts n repairs of one kind (a Repair* constant).
func (m *Metrics) ReconcileRepaired(kind string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.reconcileRepairs.WithLabelValues(kind).Add(float64(n))
}

// ReconcilePass counts a reconciler pass: skipped when another replica held
// the lock, error when it stopped on err.
func (m *Metrics) ReconcilePass(skipped bool, err error) {
	if m == nil {
		return
	}
	r := reconcilePassOK
	switch {
	case err != nil:
		r = reconcilePassError
	case skipped:
		r = reconcilePassSkipped
	}
	m.reconcilePasses.WithLabelValues(r).Inc()
}

// IdempotencyReplayed counts a stored response sent again.
func (m *Metrics) IdempotencyReplayed() {
	if m == nil {
		return
	}
	m.idempotencyReplays.Inc()
}
