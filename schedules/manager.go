package schedules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"schedsvc/config"
	dbgen "schedsvc/gen/db"
	"schedsvc/problem"
)

// Limits are the per-user rules every schedule must respect; config reads
// them and owns their defaults.
type Limits = config.Limits

// Manager owns schedules: it validates them, keeps PostgreSQL and Temporal
// in step, and scopes every operation to the calling owner.
type Manager struct {
	pool        *pgxpool.Pool
	q           *dbgen.Queries
	temporal    client.ScheduleClient
	limits      Limits
	temporalCfg TemporalConfig
	log         *slog.Logger
	now         func() time.Time
}

// NewManager returns a manager over the given pool and Temporal schedule
// client.
func NewManager(pool *pgxpool.Pool, sc client.ScheduleClient, limits Limits, tc TemporalConfig, log *slog.Logger) *Manager {
	return &Manager{
		pool:        pool,
		q:           dbgen.New(pool),
		temporal:    sc,
		limits:      limits,
		temporalCfg: tc,
		log:         log,
		now:         time.Now,
	}
}

// validated is a schedule's configuration after every rule has passed.
type validated struct {
	cron *CronSchedule
}

// parseCron applies every timing rule: the expression, the zone (an empty
// one included) and the minimum interval. Create, update and the preview
// share it, so they reject the same input the same way.
func (m *Manager) parseCron(expr, timezone string) (*CronSchedule, error) {
	cron, err := ParseCron(expr, timezone)
	if err != nil {
		return nil, err
	}
	if err := cron.CheckMinInterval(m.limits.MinInterval); err != nil {
		return nil, err
	}
	return cron, nil
}

func (m *Manager) validate(s Schedule) (validated, error) {
	if strings.TrimSpace(s.Name) == "" {
		return validated{}, problem.Invalid(problem.InvalidField, "name", "name must not be blank")
	}
	if strings.TrimSpace(s.TaskQuery) == "" {
		return validated{}, problem.Invalid(problem.InvalidField, "task_query", "task_query must not be blank")
	}
	cron, err := m.parseCron(s.CronExpression, s.Timezone)
	if err != nil {
		return validated{}, err
	}
	switch {
	case s.MaxBudgetPerRunUSD < 0:
		return validated{}, problem.Invalid(problem.BudgetExceeded, "max_budget_per_run_usd", "max_budget_per_run_usd must not be negative")
	case s.MaxBudgetPerRunUSD > m.limits.MaxBudgetUSD:
		return validated{}, problem.Invalid(problem.BudgetExceeded, "max_budget_per_run_usd",
			"max_budget_per_run_usd %.6g is over the per-run cap of %.6g USD", s.MaxBudgetPerRunUSD, m.limits.MaxBudgetUSD)
	}
	if s.TimeoutSeconds < 1 || s.TimeoutSeconds > m.limits.MaxTimeoutSeconds {
		return validated{}, problem.Invalid(problem.InvalidField, "timeout_seconds",
			"timeout_seconds must be between 1 and %d", m.limits.MaxTimeoutSeconds)
	}
	if err := m.validateExecution(s); err != nil {
		return validated{}, err
	}
	return validated{cron: cron}, nil
}

// maxPauseAfterFailures bounds pause_after_failures as the spec does.
const maxPauseAfterFailures = 1000

