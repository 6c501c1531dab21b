package schedules

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"schedsvc/config"
	"schedsvc/netguard"
	"schedsvc/notify"
	"schedsvc/problem"
	"schedsvc/ptrutil"
	"schedsvc/schedules/cron"
)

// Limits are the per-user rules every schedule must respect; config reads
// them and owns their defaults.
type Limits = config.Limits

// rules applies the limits: it fills defaults into what callers send and
// refuses what breaks a rule, with a *problem.Error that names the field.
type rules struct {
	limits Limits
	guard  *netguard.Guard // judges notification URLs with the operator's allowlist
}

// newRules makes the rules of limits. An allowlist that does not parse
// admits nothing (the binaries refuse to start with one).
func newRules(limits Limits) rules {
	allow, _ := netguard.ParseAllowlist(limits.NotifyAllowedHosts)
	return rules{limits: limits, guard: netguard.New(netguard.Config{Allow: allow})}
}

// maxPauseAfterFailures bounds pause_after_failures as the spec does.
const maxPauseAfterFailures = 1000

// newSchedule is the schedule a create describes, defaults filled in.
func (r rules) newSchedule(owner Owner, in CreateInput) Schedule {
	s := Schedule{
		Owner:              owner,
		Name:               in.Name,
		Description:        in.Description,
		CronExpression:     in.CronExpression,
		Timezone:           in.Timezone,
		TaskQuery:          in.TaskQuery,
		TaskContext:        in.TaskContext,
		MaxBudgetPerRunUSD: ptrutil.ValOrDefault(in.MaxBudgetPerRunUSD, r.limits.DefaultBudgetUSD),
		TimeoutSeconds:     ptrutil.ValOrDefault(in.TimeoutSeconds, r.limits.DefaultTimeoutSeconds),
		Status:             StatusActive,
		Executor:           ptrutil.ValOrDefault(in.Executor, r.limits.DefaultExecutor),
		Retry:              RetryPolicy(r.limits.DefaultRetry),
		Overlap:            ptrutil.ValOrDefault(in.Overlap, OverlapSkip),
		PauseAfterFailures: ptrutil.ValOrDefault(in.PauseAfterFailures, 0),
		StartAt:            in.StartAt,
		EndAt:              in.EndAt,
		MaxRuns:            in.MaxRuns,
		Notify:             ptrutil.ValOrDefault(in.Notify, notify.Target{}),
	}
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	if in.Retry != nil {
		s.Retry = r.retryWithDefaults(*in.Retry)
	}
	return s
}

// checkUpdate refuses an update that contradicts itself, before any
// schedule is read.
func (r rules) checkUpdate(in UpdateInput) error {
	if in.ClearTaskContext && in.TaskContext != nil {
		return problem.Invalid(problem.InvalidField, "clear_task_context", "send either task_context or clear_task_context, not both")
	}
	if in.ClearStartAt && in.StartAt != nil || in.ClearEndAt && in.EndAt != nil || in.ClearMaxRuns && in.MaxRuns != nil {
		return problem.Invalid(problem.InvalidField, "", "a field cannot be both set and cleared in one update")
	}
	if in.ClearNotify && in.Notify != nil {
		return problem.Invalid(problem.InvalidField, "clear_notify", "send either notify or clear_notify, not both")
	}
	return nil
}

// updated is old with a partial update applied.
func (r rules) updated(old Schedule, in UpdateInput) Schedule {
	s := old
	ptrutil.SetIf(&s.Name, in.Name)
	ptrutil.SetIf(&s.Description, in.Description)
	ptrutil.SetIf(&s.CronExpression, in.CronExpression)
	ptrutil.SetIf(&s.Timezone, in.Timezone)
	ptrutil.SetIf(&s.TaskQuery, in.TaskQuery)
	ptrutil.SetIf(&s.MaxBudgetPerRunUSD, in.MaxBudgetPerRunUSD)
	ptrutil.SetIf(&s.TimeoutSeconds, in.TimeoutSeconds)
	ptrutil.SetIf(&s.Executor, in.Executor)
	if in.Retry != nil {
		s.Retry = r.retryWithDefaults(*in.Retry)
	}
	ptrutil.SetIf(&s.Overlap, in.Overlap)
	ptrutil.SetIf(&s.PauseAfterFailures, in.PauseAfterFailures)
	s.StartAt = optional(s.StartAt, in.StartAt, in.ClearStartAt)
	s.EndAt = optional(s.EndAt, in.EndAt, in.ClearEndAt)
	s.MaxRuns = optional(s.MaxRuns, in.MaxRuns, in.ClearMaxRuns)
	switch {
	case in.ClearNotify:
		s.Notify = notify.Target{}
	case in.Notify != nil:
		s.Notify = notify.Target{URL: in.Notify.URL, On: slices.Clone(in.Notify.On)}
	}
	switch {
	case in.ClearTaskContext:
		s.TaskContext = nil
	case in.TaskContext != nil:
		s.TaskContext = maps.Clone(in.TaskContext)
	}
	return s
}

// optional is a nullable field after an update: cleared, set, or kept.
func optional[T any](old, set *T, clear bool) *T {
	switch {
	case clear:
		return nil
	case set != nil:
		return set
	}
	return old
}