func (m *Manager) validateExecution(s Schedule) error {
	if !slices.Contains(m.limits.Executors, s.Executor) {
		return problem.Invalid(problem.InvalidField, "executor", "executor %q is not enabled on this server; use one of %v", s.Executor, m.limits.Executors)
	}
	r := s.Retry
	switch {
	case r.MaxAttempts < 1 || r.MaxAttempts > 10:
		return problem.Invalid(problem.InvalidField, "retry_policy.max_attempts", "max_attempts must be between 1 and 10")
	case r.InitialBackoffSeconds < 1 || r.InitialBackoffSeconds > 3600:
		return problem.Invalid(problem.InvalidField, "retry_policy.initial_backoff_seconds", "initial_backoff_seconds must be between 1 and 3600")
	case r.MaxBackoffSeconds < r.InitialBackoffSeconds || r.MaxBackoffSeconds > 86400:
		return problem.Invalid(problem.InvalidField, "retry_policy.max_backoff_seconds",
			"max_backoff_seconds must be between initial_backoff_seconds (%d) and 86400", r.InitialBackoffSeconds)
	}
	if _, ok := overlapPolicies[s.Overlap]; !ok {
		return problem.Invalid(problem.InvalidField, "overlap_policy", "overlap_policy %q is not one of SKIP, BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER, ALLOW_ALL", s.Overlap)
	}
	if s.PauseAfterFailures < 0 || s.PauseAfterFailures > maxPauseAfterFailures {
		return problem.Invalid(problem.InvalidField, "pause_after_failures", "pause_after_failures must be between 0 (never) and %d", maxPauseAfterFailures)
	}
	return nil
}

// retryWithDefaults fills the backoffs a caller left out.
func (m *Manager) retryWithDefaults(r RetryPolicy) RetryPolicy {
	if r.InitialBackoffSeconds == 0 {
		r.InitialBackoffSeconds = m.limits.DefaultRetry.InitialBackoffSeconds
	}
	if r.MaxBackoffSeconds == 0 {
		r.MaxBackoffSeconds = max(m.limits.DefaultRetry.MaxBackoffSeconds, r.InitialBackoffSeconds)
	}
	return r
}

// Create validates and stores a new schedule and its Temporal schedule.
// Returns *problem.Error for rejected input (problem.ScheduleLimitReached when the
// owner has MaxPerUser schedules) and ErrUnavailable when Temporal or
// PostgreSQL cannot be reached; in every error case nothing is created.
func (m *Manager) Create(ctx context.Context, owner Owner, in CreateInput) (Schedule, error) {
	s := Schedule{
		ID:                 uuid.New(),
		Owner:              owner,
		Name:               in.Name,
		Description:        in.Description,
		CronExpression:     in.CronExpression,
		Timezone:           in.Timezone,
		TaskQuery:          in.TaskQuery,
		TaskContext:        in.TaskContext,
		MaxBudgetPerRunUSD: m.limits.DefaultBudgetUSD,
		TimeoutSeconds:     m.limits.DefaultTimeoutSeconds,
		Status:             StatusActive,
		Executor:           m.limits.DefaultExecutor,
		Retry:              RetryPolicy(m.limits.DefaultRetry),
		Overlap:            OverlapSkip,
	}
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	if in.MaxBudgetPerRunUSD != nil {
		s.MaxBudgetPerRunUSD = *in.MaxBudgetPerRunUSD
	}
	if in.TimeoutSeconds != nil {
		s.TimeoutSeconds = *in.TimeoutSeconds
	}
	setIf(&s.Executor, in.Executor)
	if in.Retry != nil {
		s.Retry = m.retryWithDefaults(*in.Retry)
	}
	setIf(&s.Overlap, in.Overlap)
	setIf(&s.PauseAfterFailures, in.PauseAfterFailures)
	v, err := m.validate(s)
	if err != nil {
		return Schedule{}, err
	}
	taskContext, err := encodeTaskContext(s.TaskContext)
	if err != nil {
		return Schedule{}, err
	}

	var created Schedule
	err = m.inTx(ctx, "create schedule", func(q *dbgen.Queries) error {
		// The owner lock makes count-then-insert atomic across replicas.
		if err := q.OwnerLock(ctx, dbgen.OwnerLockParams{TenantID: owner.TenantID, UserID: owner.UserID}); err != nil {
			return dbErr("lock owner", err)
		}
		n, err := q.ScheduleCountByOwner(ctx, dbgen.ScheduleCountByOwnerParams{TenantID: owner.TenantID, UserID: owner.UserID})
		if err != nil {
			return dbErr("count schedules", err)
		}
		if n >= int64(m.limits.MaxPerUser) {
			return problem.Invalid(problem.ScheduleLimitReached, "", "you already have %d schedules, the maximum per user; delete one first", n)
		}
		now := m.now()
		next := v.cron.Next(now)
		row, err := q.ScheduleInsert(ctx, dbgen.ScheduleInsertParams{
			ID:                         s.ID,
			UserID:                     owner.UserID,
			TenantID:                   owner.TenantID,
			Name:                       s.Name,
			Description:                s.Description,
			CronExpression:             s.CronExpression,
			Timezone:                   s.Timezone,
			TaskQuery:                  s.TaskQuery,
			TaskContext:                taskContext,
			MaxBudgetPerRunUsd:         floatToNumeric(s.MaxBudgetPerRunUSD),
			TimeoutSeconds:             int32(s.TimeoutSeconds),
			TemporalScheduleID:         TemporalScheduleID(s.ID),
			NextRunAt:                  &next,
			Executor:                   string(s.Executor),
			RetryMaxAttempts:           int32(s.Retry.MaxAttempts),
			RetryInitialBackoffSeconds: int32(s.Retry.InitialBackoffSeconds),
			RetryMaxBackoffSeconds:     int32(s.Retry.MaxBackoffSeconds),
			OverlapPolicy:              string(s.Overlap),
			PauseAfterFailures:         int32(s.PauseAfterFailures),
		})
		if err != nil {
			return dbErr("insert schedule", err)
		}
		if created, err = scheduleFromRow(row); err != nil {
			return err
		}
		if err := recordSpecRefresh(ctx, q, s.ID, v.cron, now); err != nil {
			return err
		}
		// Temporal last: if it fails the row rolls back, and if the commit
		// fails after it, the Temporal schedule is removed again below.
		return m.temporalCreate(ctx, created, v.cron, now)
	}, func() {
		if err := m.temporalDelete(context.WithoutCancel(ctx), s.ID); err != nil {
			m.log.Error("remove temporal schedule after failed commit", "schedule_id", s.ID, "error", err)
		}
	})
	if err != nil {
		return Schedule{}, err
	}
	return created, nil
}

// Get returns the owner's schedule or ErrNotFound.
func (m *Manager) Get(ctx context.Context, owner Owner, id uuid.UUID) (Schedule, error) {
	row, err := m.q.ScheduleGetByOwner(ctx, dbgen.ScheduleGetByOwnerParams{ID: id, TenantID: owner.TenantID, UserID: owner.UserID})
	if err != nil {
		return Schedule{}, dbErr("get schedule", err)
	}
	return scheduleFromRow(row)
}

// List returns one page of the owner's schedules, newest first, optionally
// only those with the given status.
func (m *Manager) List(ctx context.Context, owner Owner, status *Status, p PageRequest) (Page[Schedule], error) {
	var statusText *string
	if status != nil {
		s := string(*status)
		statusText = &s
	}
	total, err := m.q.ScheduleCountByOwnerStatus(ctx, dbgen.ScheduleCountByOwnerStatusParams{
		TenantID: owner.TenantID, UserID: owner.UserID, Status: statusText,
	})
	if err != nil {
		return Page[Schedule]{}, dbErr("count schedules", err)
	}
	// One extra row tells whether another page follows.
	limit := int32(p.PageSize + 1)
	var rows []dbgen.Schedule
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor)
		if err != nil {
			return Page[Schedule]{}, err
		}
		rows, err = m.q.ScheduleListByOwnerAfter(ctx, dbgen.ScheduleListByOwnerAfterParams{
			TenantID: owner.TenantID, UserID: owner.UserID, Status: statusText,
			AfterCreatedAt: c.At, AfterID: c.ID, PageSize: limit,
		})
		if err != nil {
			return Page[Schedule]{}, dbErr("list schedules", err)
		}
	} else {
		rows, err = m.q.ScheduleListByOwner(ctx, dbgen.ScheduleListByOwnerParams{
			TenantID: owner.TenantID, UserID: owner.UserID, Status: statusText,
			PageSize: limit, PageOffset: pageOffset(p),
		})
		if err != nil {
			return Page[Schedule]{}, dbErr("list schedules", err)
		}
	}
	return pageOf(rows, p, total, scheduleFromRow, func(s Schedule) cursor { return cursor{At: s.CreatedAt, ID: s.ID} })
}