// retryWithDefaults fills the backoffs a caller left out.
func (r rules) retryWithDefaults(p RetryPolicy) RetryPolicy {
	if p.InitialBackoffSeconds == 0 {
		p.InitialBackoffSeconds = r.limits.DefaultRetry.InitialBackoffSeconds
	}
	if p.MaxBackoffSeconds == 0 {
		p.MaxBackoffSeconds = max(r.limits.DefaultRetry.MaxBackoffSeconds, p.InitialBackoffSeconds)
	}
	return p
}

// parseCron applies every timing rule: the expression, the zone (an empty
// one included) and the minimum interval. Create, update and the preview
// share it, so they reject the same input the same way.
func (r rules) parseCron(expr, timezone string) (*cron.Schedule, error) {
	timing, err := cron.Parse(expr, timezone)
	if err != nil {
		return nil, err
	}
	if err := timing.CheckMinInterval(r.limits.MinInterval); err != nil {
		return nil, err
	}
	return timing, nil
}

// validate checks every rule and returns the schedule's parsed timing.
func (r rules) validate(s Schedule) (*cron.Schedule, error) {
	if strings.TrimSpace(s.Name) == "" {
		return nil, problem.Invalid(problem.InvalidField, "name", "name must not be blank")
	}
	if strings.TrimSpace(s.TaskQuery) == "" {
		return nil, problem.Invalid(problem.InvalidField, "task_query", "task_query must not be blank")
	}
	timing, err := r.parseCron(s.CronExpression, s.Timezone)
	if err != nil {
		return nil, err
	}
	switch {
	case s.MaxBudgetPerRunUSD < 0:
		return nil, problem.Invalid(problem.BudgetExceeded, "max_budget_per_run_usd", "max_budget_per_run_usd must not be negative")
	case s.MaxBudgetPerRunUSD > r.limits.MaxBudgetUSD:
		return nil, problem.Invalid(problem.BudgetExceeded, "max_budget_per_run_usd",
			"max_budget_per_run_usd %.6g is over the per-run cap of %.6g USD", s.MaxBudgetPerRunUSD, r.limits.MaxBudgetUSD)
	}
	if s.TimeoutSeconds < 1 || s.TimeoutSeconds > r.limits.MaxTimeoutSeconds {
		return nil, problem.Invalid(problem.InvalidField, "timeout_seconds",
			"timeout_seconds must be between 1 and %d", r.limits.MaxTimeoutSeconds)
	}
	if err := r.validateExecution(s); err != nil {
		return nil, err
	}
	return timing, nil
}

func (r rules) validateExecution(s Schedule) error {
	if !slices.Contains(r.limits.Executors, s.Executor) {
		return problem.Invalid(problem.InvalidField, "executor", "executor %q is not enabled on this server; use one of %v", s.Executor, r.limits.Executors)
	}
	p := s.Retry
	switch {
	case p.MaxAttempts < 1 || p.MaxAttempts > 10:
		return problem.Invalid(problem.InvalidField, "retry_policy.max_attempts", "max_attempts must be between 1 and 10")
	case p.InitialBackoffSeconds < 1 || p.InitialBackoffSeconds > 3600:
		return problem.Invalid(problem.InvalidField, "retry_policy.initial_backoff_seconds", "initial_backoff_seconds must be between 1 and 3600")
	case p.MaxBackoffSeconds < p.InitialBackoffSeconds || p.MaxBackoffSeconds > 86400:
		return problem.Invalid(problem.InvalidField, "retry_policy.max_backoff_seconds",
			"max_backoff_seconds must be between initial_backoff_seconds (%d) and 86400", p.InitialBackoffSeconds)
	}
	if _, ok := overlapPolicies[s.Overlap]; !ok {
		return problem.Invalid(problem.InvalidField, "overlap_policy", "overlap_policy %q is not one of SKIP, BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER, ALLOW_ALL", s.Overlap)
	}
	if s.PauseAfterFailures < 0 || s.PauseAfterFailures > maxPauseAfterFailures {
		return problem.Invalid(problem.InvalidField, "pause_after_failures", "pause_after_failures must be between 0 (never) and %d", maxPauseAfterFailures)
	}
	return nil
}

// notifyLookupTimeout bounds checkNotify's DNS look-up.
const notifyLookupTimeout = 2 * time.Second

// checkNotify refuses a notification target the server cannot serve:
// notifications off (InvalidField), kinds wrong (InvalidField), or a URL
// the SSRF policy refuses (NotifyURLRefused, with the policy's reason). It
// runs before anything is written. A nil target is no change.
func (r rules) checkNotify(ctx context.Context, t *notify.Target) error {
	if t == nil || (t.URL == "" && len(t.On) == 0) {
		return nil
	}
	if !r.limits.NotifyEnabled {
		return problem.Invalid(problem.InvalidField, "notify", "notifications are not enabled on this server (the operator has not set NOTIFY_SIGNING_SECRET)")
	}
	// The look-up is advisory (the address is judged again when dialled):
	// a slow resolver must not hold the request.
	ctx, cancel := context.WithTimeout(ctx, notifyLookupTimeout)
	defer cancel()
	err := notify.CheckTarget(ctx, r.guard, *t)
	var refused *netguard.RefusedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &refused):
		return problem.Invalid(problem.NotifyURLRefused, "notify.url", "%s", refused.Detail())
	case errors.Is(err, notify.ErrInvalidTarget):
		field := "notify.on"
		if t.URL == "" {
			field = "notify.url"
		}
		return problem.Invalid(problem.InvalidField, field, "%s", strings.TrimPrefix(err.Error(), notify.ErrInvalidTarget.Error()+": "))
	default:
		return fmt.Errorf("check notification target: %w", err)
	}
}