// pageOf converts the rows of a page query, which asks for one row more
// than the page holds, into the page and the cursor of the page after it.
func pageOf[R, T any](rows []R, p PageRequest, total int64, convert func(R) (T, error), position func(T) cursor) (Page[T], error) {
	page := Page[T]{Total: total, Page: p.Page, PageSize: p.PageSize, Items: make([]T, 0, min(len(rows), p.PageSize))}
	for i, r := range rows {
		if i == p.PageSize {
			next := position(page.Items[len(page.Items)-1]).encode()
			page.NextCursor = &next
			break
		}
		item, err := convert(r)
		if err != nil {
			return Page[T]{}, err
		}
		page.Items = append(page.Items, item)
	}
	return page, nil
}

// Update applies a partial update. Temporal's spec and action are written
// only when they change. Returns ErrNotFound, *problem.Error or
// ErrUnavailable; on error nothing changes.
func (m *Manager) Update(ctx context.Context, owner Owner, id uuid.UUID, in UpdateInput) (Schedule, error) {
	if in.ClearTaskContext && in.TaskContext != nil {
		return Schedule{}, problem.Invalid(problem.InvalidField, "clear_task_context", "send either task_context or clear_task_context, not both")
	}
	var updated Schedule
	err := m.inTx(ctx, "update schedule", func(q *dbgen.Queries) error {
		// FOR UPDATE serialises writers of one schedule: Temporal's update is
		// read-modify-write without a conflict token.
		row, err := q.ScheduleGetByOwnerForUpdate(ctx, dbgen.ScheduleGetByOwnerForUpdateParams{ID: id, TenantID: owner.TenantID, UserID: owner.UserID})
		if err != nil {
			return dbErr("get schedule", err)
		}
		old, err := scheduleFromRow(row)
		if err != nil {
			return err
		}
		s := old
		setIf(&s.Name, in.Name)
		setIf(&s.Description, in.Description)
		setIf(&s.CronExpression, in.CronExpression)
		setIf(&s.Timezone, in.Timezone)
		setIf(&s.TaskQuery, in.TaskQuery)
		setIf(&s.MaxBudgetPerRunUSD, in.MaxBudgetPerRunUSD)
		setIf(&s.TimeoutSeconds, in.TimeoutSeconds)
		setIf(&s.Executor, in.Executor)
		if in.Retry != nil {
			s.Retry = m.retryWithDefaults(*in.Retry)
		}
		setIf(&s.Overlap, in.Overlap)
		setIf(&s.PauseAfterFailures, in.PauseAfterFailures)
		switch {
		case in.ClearTaskContext:
			s.TaskContext = nil
		case in.TaskContext != nil:
			s.TaskContext = maps.Clone(in.TaskContext)
		}
		v, err := m.validate(s)
		if err != nil {
			return err
		}
		now := m.now()
		specChanged := s.CronExpression != old.CronExpression || s.Timezone != old.Timezone
		actionChanged := s.TaskQuery != old.TaskQuery || s.MaxBudgetPerRunUSD != old.MaxBudgetPerRunUSD ||
			s.TimeoutSeconds != old.TimeoutSeconds || !reflect.DeepEqual(s.TaskContext, old.TaskContext) ||
			s.Executor != old.Executor || s.Retry != old.Retry
		policyChanged := s.Overlap != old.Overlap
		next := old.NextRunAt
		var spec *client.ScheduleSpec
		if specChanged {
			compiled := v.cron.TemporalSpec(now)
			spec = &compiled
			if s.Status == StatusActive {
				n := v.cron.Next(now)
				next = &n
			}
		}
		if specChanged || actionChanged || policyChanged {
			if err := m.temporalUpdate(ctx, s, spec, actionChanged, ""); err != nil {
				return err
			}
		}
		if specChanged {
			if err := recordSpecRefresh(ctx, q, id, v.cron, now); err != nil {
				return err
			}
		}
		taskContext, err := encodeTaskContext(s.TaskContext)
		if err != nil {
			return err
		}
		row, err = q.ScheduleUpdateConfig(ctx, dbgen.ScheduleUpdateConfigParams{
			ID:                         id,
			Name:                       s.Name,
			Description:                s.Description,
			CronExpression:             s.CronExpression,
			Timezone:                   s.Timezone,
			TaskQuery:                  s.TaskQuery,
			TaskContext:                taskContext,
			MaxBudgetPerRunUsd:         floatToNumeric(s.MaxBudgetPerRunUSD),
			TimeoutSeconds:             int32(s.TimeoutSeconds),
			NextRunAt:                  next,
			Executor:                   string(s.Executor),
			RetryMaxAttempts:           int32(s.Retry.MaxAttempts),
			RetryInitialBackoffSeconds: int32(s.Retry.InitialBackoffSeconds),
			RetryMaxBackoffSeconds:     int32(s.Retry.MaxBackoffSeconds),
			OverlapPolicy:              string(s.Overlap),
			PauseAfterFailures:         int32(s.PauseAfterFailures),
		})
		if err != nil {
			return dbErr("update schedule", err)
		}
		updated, err = scheduleFromRow(row)
		return err
	}, nil)
	return updated, err
}

// Pause stops future runs and records who paused it, when and why. Pausing
// a paused schedule changes nothing.
func (m *Manager) Pause(ctx context.Context, owner Owner, id uuid.UUID, reason string) (Schedule, error) {
	return m.transition(ctx, owner, id, "pause schedule", StatusPaused, func(q *dbgen.Queries, s Schedule) (dbgen.Schedule, error) {
		if err := m.temporalPause(ctx, id, pauseNote("paused", owner, reason)); err != nil {
			return dbgen.Schedule{}, err
		}
		return q.SchedulePause(ctx, dbgen.SchedulePauseParams{ID: id, PausedBy: &owner.UserID, PauseReason: optional(reason)})
	})
}

// Resume restarts runs and recomputes next_run_at. Resuming an active
// schedule changes nothing.
func (m *Manager) Resume(ctx context.Context, owner Owner, id uuid.UUID, reason string) (Schedule, error) {
	return m.transition(ctx, owner, id, "resume schedule", StatusActive, func(q *dbgen.Queries, s Schedule) (dbgen.Schedule, error) {
		cron, err := ParseCron(s.CronExpression, s.Timezone)
		if err != nil {
			return dbgen.Schedule{}, fmt.Errorf("stored cron of schedule %s: %w", id, err)
		}
		now := m.now()
		// A schedule paused for long may hold a spec compiled for a past
		// horizon: it gets a fresh one as it is unpaused.
		spec := cron.TemporalSpec(now)
		if err := m.temporalUpdate(ctx, s, &spec, false, pauseNote("resumed", owner, reason)); err != nil {
			return dbgen.Schedule{}, err
		}
		if err := recordSpecRefresh(ctx, q, id, cron, now); err != nil {
			return dbgen.Schedule{}, err
		}
		next := cron.Next(now)
		return q.ScheduleResume(ctx, dbgen.ScheduleResumeParams{ID: id, ResumedBy: &owner.UserID, ResumeReason: optional(reason), NextRunAt: &next})
	})
}

func (m *Manager) transition(ctx context.Context, owner Owner, id uuid.UUID, op string, to Status,
	apply func(*dbgen.Queries, Schedule) (dbgen.Schedule, error)) (Schedule, error) {
	var out Schedule
	err := m.inTx(ctx, op, func(q *dbgen.Queries) error {
		row, err := q.ScheduleGetByOwnerForUpdate(ctx, dbgen.ScheduleGetByOwnerForUpdateParams{ID: id, TenantID: owner.TenantID, UserID: owner.UserID})
		if err != nil {
			return dbErr("get schedule", err)
		}
		if Status(row.Status) != to {
			current, err := scheduleFromRow(row)
			if err != nil {
				return err
			}
			if row, err = apply(q, current); err != nil {
				return dbErr(op, err)
			}
		}
		out, err = scheduleFromRow(row)
		return err
	}, nil)
	return out, err
}

// Delete soft-deletes the schedule and removes its Temporal schedule; its
// history stays. Afterwards the schedule reads as ErrNotFound.
func (m *Manager) Delete(ctx context.Context, owner Owner, id uuid.UUID) error {
	return m.inTx(ctx, "delete schedule", func(q *dbgen.Queries) error {
		if _, err := q.ScheduleGetByOwnerForUpdate(ctx, dbgen.ScheduleGetByOwnerForUpdateParams{ID: id, TenantID: owner.TenantID, UserID: owner.UserID}); err != nil {
			return dbErr("get schedule", err)
		}
		if err := m.temporalDelete(ctx, id); err != nil {
			return err
		}
		return dbErr("delete schedule", q.ScheduleSoftDelete(ctx, id))
	}, nil)
}

// Runs returns one page of the schedule's execution history, newest first.
// Returns ErrNotFound when the schedule is not the owner's.
func (m *Manager) Runs(ctx context.Context, owner Owner, id uuid.UUID, p PageRequest) (Page[Run], error) {
	s, err := m.Get(ctx, owner, id)
	if err != nil {
		return Page[Run]{}, err
	}
	limit := int32(p.PageSize + 1)
	var rows []dbgen.VScheduleExecutionHistory
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor)
		if err != nil {
			return Page[Run]{}, err
		}
		rows, err = m.q.RunHistoryListByScheduleAfter(ctx, dbgen.RunHistoryListByScheduleAfterParams{
			ScheduleID: id, AfterTriggeredAt: c.At, AfterID: c.ID, PageSize: limit,
		})
		if err != nil {
			return Page[Run]{}, dbErr("list runs", err)
		}
	} else {
		rows, err = m.q.RunHistoryListBySchedule(ctx, dbgen.RunHistoryListByScheduleParams{
			ScheduleID: id, PageSize: limit, PageOffset: pageOffset(p),
		})
		if err != nil {
			return Page[Run]{}, dbErr("list runs", err)
		}
	}
	// The total is the schedule's maintained counter: no COUNT over history.
	page, err := pageOf(rows, p, s.TotalRuns,
		func(r dbgen.VScheduleExecutionHistory) (Run, error) { return runFromRow(r), nil },
		func(r Run) cursor { return cursor{At: r.TriggeredAt, ID: r.ID} })
	page.Schedule = &s
	return page, err
}

// ErrRunNotFound is returned by Run when the schedule has no such run.
var ErrRunNotFound = fmt.Errorf("run: %w", ErrNotFound)

// Run returns one run of the owner's schedule with its attempts. Returns
// ErrNotFound when the schedule is not the owner's and ErrRunNotFound when
// the run is not the schedule's.
func (m *Manager) Run(ctx context.Context, owner Owner, scheduleID, runID uuid.UUID) (RunDetail, error) {
	if _, err := m.Get(ctx, owner, scheduleID); err != nil {
		return RunDetail{}, err
	}
	row, err := m.q.RunHistoryGetBySchedule(ctx, dbgen.RunHistoryGetByScheduleParams{ScheduleID: scheduleID, ID: runID})
	if errors.Is(err, pgx.ErrNoRows) {
		return RunDetail{}, ErrRunNotFound
	}
	if err != nil {
		return RunDetail{}, dbErr("get run", err)
	}
	return runDetailFromRow(row)
}

// inTx runs fn in a transaction. afterCommitFailure, when set, undoes
// external effects fn made if the commit itself fails.
func (m *Manager) inTx(ctx context.Context, op string, fn func(*dbgen.Queries) error, afterCommitFailure func()) error {
	tx, err := m.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return dbErr(op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after commit
	if err := fn(m.q.WithTx(tx)); err != nil {
		var verr *problem.Error
		if errors.As(err, &verr) || errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		if afterCommitFailure != nil {
			afterCommitFailure()
		}
		return dbErr(op+": commit", err)
	}
	return nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func pauseNote(verb string, owner Owner, reason string) string {
	note := fmt.Sprintf("%s by user %s", verb, owner.UserID)
	if reason != "" {
		note += ": " + reason
	}
	return note
}
